"""What every method provides: the one interface through which the generic program knows a method.

A method is a package under models/ (its networks, the keras.Model whose train_step trains them,
its scores) and one Method object, listed in models/registry.py. The configuration, the
experiment, the runner, the pre-flight checks and the reports ask that object and branch on no
method; only the papers' own tables and the DGAD vs AD-CGAN comparison name their methods.
"""

import abc
import dataclasses
import functools
from typing import Any, NamedTuple

import keras
import numpy as np

from utils.reporting.reported_row import ReportedRow


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


class Flag(NamedTuple):
    """A command-line flag of a method's own setting (--name, a Config field); the CLI adds it with default None,
    and the Config checks its range."""

    name: str
    type: type
    help: str
    choices: tuple | None = None


class Method(abc.ABC):
    """The interface; models/dgad/method.py and models/adcgan/method.py implement it.

    Class attributes:
        name, title: the --method value and the name printed in tables ("dgad", "DGAD").
        score_choices: each --score value and the scores a test then computes.
        score_help: what each --score value means, for --help.
        own_fields: the Config fields of this method's own (None in the config of a method that does not list
            them too; epochs is DGAD's and AD-CGAN's, each reading it its own way).
        training_fields: the Config fields that change a trained model; a saved run is refused when one differs.
        scoring_fields: the Config fields that change scores but not training; results are re-scored when one
            differs.
        defaults: the method's paper settings, for every Config field it leaves None.
        derived_from: the fields `resolve` derives, each with the fields it is derived from.
        choices: the allowed values of its own fields that take one of a few.
        dataset_defaults: per dataset, the settings where a paper departs from the defaults.
        run_flags: the flags that name a run, for the message that says how to train a missing one.
        flags: the command-line flags of the method's own settings, shown as one group in --help.
    """

    name: str
    title: str
    score_choices: dict[str, tuple[str, ...]]
    score_help: str
    own_fields: tuple[str, ...]
    training_fields: tuple[str, ...]
    scoring_fields: tuple[str, ...]
    defaults: dict[str, Any]
    derived_from: dict[str, tuple[str, ...]] = {}
    choices: dict[str, tuple] = {}
    dataset_defaults: dict[str, dict[str, Any]]
    run_flags: str
    flags: tuple[Flag, ...] = ()

    def dataset_settings(self, dataset: str, given: dict) -> dict:
        """The paper settings for `dataset` that the settings `given` by the user do not replace."""
        return dict(self.dataset_defaults.get(dataset, {}))

    def resolve(self, settings: dict) -> dict:
        """The settings with everything derived from others made concrete (e.g. a variant's padding), so that
        config.json records what was used. `settings` has every field; raise ValueError for a contradiction."""
        return settings

    def upgrade_saved(self, saved: dict) -> dict:
        """A config.json written by an earlier version of the program, in today's fields and meanings."""
        return saved

    def check_image_shape(self, image_shape: tuple[int, int, int]) -> None:
        """Raise ValueError, naming the fix, if the networks cannot take images of this shape."""

    @abc.abstractmethod
    def run_name_parts(self, config) -> list[str]:
        """The parts of the run folder's name, from the settings that change the model."""

    def schedule(self, config, train_size: int) -> Schedule:
        """The training length of a class whose training set has train_size images."""
        return Schedule(config.iterations)

    @abc.abstractmethod
    def build(self, config, image_shape: tuple[int, int, int]) -> keras.Model:
        """The compiled model of config for images of a shape check_image_shape accepts: its train_step trains
        it, `iterations` counts its steps and checkpoint_objects() holds what resumes it. Initialisation is
        fixed by config.seed."""

    def start_class(self, model: keras.Model, schedule: Schedule) -> None:
        """Prepare a freshly initialised (or restored) model to train one class for `schedule`."""

    @abc.abstractmethod
    def parameter_summary(self, model: keras.Model) -> str:
        """A one-line summary of the model's parameter counts, printed when it is built."""

    @abc.abstractmethod
    def scorer(self, model: keras.Model, config):
        """The scores of a trained model, its passes compiled once, so one scorer serves every class of an
        experiment. It has two methods:

        score(images: ScoringImages, scores, fitted=None) -> {score: ScoreResult}; with `fitted` ({score:
            ScoreResult.fitted} of a stored run) a score reuses what it learned instead of reading images.train.
        serving_scores(scores, fitted) -> a function of a batch of model-ready images (a float tensor) that
            returns {score: the raw anomaly scores (B,)} in TensorFlow ops only, for an exported model.
        """

    def paper_row(self, dataset: str, config, score: str) -> ReportedRow | None:
        """The row of the method's paper for a run of config on `dataset` with `score`, or None."""
        return None

    def run_label(self, config) -> str:
        """A short name of a run in progress messages."""
        return self.title

    def score_label(self, config, score: str) -> str:
        """The name of a (run, score) row in a comparison table."""
        return f"{self.title} (s_{score})"

    @abc.abstractmethod
    def budget_text(self, config) -> str:
        """One line of the settings a comparison table ran this method at."""


def adam(config, learning_rate: float | None = None) -> keras.optimizers.Adam:
    """Adam at config's learning rate (or `learning_rate`) and betas: every optimiser of both papers."""
    return keras.optimizers.Adam(learning_rate or config.learning_rate, beta_1=config.beta_1, beta_2=config.beta_2)
