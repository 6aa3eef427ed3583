"""One score of one tested class, from its raw scores to what a person acts on: the normalised
scores, the stored threshold and its decisions, and the anomaly maps its overlays show."""

import dataclasses
from pathlib import Path

import numpy as np
import tensorflow as tf

from data.pipeline import to_source_geometry
from utils.reporting.reports import OVERLAY_FIGURES
from utils.scoring.maps import MapPass
from utils.scoring.normalise import Normalisation
from utils.scoring.thresholds import Threshold, choose_threshold, decision_metrics

# How many of the most (and of the least) anomalous test images an overlay figure shows.
OVERLAY_IMAGES = 4


@dataclasses.dataclass(frozen=True)
class ScoreDecision:
    """One score's normalisation and threshold, the test split's decisions and how good they are, and the
    share of normal images the threshold is expected to flag (expected_false_positive_rate, measured on the
    held-out normal images: the validation split, else the normal test images)."""

    normalisation: Normalisation
    threshold: Threshold
    normalised_scores: np.ndarray
    flags: np.ndarray
    metrics: dict
    expected_false_positive_rate: float | None


def decide(raw_scores: np.ndarray, anomaly_labels: np.ndarray, given_threshold: float | None, percentile: float,
           validation_scores: np.ndarray | None = None, target_fpr: float | None = None) -> ScoreDecision:
    """Normalise the raw scores (eq 16), choose the threshold and measure its decisions on the test split.

    With validation_scores (the held-out normal images'), the normalisation and the threshold are fitted on
    them alone; the test split's F1-optimal threshold is then reported beside, as the oracle it is.
    """
    labels = np.asarray(anomaly_labels)
    normalisation = Normalisation.fit(raw_scores)
    if validation_scores is not None:
        # Equal validation scores span no range: the test split's then keeps the scale defined.
        fitted = Normalisation.fit(validation_scores)
        normalisation = fitted if fitted.maximum > fitted.minimum else normalisation
    threshold = choose_threshold(labels, raw_scores, normalisation, given_threshold, percentile, validation_scores,
                                 target_fpr)
    flags = threshold.flags(raw_scores)
    metrics = {"threshold": dataclasses.asdict(threshold), **decision_metrics(labels, flags)}
    if validation_scores is not None:
        metrics["target_false_positive_rate"] = target_fpr
        if labels.any() and not labels.all():
            oracle = choose_threshold(labels, raw_scores, normalisation)
            metrics["oracle"] = {"threshold": dataclasses.asdict(oracle),
                                 **decision_metrics(labels, oracle.flags(raw_scores))}
    held_out_normal = (np.asarray(validation_scores, np.float64) if validation_scores is not None
                       else np.asarray(raw_scores, np.float64)[labels == 0])
    expected = float(threshold.flags(held_out_normal).mean()) if held_out_normal.size else None
    return ScoreDecision(normalisation, threshold, normalisation(raw_scores), flags, metrics, expected)


def overlay_selection(raw_scores: np.ndarray, count: int = OVERLAY_IMAGES) -> dict[str, np.ndarray]:
    """{figure name (OVERLAY_FIGURES): indices} of the test images each overlay shows: the `count` most
    anomalous, then the `count` least anomalous."""
    raw_scores = np.asarray(raw_scores)
    count = min(count, len(raw_scores))
    most, least = OVERLAY_FIGURES
    return {most: np.argsort(-raw_scores, kind="stable")[:count], least: np.argsort(raw_scores, kind="stable")[:count]}


def overlay_captions(indices, raw_scores, normalised_scores, flags, anomaly_labels, paths) -> list[str]:
    """One line per shown image: its test index (or file), its scores, the decision and the truth."""
    captions = []
    for index in indices:
        name = Path(paths[index]).name if paths is not None else f"test image {index}"
        truth = "anomalous" if anomaly_labels[index] else "normal"
        decision = "flagged" if flags[index] else "not flagged"
        captions.append(f"{name}: score {raw_scores[index]:.4g} (normalised {normalised_scores[index]:.3f}), "
                        f"{decision}; truly {truth}")
    return captions


class ClassMaps:
    """The reconstructions and anomaly maps of a class's test images, at the geometry of its images as loaded
    (source_images), computed when first asked for."""

    def __init__(self, map_pass: MapPass, model_images, source_images: np.ndarray):
        self.map_pass = map_pass
        self.model_images = model_images
        self.source_shape = source_images.shape[1:3]
        self._all = None

    def of(self, indices) -> tuple[np.ndarray, np.ndarray]:
        """(reconstructions in [0, 1], anomaly maps) of the test images at `indices`."""
        reconstructions, maps = self.map_pass(tf.gather(self.model_images, indices))
        return (to_source_geometry((reconstructions + 1.0) / 2.0, *self.source_shape).clip(0.0, 1.0),
                to_source_geometry(maps, *self.source_shape))

    def all(self) -> np.ndarray:
        if self._all is None:
            self._all = to_source_geometry(self.map_pass(self.model_images)[1], *self.source_shape)
        return self._all
