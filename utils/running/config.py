"""The one configuration of a run, its defaults (the paper's settings) and its on-disk form.

Every run folder (results and checkpoints) holds a config.json written from this dataclass, so
every figure can be traced to the settings that produced it.
"""

import dataclasses
import json
import math
import os
from pathlib import Path

from data.pipeline import SCHEMES
from data.sources import DATASET_NAMES, DATASETS_WITHOUT_FILES
from models.registry import DEFAULT_METHOD, METHODS, get_method
from models.settings import (HALF_OPEN_UNIT_INTERVAL, POSITIVE, POSITIVE_INTEGER, SCORING, TRAINING, Allowed,
                             MethodSettings, is_integer)
from utils.reporting.files import write_text_atomically
from utils.running.devices import DISTRIBUTIONS, PRECISIONS
from utils.scoring.thresholds import NORMAL_PERCENTILE


# Each shared numeric setting's allowed values (None: the method's default, filled in first); a method's own
# settings carry theirs (models/settings.py).
SETTING_RANGES = (
    (("width", "image_size", "batch_size", "iterations", "checkpoint_every", "eval_every"), POSITIVE_INTEGER),
    (("seed",), Allowed(lambda value: is_integer(value) and 0 <= value < 2**32, "an integer from 0 to 2**32 - 1")),
    (("learning_rate",), POSITIVE),
    (("beta_1", "beta_2", "max_zoom"), HALF_OPEN_UNIT_INTERVAL),
    (("threshold",), Allowed(lambda value: -math.inf < value < math.inf, "a finite number")),
    (("threshold_percentile",), Allowed(lambda value: 0 < value < 100, "in (0, 100)")),
    (("val_fraction",), Allowed(lambda value: 0 <= value < 1, "in [0, 1) (the share of the normal training "
                                                              "images held out for validation)")),
    (("target_fpr",), Allowed(lambda value: 0 < value < 1, "in (0, 1) (the share of new normal images "
                                                           "the threshold may flag)")),
)
# --val_fraction's default per dataset: the papers' protocols train on every normal training image, while a
# folder of a practitioner's normal images holds some out, so that thresholds never see the test split.
VALIDATION_FRACTIONS = {"folder": 0.2}
# --target_fpr's default: the threshold flags as many new normal images as the percentile rule does.
TARGET_FALSE_POSITIVE_RATE = (100 - NORMAL_PERCENTILE) / 100
# The shared settings that change the trained model; a saved run is refused when one differs.
TRAINING_FIELDS = ("method", "dataset", "data_dir", "scheme", "image_size", "max_zoom", "width", "batch_size",
                   "iterations", "learning_rate", "beta_1", "beta_2", "seed", "precision", "val_fraction")
# The settings that change decisions, not scores: a tested class is decided again when one differs.
DECISION_FIELDS = ("threshold", "threshold_percentile", "target_fpr")


