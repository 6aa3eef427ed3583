"""The min-max normalisation of anomaly scores (DGAD eq 16), for every method's scores.

Its range is the test split's, stored with the run, so that an image's normalised score does
not depend on the other images it is scored with.
"""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Normalisation:
    """Eq 16's min-max scaling, with the minimum and maximum of the test split's raw scores."""

    minimum: float
    maximum: float

    @classmethod
    def fit(cls, raw_scores: np.ndarray) -> "Normalisation":
        raw_scores = np.asarray(raw_scores, np.float64)
        if not np.all(np.isfinite(raw_scores)):
            raise ValueError(f"{np.count_nonzero(~np.isfinite(raw_scores))} anomaly scores are NaN or infinite; "
                             "the model is broken (diverged training?)")
        return cls(float(raw_scores.min()), float(raw_scores.max()))

    def __call__(self, raw_scores) -> np.ndarray:
        """Eq 16 over the stored range: the test split's scores land in [0, 1], new images may fall outside."""
        return self.scale(np.asarray(raw_scores, np.float64))

    def scale(self, raw_scores):
        """__call__ for float64 arrays or tensors alike (an exported model computes it in its graph)."""
        spread = self.maximum - self.minimum
        return (raw_scores - self.minimum) / spread if spread > 0 else raw_scores * 0.0

    def raw(self, normalised: float) -> float:
        """The raw score whose normalised score is `normalised`."""
        return self.minimum + normalised * (self.maximum - self.minimum)


def min_max_normalise(scores: np.ndarray) -> np.ndarray:
    """Eq 16: (s - min s) / (max s - min s) over the test set; all zeros when every score is equal."""
    return Normalisation.fit(scores)(scores)
