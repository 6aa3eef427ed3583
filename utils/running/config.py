"""The one configuration of a run, its defaults (the paper's settings) and its on-disk form.

Every run folder (results and checkpoints) holds a config.json written from this dataclass, so
every figure can be traced to the settings that produced it.
"""

import dataclasses
import json
import math
import numbers
import os
from pathlib import Path

from data.pipeline import SCHEMES
from data.sources import DATASET_NAMES, DATASETS_WITHOUT_FILES
from models.registry import METHODS, get_method
from utils.reporting.files import write_text_atomically
from utils.running.devices import DISTRIBUTIONS, PRECISIONS
from utils.scoring.thresholds import NORMAL_PERCENTILE


def _is_integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


# Each numeric setting's allowed values (None: the method's default, filled in first), as a test and
# as the words that tell the user what to pass. NaN fails every comparison, so it is refused too.
SETTING_RANGES = (
    (("width", "image_size", "batch_size", "iterations", "checkpoint_every", "eval_every", "latent_size", "epochs",
      "latent_channels"),
     lambda value: _is_integer(value) and value > 0, "a positive integer"),
    (("warmup_epochs",), lambda value: _is_integer(value) and value >= 0, "0 or a positive integer"),
    (("seed",), lambda value: _is_integer(value) and 0 <= value < 2**32, "an integer from 0 to 2**32 - 1"),
    (("learning_rate", "autoencoder_learning_rate"), lambda value: 0 < value < math.inf, "greater than 0"),
    (("beta_1", "beta_2", "max_zoom"), lambda value: 0 <= value < 1, "in [0, 1)"),
    (("lambda_cls", "lambda_rec", "lambda_cmp", "lambda_s"), lambda value: 0 <= value < math.inf, "0 or more"),
    (("ns_lambda", "ns_rho"), lambda value: 0 <= value <= 1, "in [0, 1]"),
    (("threshold",), lambda value: -math.inf < value < math.inf, "a finite number"),
    (("threshold_percentile",), lambda value: 0 < value < 100, "in (0, 100)"),
)
# The settings that change decisions, not scores: a tested class is decided again when one differs.
DECISION_FIELDS = ("threshold", "threshold_percentile")