@dataclasses.dataclass(frozen=True, init=False)
class Config:
    """Settings of one experiment, as used: every None is filled in when the config is made.

    The fields are the settings every method shares; `settings` holds the method's own
    (models/<method>/method.py), which read as attributes of the config too (config.protocol).
    Config(method=..., **settings) takes both kinds by name. None means the paper's setting: the
    method's `defaults`, or those `resolve` derives from other settings (a DGAD variant's padding,
    AD-CGAN's epochs per scheme).
    """

    method: str = DEFAULT_METHOD
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
    # The share of each class's normal training images held out as its validation split (data/pipeline.py);
    # with one, the threshold is set at target_fpr on its scores and the normalisation is fitted on them, so
    # that neither sees the test split. None: the dataset's default (VALIDATION_FRACTIONS, else 0).
    val_fraction: float | None = None
    target_fpr: float = TARGET_FALSE_POSITIVE_RATE
    # The method's own settings, an instance of its `settings` dataclass.
    settings: MethodSettings | None = None

    def __init__(self, method: str = DEFAULT_METHOD, settings: MethodSettings | None = None, **values):
        # Configs are also built in code (tests, notebooks); a typo must not pass silently.
        method_object = get_method(method)
        own_names = method_object.settings.names()
        shared_names = [field.name for field in dataclasses.fields(Config) if field.name not in ("method", "settings")]
        declared = [name for other in METHODS.values() for name in other.settings.names()]
        unknown = sorted((name for name in values if name not in shared_names and name not in own_names),
                         key=lambda name: declared.index(name) if name in declared else len(declared))
        if unknown:
            raise ValueError(unknown_settings_message(unknown, method_object))
        given_own = {} if settings is None or type(settings) is not method_object.settings \
            else dataclasses.asdict(settings)
        given_own.update({name: value for name, value in values.items() if name in own_names})
        own_defaults = dataclasses.asdict(method_object.settings())
        flat = {**{field.name: field.default for field in dataclasses.fields(Config) if field.name in shared_names},
                **{name: value for name, value in values.items() if name in shared_names},
                **{name: own_defaults[name] if given_own.get(name) is None else given_own[name]
                   for name in own_names}}
        for name, value in method_object.defaults.items():
            if flat[name] is None:
                flat[name] = value
        if flat["val_fraction"] is None:
            flat["val_fraction"] = VALIDATION_FRACTIONS.get(flat["dataset"], 0.0)
        for name, choices in (("scheme", SCHEMES), ("score", tuple(method_object.score_choices))):
            if flat[name] not in choices:
                raise ValueError(f"unknown {name} {flat[name]!r} for {method_object.name}; expected one of {choices}")
        flat = method_object.resolve(flat)
        object.__setattr__(self, "method", method)
        for name in shared_names:
            object.__setattr__(self, name, flat[name])
        object.__setattr__(self, "settings", method_object.settings(**{name: flat[name] for name in own_names}))
        self._check_ranges()
        self.settings.check()

    def __getattr__(self, name: str):
        """A setting of the method's own, read as config.<name>."""
        settings = self.__dict__.get("settings")
        if settings is not None and not name.startswith("__") and name in settings.names():
            return getattr(settings, name)
        raise AttributeError(f"{type(self).__name__} of method {self.__dict__.get('method')!r} has no setting {name!r}")

    def _check_ranges(self):
        """Refuse a value that would only fail (or train on nonsense) once training has started."""
        for name, choices in (("dataset", DATASET_NAMES), ("distribute", DISTRIBUTIONS), ("precision", PRECISIONS)):
            if getattr(self, name) not in choices:
                raise ValueError(f"unknown {name} {getattr(self, name)!r}; expected one of {choices}")
        if self.dataset in DATASETS_WITHOUT_FILES and self.data_dir is not None:
            raise ValueError(f"--dataset {self.dataset} reads no files, so --data_dir would be ignored; leave it out")
        for names, allowed in SETTING_RANGES:
            for name in names:
                value = getattr(self, name)
                if value is not None and not allowed.test(value):
                    raise ValueError(f"--{name} must be {allowed.words}, got {value}")
        if self.run_name is not None and (self.run_name in ("", ".", "..") or os.sep in self.run_name
                                          or "/" in self.run_name):
            raise ValueError(f"--run_name must be a plain folder name (no '/', not '.' or '..'), got {self.run_name!r}")

    @property
    def run_id(self) -> str:
        """Folder name shared by a run's checkpoints and results; the settings that change the model."""
        # The default precision is left out of the name, as a method leaves out its settings at their defaults.
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
        """Every setting by name, the method's own beside the shared ones: config.json's form."""
        shared = {field.name: getattr(self, field.name) for field in dataclasses.fields(self) if field.name != "settings"}
        return {**shared, **dataclasses.asdict(self.settings)}

    def replace(self, **changes) -> "Config":
        """This config with `changes`; the settings derived from a changed one are derived again."""
        derived = {name: None for name, sources in get_method(self.method).derived_from.items()
                   if name not in changes and any(source in changes and changes[source] != getattr(self, source)
                                                  for source in sources)}
        settings = {**self.to_dict(), **derived, **changes}
        if settings["method"] != self.method:
            settings = {name: value for name, value in settings.items() if name not in self.settings.names()}
        return Config(**settings)

    @property
    def training_fields(self) -> tuple[str, ...]:
        """The settings that change the trained model."""
        return TRAINING_FIELDS + self.settings.names(TRAINING)

    @property
    def scoring_fields(self) -> tuple[str, ...]:
        """The settings that change scores or decisions but not the model."""
        return self.settings.names(SCORING) + DECISION_FIELDS

    def training_differences(self, saved: dict) -> list[str]:
        """Training settings in which `saved` (a config.json) differs from this config."""
        return self._differences(saved, self.training_fields)

    def scoring_differences(self, saved: dict) -> list[str]:
        """Settings that change the scores or decisions, not the model, in which `saved` differs from this config."""
        return self._differences(saved, self.scoring_fields)

    def _differences(self, saved: dict, names: tuple[str, ...]) -> list[str]:
        return [f"{name}: saved {saved.get(name)!r}, now {getattr(self, name)!r}"
                for name in names if saved.get(name) != getattr(self, name)]


def unknown_settings_message(names: list[str], method) -> str:
    """Why settings a Config does not have were refused: another method's (name it), or none at all."""
    owners = {name: [other for other in METHODS.values() if name in other.settings.names()] for name in names}
    foreign = [name for name in names if owners[name]]
    if not foreign:
        return f"unknown setting{'s' if len(names) > 1 else ''} {', '.join(names)}"
    titles = [other.title for other in METHODS.values() if any(other in owners[name] for name in foreign)]
    return (f"{', '.join('--' + name for name in foreign)} {'is a setting' if len(foreign) == 1 else 'are settings'} "
            f"of {' and '.join(titles)}, which {method.title} does not have (leave "
            f"{'it' if len(foreign) == 1 else 'them'} out, or pass --method {owners[foreign[0]][0].name})")


def config_for_dataset(dataset: str, **settings) -> Config:
    """The method's defaults, then the dataset's paper defaults for it, then every setting that is not None."""
    given = {name: value for name, value in settings.items() if value is not None}
    # The same data reached by another relative path is the same run.
    if "data_dir" in given:
        given["data_dir"] = os.path.abspath(given["data_dir"])
    defaults = get_method(given.get("method", DEFAULT_METHOD)).dataset_settings(dataset, given)
    return Config(dataset=dataset, **{**defaults, **given})


def save_config(config: Config, folder: Path) -> Path:
    """Write folder/config.json atomically and return its path."""
    path = folder / "config.json"
    write_text_atomically(path, json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n")
    return path


def load_config_dict(folder: Path) -> dict | None:
    path = folder / "config.json"
    return json.loads(path.read_text()) if path.exists() else None
