"""What a tested class leaves for scoring new images: detector.json beside its checkpoints.

The test phase stores, per score, eq 16's normalisation range, the decision threshold and what
the score learned from the training images (ScoreResult.fitted), with the image geometry the
model was trained on. With a validation split, the normalisation and the threshold come from its
scores, so a normalised score means the same for every new image. Predicting and exporting read only this file, the config.json and the
checkpoint: neither needs the dataset.
"""

import dataclasses
import json
from pathlib import Path

from utils.reporting.files import write_text_atomically
from utils.scoring.normalise import Normalisation
from utils.scoring.thresholds import Threshold

DETECTOR_FILE = "detector.json"


@dataclasses.dataclass(frozen=True)
class ScoreState:
    """One score's stored state: its normalisation, its threshold, what it fitted, the scoring settings used, and
    the share of normal images its threshold flagged on held-out normal images (predict's alarm-rate check)."""

    normalisation: Normalisation
    threshold: Threshold
    fitted: dict
    scoring_settings: dict
    expected_false_positive_rate: float | None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, saved: dict) -> "ScoreState":
        return cls(Normalisation(**saved["normalisation"]), Threshold(**saved["threshold"]), saved["fitted"],
                   saved["scoring_settings"], saved["expected_false_positive_rate"])


@dataclasses.dataclass(frozen=True)
class DetectorState:
    """A tested class: its name, the shape of its dataset's images as loaded (source_shape) and as the model
    takes them (image_shape), the iterations it was trained for, and the state of each tested score."""

    class_name: str
    source_shape: tuple[int, int, int]
    image_shape: tuple[int, int, int]
    trained_iterations: int
    scores: dict[str, ScoreState]

    def with_scores(self, scores: dict[str, ScoreState]) -> "DetectorState":
        """This state with the scores of `scores` stored (replacing those of the same names)."""
        return dataclasses.replace(self, scores={**self.scores, **scores})

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "scores": {name: state.to_dict() for name, state in self.scores.items()}}

    @classmethod
    def from_dict(cls, saved: dict) -> "DetectorState":
        return cls(saved["class_name"], tuple(saved["source_shape"]), tuple(saved["image_shape"]),
                   saved["trained_iterations"],
                   {name: ScoreState.from_dict(state) for name, state in saved["scores"].items()})


def save_detector_state(folder: Path, state: DetectorState) -> Path:
    path = Path(folder) / DETECTOR_FILE
    write_text_atomically(path, json.dumps(state.to_dict(), indent=2) + "\n")
    return path


def load_detector_state(folder: Path) -> DetectorState | None:
    """The state saved in folder, or None if the class was never tested."""
    path = Path(folder) / DETECTOR_FILE
    return DetectorState.from_dict(json.loads(path.read_text())) if path.exists() else None
