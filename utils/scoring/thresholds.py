"""The decision an anomaly score leads to: a stored threshold, how it was chosen, and how good it is.

An image is anomalous when its raw anomaly score is at or above the threshold. The threshold is
chosen once, by the test phase, and stored with the run:
- a threshold given by the user (--threshold, on the normalised scale of eq 16) comes first;
- with a validation split (--val_fraction: normal training images held out of training), the
  (1 - target_fpr) quantile of its scores, so that about target_fpr of new normal images are
  flagged; the test split is then only measured, never fitted on;
- without one, when the test split has anomalies, the threshold that maximises F1 (anomalous =
  positive) on it: an oracle, chosen on the very images and labels it is then measured on, so its
  F1 is an upper bound of what new images will see;
- when the test split holds normal images only, the NORMAL_PERCENTILE-th percentile of their
  scores. Never the minimum: that flags every image.
The test-split thresholds lie halfway between the lowest score they flag and the next lower one.
"""

import dataclasses

import numpy as np

from utils.scoring.normalise import Normalisation

NORMAL_PERCENTILE = 95.0
# A validation split smaller than this sets no threshold: its quantile would rest on a handful of images. Below
# 1 / target_fpr images the quantile lies between the highest scores, and the expected false-positive rate
# stored with the threshold (measured on these images) says how coarse it is.
MINIMUM_VALIDATION_IMAGES = 10


@dataclasses.dataclass(frozen=True)
class Threshold:
    """A decision threshold on the raw anomaly score and the rule that chose it."""

    raw: float
    normalised: float
    chosen_by: str

    @classmethod
    def given(cls, normalisation: Normalisation, normalised: float) -> "Threshold":
        """The threshold a user sets with --threshold, on the normalised scale."""
        return cls(normalisation.raw(normalised), float(normalised), "given (--threshold)")

    def flags(self, raw_scores) -> np.ndarray:
        """True for every image at or above the threshold: the anomalous ones."""
        return np.asarray(raw_scores, np.float64) >= self.raw


def between_scores(raw_scores: np.ndarray, lowest_flagged: float) -> float:
    """A threshold that flags exactly the scores >= lowest_flagged, halfway to the next lower score, so that
    a score computed again in another graph (an export, 1e-7 off) lands on the same side of it."""
    lower = raw_scores[raw_scores < lowest_flagged]
    if lower.size:
        return float((lowest_flagged + lower.max()) / 2)
    higher = raw_scores[raw_scores > lowest_flagged]
    gap = float(higher.min() - lowest_flagged) if higher.size else max(abs(lowest_flagged), 1.0)
    return lowest_flagged - gap / 2


def f1_optimal_threshold(anomaly_labels, raw_scores) -> float:
    """The score at or above which images called anomalous give the highest F1 on these labels."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(np.asarray(anomaly_labels), np.asarray(raw_scores))
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    # The curve's last point (recall 0) has no threshold.
    return float(thresholds[int(np.argmax(f1[:-1]))])


ORACLE_RULE = "F1-optimal on the test split (an oracle: fitted on the test labels)"


def validation_threshold(validation_scores, target_fpr: float, normalisation: Normalisation) -> Threshold:
    """The (1 - target_fpr) quantile of the held-out normal images' scores: about target_fpr of new normal
    images score at or above it."""
    raw = float(np.quantile(np.asarray(validation_scores, np.float64), 1 - target_fpr))
    return Threshold(raw, float(normalisation(raw)),
                     f"{1 - target_fpr:g} quantile of the validation images' scores (--target_fpr {target_fpr:g})")


def choose_threshold(anomaly_labels, raw_scores, normalisation: Normalisation, given: float | None = None,
                     percentile: float = NORMAL_PERCENTILE, validation_scores=None,
                     target_fpr: float | None = None) -> Threshold:
    """The test phase's threshold: `given` (normalised), else the validation split's quantile, else F1-optimal
    on the test split, else the normal test images' percentile."""
    labels = np.asarray(anomaly_labels)
    raw_scores = np.asarray(raw_scores, np.float64)
    if given is not None:
        return Threshold.given(normalisation, given)
    if validation_scores is not None:
        return validation_threshold(validation_scores, target_fpr, normalisation)
    if labels.any():
        raw = between_scores(raw_scores, f1_optimal_threshold(labels, raw_scores))
        rule = ORACLE_RULE
    else:
        percentile_score = float(np.percentile(raw_scores, percentile))
        flagged = raw_scores[raw_scores >= percentile_score]
        if flagged.size == raw_scores.size:
            # Scores tied at the bottom: at the minimum, `>=` would flag every image; flag those above it (none
            # when every score is equal).
            flagged = raw_scores[raw_scores > percentile_score]
        raw = between_scores(raw_scores, float(flagged.min())) if flagged.size else float(raw_scores.max()) + 1.0
        rule = f"{percentile:g}th percentile of the held-out normal test images' scores"
    return Threshold(raw, float(normalisation(raw)), rule)


def decision_metrics(anomaly_labels, flags) -> dict:
    """Precision, recall and F1 of the decisions (None where undefined), the share of images flagged, and
    f1_flag_all, the F1 of flagging every image: the floor an F1 must beat to mean anything (in one-vs-all
    nine test images in ten are anomalies, and flagging all of them gives an F1 of 0.95)."""
    labels = np.asarray(anomaly_labels).astype(bool)
    flags = np.asarray(flags, bool)
    true_positives = int(np.count_nonzero(labels & flags))
    precision = true_positives / int(flags.sum()) if flags.any() else None
    recall = true_positives / int(labels.sum()) if labels.any() else None
    # 2TP / (2TP + FP + FN): 0 when nothing is flagged rightly, undefined only without anomalies.
    f1 = 2 * true_positives / (int(flags.sum()) + int(labels.sum())) if labels.any() else None
    share = float(labels.mean())
    return {"precision": precision, "recall": recall, "f1": f1, "f1_flag_all": 2 * share / (1 + share) if share else None,
            "flagged_fraction": float(flags.mean()),
            "false_positive_rate": float(flags[~labels].mean()) if (~labels).any() else None}
