"""Anomaly scores: DGAD's reconstruction score s_rec (eq 15) and its min-max normalisation (eq 16).

Higher means more anomalous. The L1 norms are means over elements, as in the losses, so the
image term and the latent term keep the paper's weighting lambda_s = 10 at any image size.
"""

import numpy as np

LAMBDA_S = 10.0


def reconstruction_score(image_error: np.ndarray, latent_error: np.ndarray, lambda_s: float = LAMBDA_S) -> np.ndarray:
    """Eq 15: s_rec = |x - x^|_1 + lambda_s |z - z^|_1, from the per-image errors of DGAD.predict()."""
    return np.asarray(image_error, np.float64) + lambda_s * np.asarray(latent_error, np.float64)


def min_max_normalise(scores: np.ndarray) -> np.ndarray:
    """Eq 16: (s - min s) / (max s - min s) over the test set; all zeros when every score is equal."""
    scores = np.asarray(scores, np.float64)
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"{np.count_nonzero(~np.isfinite(scores))} anomaly scores are NaN or infinite; "
                         "the model is broken (diverged training?)")
    spread = scores.max() - scores.min()
    return (scores - scores.min()) / spread if spread > 0 else np.zeros_like(scores)