@dataclasses.dataclass(frozen=True)
class Config:
    """Settings of one experiment, as used: every None is filled in when the config is made.

    The settings shared by every method come first. The rest belong to one method each (its
    own_fields, models/<method>/method.py) and stay None in another method's config. None means
    the paper's setting: the method's `defaults`, or those `resolve` derives from other settings
    (a DGAD variant's padding, CoordConv, restoration and lambda_cmp; AD-CGAN's epochs per scheme).
    """

    method: str = "dgad"
    score: str | None = None
    dataset: str = "cifar10"
    data_dir: str | None = None
    scheme: str = "one_vs_all"
    width: int = 64
    image_size: int = 32
    max_zoom: float = 0.0
    batch_size: int | None = None
    # The length: iterations, or None to train for the method's (or the dataset's) epochs instead.
    iterations: int | None = None
    learning_rate: float | None = None
    beta_1: float = 0.5
    beta_2: float = 0.999
    seed: int = 0
    # XLA for the training step and the scoring passes; None: the method's default (models/<method>/method.py).
    jit_compile: bool | None = None
    # Where the model trains (utils/running/devices.py): the tf.distribute strategy and the layers' precision.
    distribute: str = "none"
    precision: str = "float32"
    checkpoint_every: int = 1000
    # Score the test split every this many iterations into a learning curve (utils/running/learning_curve.py).
    eval_every: int | None = None
    results_dir: str = "results"
    checkpoint_dir: str = "checkpoints"
    run_name: str | None = None
    # The decision threshold on the normalised score (eq 16's scale); None: chosen on the test split
    # (utils/scoring/thresholds.py), from threshold_percentile when it holds normal images only.
    threshold: float | None = None
    threshold_percentile: float = NORMAL_PERCENTILE
    # DGAD
    variant: str | None = None
    protocol: int | None = None
    padding: str | None = None
    coordconv: bool | None = None
    restoration: str | None = None
    lambda_cls: float | None = None
    lambda_rec: float | None = None
    lambda_cmp: float | None = None
    lambda_s: float | None = None
    l1_reading: str | None = None
    latent_channels: int | None = None
    # AD-CGAN
    latent_size: int | None = None
    autoencoder_learning_rate: float | None = None
    epochs: int | None = None
    warmup_epochs: int | None = None
    ns_lambda: float | None = None
    ns_rho: float | None = None

    def __post_init__(self):
        # Configs are also built in code (tests, notebooks); a typo must not pass silently.
        method = get_method(self.method)
        settings = dataclasses.asdict(self)
        for other in METHODS.values():
            # A setting this method does not read must not pass for one that took effect.
            foreign = [name for name in other.own_fields
                       if name not in method.own_fields and settings[name] is not None]
            if foreign:
                raise ValueError(f"{', '.join('--' + name for name in foreign)} "
                                 f"{'is a setting' if len(foreign) == 1 else 'are settings'} of {other.title}, "
                                 f"which {method.title} does not have (leave {'it' if len(foreign) == 1 else 'them'} "
                                 f"out, or pass --method {other.name})")
        for name, value in method.defaults.items():
            if settings[name] is None:
                settings[name] = value
        for name, choices in (("scheme", SCHEMES), ("score", tuple(method.score_choices))):
            if settings[name] not in choices:
                raise ValueError(f"unknown {name} {settings[name]!r} for {method.name}; expected one of {choices}")
        settings = method.resolve(settings)
        for name, choices in method.choices.items():
            if settings[name] not in choices:
                raise ValueError(f"unknown {name} {settings[name]!r}; expected one of {choices}")
        for name, value in settings.items():
            object.__setattr__(self, name, value)
        self._check_ranges()

    def _check_ranges(self):
        """Refuse a value that would only fail (or train on nonsense) once training has started."""
        for name, choices in (("dataset", DATASET_NAMES), ("distribute", DISTRIBUTIONS), ("precision", PRECISIONS)):
            if getattr(self, name) not in choices:
                raise ValueError(f"unknown {name} {getattr(self, name)!r}; expected one of {choices}")
        if self.dataset in DATASETS_WITHOUT_FILES and self.data_dir is not None:
            raise ValueError(f"--dataset {self.dataset} reads no files, so --data_dir would be ignored; leave it out")
        for names, allowed, text in SETTING_RANGES:
            for name in names:
                value = getattr(self, name)
                if value is not None and not allowed(value):
                    raise ValueError(f"--{name} must be {text}, got {value}")
        if self.run_name is not None and (self.run_name in ("", ".", "..") or os.sep in self.run_name
                                          or "/" in self.run_name):
            raise ValueError(f"--run_name must be a plain folder name (no '/', not '.' or '..'), got {self.run_name!r}")

    @property
    def run_id(self) -> str:
        """Folder name shared by a run's checkpoints and results; the settings that change the model."""
        # float32 runs keep the names they had before --precision existed.
        precision = [] if self.precision == "float32" else [self.precision]
        return self.run_name or "-".join(get_method(self.method).run_name_parts(self) + precision)

    @property
    def scores(self) -> tuple[str, ...]:
        """The scores a test computes, from the --score choice (DGAD: both = rec and dir; AD-CGAN: all four)."""
        return get_method(self.method).score_choices[self.score]

    def results_folder(self, score: str) -> Path:
        """Where one score's per-class results and summary go: results/<dataset>/<run>/s_<score>/."""
        return Path(self.results_dir) / self.dataset / self.run_id / f"s_{score}"

    def predictions_folder(self) -> Path:
        """Where --phase predict writes: results/<dataset>/<run>/predictions/."""
        return Path(self.results_dir) / self.dataset / self.run_id / "predictions"

    def learning_curve_folder(self) -> Path:
        """Where --eval_every writes each class's learning curve: results/<dataset>/<run>/learning_curves/."""
        return Path(self.results_dir) / self.dataset / self.run_id / "learning_curves"

    def diagnosis_folder(self) -> Path:
        """Where --phase diagnose writes each class's diagnosis: results/<dataset>/<run>/diagnosis/."""
        return Path(self.results_dir) / self.dataset / self.run_id / "diagnosis"

    def checkpoint_folder(self) -> Path:
        return Path(self.checkpoint_dir) / self.dataset / self.run_id

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes) -> "Config":
        """This config with `changes`; the settings derived from a changed one are derived again."""
        derived = {name: None for name, sources in get_method(self.method).derived_from.items()
                   if name not in changes and any(source in changes and changes[source] != getattr(self, source)
                                                  for source in sources)}
        return dataclasses.replace(self, **derived, **changes)

    def training_differences(self, saved: dict) -> list[str]:
        """Training settings in which `saved` (a config.json) differs from this config."""
        return self._differences(saved, get_method(self.method).training_fields)

    @property
    def scoring_fields(self) -> tuple[str, ...]:
        """The settings that change scores or decisions but not the model."""
        return get_method(self.method).scoring_fields + DECISION_FIELDS

    def scoring_differences(self, saved: dict) -> list[str]:
        """Settings that change the scores or decisions, not the model, in which `saved` differs from this config."""
        return self._differences(saved, self.scoring_fields)

    def _differences(self, saved: dict, names: tuple[str, ...]) -> list[str]:
        method = get_method(saved.get("method", Config.method))
        saved = method.upgrade_saved(saved)
        # A setting added after a run was saved had its default value in that run.
        defaults = Config(method=method.name, scheme=saved.get("scheme", Config.scheme))
        values = {name: saved.get(name, getattr(defaults, name)) for name in names}
        return [f"{name}: saved {value!r}, now {getattr(self, name)!r}"
                for name, value in values.items() if value != getattr(self, name)]


def config_for_dataset(dataset: str, **settings) -> Config:
    """The method's defaults, then the dataset's paper defaults for it, then every setting that is not None."""
    given = {name: value for name, value in settings.items() if value is not None}
    # The same data reached by another relative path is the same run.
    if "data_dir" in given:
        given["data_dir"] = os.path.abspath(given["data_dir"])
    defaults = get_method(given.get("method", Config.method)).dataset_settings(dataset, given)
    return Config(dataset=dataset, **{**defaults, **given})


def save_config(config: Config, folder: Path) -> Path:
    """Write folder/config.json atomically and return its path."""
    path = folder / "config.json"
    write_text_atomically(path, json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n")
    return path


def load_config_dict(folder: Path) -> dict | None:
    path = folder / "config.json"
    return json.loads(path.read_text()) if path.exists() else None
