"""The min-max normalisation of anomaly scores over a test set (DGAD eq 16), for every method's scores."""

import numpy as np


def min_max_normalise(scores: np.ndarray) -> np.ndarray:
    """Eq 16: (s - min s) / (max s - min s) over the test set; all zeros when every score is equal."""
    scores = np.asarray(scores, np.float64)
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"{np.count_nonzero(~np.isfinite(scores))} anomaly scores are NaN or infinite; "
                         "the model is broken (diverged training?)")
    spread = scores.max() - scores.min()
    return (scores - scores.min()) / spread if spread > 0 else np.zeros_like(scores)
