"""DGAD's reconstruction score s_rec (eq 15), a pure function of the per-image errors.

Higher means more anomalous. The L1 norms are means over elements, as in the losses, so the image
term and the latent term keep the paper's weighting lambda_s = 10 at any image size.
"""

import numpy as np

LAMBDA_S = 10.0


def reconstruction_score(image_error: np.ndarray, latent_error: np.ndarray, lambda_s: float = LAMBDA_S) -> np.ndarray:
    """Eq 15: s_rec = |x - x^|_1 + lambda_s |z - z^|_1, from the per-image errors of DGAD.reconstruction_errors()."""
    return np.asarray(image_error, np.float64) + lambda_s * np.asarray(latent_error, np.float64)
