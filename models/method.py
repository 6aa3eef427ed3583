"""The method contract: everything the generic program calls on a method and its scorer.

A method is a package under models/ with three parts, and one line in models/registry.py:
- a Method object (below): its settings dataclass, defaults, run name, model and scorer;
- a DetectorModel (models/detector_model.py), the keras.Model whose train_step trains its networks;
- a Scorer (below): the anomaly scores of a trained model, as ScoreResults.
The configuration, the experiment, the runner, the pre-flight checks and the reports ask these and
branch on no method.
"""

import abc
import dataclasses
import functools
from typing import Any, Callable, NamedTuple, Protocol

import keras
import numpy as np
import tensorflow as tf

from models.detector_model import DetectorModel
from models.settings import TRAINING, MethodSettings
from utils.reporting.reported_row import ReportedRow

# The shared settings that name a run besides a method's own (Config.run_id).
RUN_NAMING_FLAGS = ("width", "iterations", "batch_size", "seed")
# The metrics every score reports (ScoreResult.metrics); the test phase prints and summarises them.
REQUIRED_METRICS = ("images_per_second",)


class Schedule(NamedTuple):
    """How long one class trains: iterations in all, of which the first warmup_iterations are a warm-up."""

    iterations: int
    warmup_iterations: int = 0


class ScoringImages:
    """What a score may look at: the model-ready test images, the class's normal training images and which
    test images are normal (for diagnostics such as s_dir's discriminator accuracy, never for the score).

    `train` may be given as a function that returns the images: it is then called only when they are first
    read (by s_dir, and by the classical floors of a test phase; an all-vs-one CIFAR-10 training set is half a
    gigabyte as model input).
    """

    def __init__(self, test, train, test_is_normal: np.ndarray):
        self.test = test
        self.test_is_normal = test_is_normal
        self._train = train

    @functools.cached_property
    def train(self):
        return self._train() if callable(self._train) else self._train


@dataclasses.dataclass(frozen=True)
class ScoreResult:
    """One score over the test images: anomaly_scores (higher = more anomalous), the per-image columns
    written beside them, the metrics (speed, diagnostics) written to metrics.json, and `fitted`: what the
    score learned from the normal training images (JSON-able; DGAD's s_dir: its Dirichlet parameters),
    stored with the run so that new images are scored without the training images. A learning curve
    (--eval_every) follows the AUC of each of the `parts` (columns that are anomaly scores on their own,
    higher = more anomalous) and the value of each of the `diagnostics` (scalar metrics)."""

    anomaly_scores: np.ndarray
    columns: dict[str, np.ndarray]
    metrics: dict
    fitted: dict = dataclasses.field(default_factory=dict)
    parts: tuple[str, ...] = ()
    diagnostics: tuple[str, ...] = ()

    def __post_init__(self):
        missing = [name for name in REQUIRED_METRICS if name not in self.metrics]
        if missing:
            raise ValueError(f"a ScoreResult's metrics must hold {', '.join(missing)}")


class Scorer(Protocol):
    """The scores of one trained model, its passes compiled once, so that one scorer serves every class."""

    def score(self, images: ScoringImages, scores: tuple[str, ...], fitted: dict | None = None
              ) -> dict[str, ScoreResult]:
        """{score: ScoreResult} over images.test; with `fitted` ({score: ScoreResult.fitted} of a stored run) a
        score reuses what it learned instead of reading images.train."""

    def serving_scores(self, scores: tuple[str, ...], fitted: dict) -> Callable[[tf.Tensor], dict[str, tf.Tensor]]:
        """A function of a batch of model-ready images that returns {score: raw anomaly scores (B,)} in
        TensorFlow ops only, for an exported model."""


class Method(abc.ABC):
    """What the generic program knows of a method; models/<method>/method.py implements it.

    Class attributes:
        name, title, description: the --method value, the name printed in tables ("dgad", "DGAD"), and one
            line for --method's help.
        settings: the method's own settings dataclass (models/settings.py); a Config holds one.
        score_choices: each --score value and the scores a test then computes.
        score_help: what each --score value means, for --help.
        defaults: the method's paper values of the shared Config fields it leaves None (score, batch_size,
            learning_rate, jit_compile); its own settings' defaults are in `settings`.
        derived_from: the settings `resolve` derives, each with the settings it is derived from.
        dataset_defaults: per dataset, the settings where a paper departs from the defaults.
    """

    name: str
    title: str
    description: str
    settings: type[MethodSettings]
    score_choices: dict[str, tuple[str, ...]]
    score_help: str
    defaults: dict[str, Any]
    derived_from: dict[str, tuple[str, ...]] = {}
    dataset_defaults: dict[str, dict[str, Any]] = {}

    def dataset_settings(self, dataset: str, given: dict) -> dict:
        """The paper settings for `dataset` that the settings `given` by the user do not replace."""
        return dict(self.dataset_defaults.get(dataset, {}))

    def resolve(self, settings: dict) -> dict:
        """Every setting (shared and own, flat) with those derived from others made concrete, so that config.json
        records what was used; raise ValueError for a contradiction."""
        return settings

    def check_image_shape(self, image_shape: tuple[int, int, int]) -> None:
        """Raise ValueError, naming the fix, if the networks cannot take images of this shape."""

    @abc.abstractmethod
    def run_name_parts(self, config) -> list[str]:
        """The parts of the run folder's name, from the settings that change the model."""

    def schedule(self, config, train_size: int) -> Schedule:
        """The training length of a class whose training set has train_size images."""
        return Schedule(config.iterations)

    @abc.abstractmethod
    def build(self, config, image_shape: tuple[int, int, int]) -> DetectorModel:
        """The compiled model of config for images of a shape check_image_shape accepts; initialisation is fixed
        by config.seed."""

    def start_class(self, model: DetectorModel, schedule: Schedule) -> None:
        """Prepare a freshly initialised (or restored) model to train one class for `schedule`."""

    @abc.abstractmethod
    def parameter_summary(self, model: DetectorModel) -> str:
        """A one-line summary of the model's parameter counts, printed when it is built."""

    @abc.abstractmethod
    def scorer(self, model: DetectorModel, config) -> Scorer:
        """The scorer of a trained model."""

    def paper_row(self, dataset: str, config, score: str) -> ReportedRow | None:
        """The row of the method's paper for a run of config on `dataset` with `score`, or None."""
        return None

    def run_label(self, config) -> str:
        """A short name of a run in progress messages."""
        return self.title

    def score_label(self, config, score: str) -> str:
        """The name of a (run, score) row in a comparison table."""
        return f"{self.title} (s_{score})"

    @property
    def comparison_scores(self) -> tuple[str, ...]:
        """The scores reproduce.py's comparison table shows of this method: its default --score's."""
        return self.score_choices[self.defaults["score"]]

    def run_flags(self) -> str:
        """The flags that name a run, for the message that says how to train a missing one."""
        return "/".join(f"--{name}" for name in RUN_NAMING_FLAGS + self.settings.names(TRAINING))

    @abc.abstractmethod
    def budget_text(self, config) -> str:
        """One line of the settings a comparison table ran this method at."""


def adam(config, learning_rate: float | None = None) -> keras.optimizers.Adam:
    """Adam at config's learning rate (or `learning_rate`) and betas: every optimiser of both papers."""
    return keras.optimizers.Adam(learning_rate or config.learning_rate, beta_1=config.beta_1, beta_2=config.beta_2)
