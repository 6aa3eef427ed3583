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

from utils.adcgan_scores import LAMBDA, RHO
from utils.files import write_text_atomically

TRAINING_FIELDS = (
    "method", "variant", "dataset", "data_dir", "protocol", "scheme", "width", "image_size", "batch_size", "iterations",
    "learning_rate", "beta_1", "beta_2", "lambda_cls", "lambda_rec", "lambda_cmp", "max_zoom", "seed",
    "latent_size", "autoencoder_learning_rate", "epochs", "warmup_epochs",
)

METHODS = ("dgad", "adcgan")
# one_vs_all: the class is normal, the rest anomalous; all_vs_one (AD-CGAN's hard scheme): the reverse.
SCHEMES = ("one_vs_all", "all_vs_one")
PROTOCOLS = (1, 2, 3)
# The encoder halves the image twice.
IMAGE_SIZE_MULTIPLE = 4

VARIANTS = ("dgad", "gan", "no_compactness", "zero_padding", "coordconv")
# AD-CGAN's normality score and its Table 4 ablations (utils/adcgan_scores.py).
ADCGAN_SCORES = ("gf", "lg", "lfe", "lfl")
# Per method, each --score choice and the scores a test then computes.
SCORES = {
    "dgad": {"rec": ("rec",), "dir": ("dir",), "both": ("rec", "dir")},
    "adcgan": {**{score: (score,) for score in ADCGAN_SCORES}, "all": ADCGAN_SCORES},
}

# The settings that differ between the methods, as each paper gives them: DGAD section 4.2;
# AD-CGAN appendix A.3 (Adam, batch 32, learning rates 3e-4 for the CGAN and 2e-4 for the
# autoencoder, latent size 100, and a length in epochs: see ADCGAN_EPOCHS).
METHOD_DEFAULTS = {
    "dgad": {"score": "rec", "batch_size": 64, "iterations": 10000, "learning_rate": 1e-4},
    "adcgan": {"score": "gf", "batch_size": 32, "iterations": None, "learning_rate": 3e-4, "latent_size": 100},
}
# The settings only AD-CGAN reads: a DGAD config must keep their field defaults.
ADCGAN_ONLY_FIELDS = ("latent_size", "epochs", "warmup_epochs", "autoencoder_learning_rate", "ns_lambda", "ns_rho")
# AD-CGAN appendix A.3, per scheme: (epochs, autoencoder warm-up epochs). "15 epochs with 5 warm-up
# epochs" and "35 epochs plus 15 warm-up epochs": we read both as warm-up epochs before the others.
ADCGAN_EPOCHS = {"one_vs_all": (15, 5), "all_vs_one": (35, 15)}

# The papers' settings where a dataset departs from the method's defaults. DGAD on MVTec AD:
# section 4.4 (128x128, random zoom, batch 8, 6000 iterations, Protocol 3; the zoom range is ours,
# the paper gives none). Cats-vs-Dogs: 64x64 as in AD-CGAN, whose latent is 200 there; AD-CGAN
# keeps (F)MNIST at 28x28. The embedded digits are in neither paper: their defaults are CPU-sized
# so that the quick start takes minutes.
DATASET_DEFAULTS = {
    "dgad": {
        "mvtec": {"image_size": 128, "batch_size": 8, "iterations": 6000, "protocol": 3, "max_zoom": 0.1},
        "cats_vs_dogs": {"image_size": 64},
        "digits": {"width": 8, "batch_size": 32, "iterations": 100},
    },
    "adcgan": {
        "mnist": {"image_size": 28},
        "fashion_mnist": {"image_size": 28},
        "cats_vs_dogs": {"image_size": 64, "latent_size": 200},
        "digits": {"width": 8, "iterations": 300},
    },
}


def _is_integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


# Each numeric setting's allowed values (None: the method's default, filled in first), as a test and
# as the words that tell the user what to pass. NaN fails every comparison, so it is refused too.
SETTING_RANGES = (
    (("width", "image_size", "batch_size", "iterations", "checkpoint_every", "latent_size", "epochs"),
     lambda value: _is_integer(value) and value > 0, "a positive integer"),
    (("warmup_epochs",), lambda value: _is_integer(value) and value >= 0, "0 or a positive integer"),
    (("seed",), lambda value: _is_integer(value) and 0 <= value < 2**32, "an integer from 0 to 2**32 - 1"),
    (("learning_rate", "autoencoder_learning_rate"), lambda value: 0 < value < math.inf, "greater than 0"),
    (("beta_1", "beta_2", "max_zoom"), lambda value: 0 <= value < 1, "in [0, 1)"),
    (("lambda_cls", "lambda_rec", "lambda_cmp", "lambda_s"), lambda value: 0 <= value < math.inf, "0 or more"),
    (("ns_lambda", "ns_rho"), lambda value: 0 <= value <= 1, "in [0, 1]"),
)


@dataclasses.dataclass(frozen=True)
class Config:
    """Settings of one experiment; the defaults are the papers' (None: the method's, METHOD_DEFAULTS)."""

    method: str = "dgad"
    variant: str = "dgad"
    score: str | None = None
    dataset: str = "cifar10"
    data_dir: str | None = None
    protocol: int = 1
    scheme: str = "one_vs_all"
    width: int = 64
    image_size: int = 32
    max_zoom: float = 0.0
    batch_size: int | None = None
    # AD-CGAN: None trains for the paper's epochs (ADCGAN_EPOCHS) and a number sets the length instead.
    iterations: int | None = None
    learning_rate: float | None = None
    beta_1: float = 0.5
    beta_2: float = 0.999
    lambda_cls: float = 10.0
    lambda_rec: float = 20.0
    lambda_cmp: float = 100.0
    lambda_s: float = 10.0
    latent_size: int | None = None
    autoencoder_learning_rate: float = 2e-4
    epochs: int | None = None
    warmup_epochs: int | None = None
    ns_lambda: float = LAMBDA
    ns_rho: float = RHO
    seed: int = 0
    jit_compile: bool = True
    checkpoint_every: int = 1000
    results_dir: str = "results"
    checkpoint_dir: str = "checkpoints"
    run_name: str | None = None

    def __post_init__(self):
        # Configs are also built in code (tests, notebooks); a typo must not pass silently.
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; expected one of {METHODS}")
        if self.method == "dgad":
            # A setting DGAD does not read must not pass for one that took effect.
            defaults = {field.name: field.default for field in dataclasses.fields(self)}
            ignored = [name for name in ADCGAN_ONLY_FIELDS if getattr(self, name) != defaults[name]]
            if ignored:
                raise ValueError(f"{', '.join('--' + name for name in ignored)} applies to AD-CGAN only "
                                 "(add --method adcgan)")
        for name, value in METHOD_DEFAULTS[self.method].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        if self.method == "adcgan":
            epochs, warmup_epochs = ADCGAN_EPOCHS.get(self.scheme, (None, None))
            object.__setattr__(self, "epochs", self.epochs if self.epochs is not None else epochs)
            object.__setattr__(self, "warmup_epochs",
                               self.warmup_epochs if self.warmup_epochs is not None else warmup_epochs)
            if self.protocol != 1:
                raise ValueError("a protocol is DGAD's pretext task; AD-CGAN has none (leave --protocol out)")
            if self.variant != "dgad":
                raise ValueError(f"variant {self.variant!r} is one of DGAD's ablations; AD-CGAN has none "
                                 f"(its Table 4 ablations are scores: --score {' | '.join(SCORES['adcgan'])})")
        for name, choices in (("variant", VARIANTS), ("score", tuple(SCORES[self.method]))):
            if getattr(self, name) not in choices:
                raise ValueError(f"unknown {name} {getattr(self, name)!r} for {self.method}; expected one of {choices}")
        self._check_ranges()

    def _check_ranges(self):
        """Refuse a value that would only fail (or train on nonsense) once training has started."""
        # Imported here: data.sources imports utils.paper_results, which imports this module.
        from data.sources import DATASET_NAMES, DATASETS_WITHOUT_FILES

        for name, choices in (("dataset", DATASET_NAMES), ("scheme", SCHEMES), ("protocol", PROTOCOLS)):
            if getattr(self, name) not in choices:
                raise ValueError(f"unknown {name} {getattr(self, name)!r}; expected one of {choices}")
        if self.dataset in DATASETS_WITHOUT_FILES and self.data_dir is not None:
            raise ValueError(f"--dataset {self.dataset} reads no files, so --data_dir would be ignored; leave it out")
        for names, allowed, text in SETTING_RANGES:
            for name in names:
                value = getattr(self, name)
                if value is not None and not allowed(value):
                    raise ValueError(f"--{name} must be {text}, got {value}")
        if self.image_size % IMAGE_SIZE_MULTIPLE:
            raise ValueError(f"--image_size must be a multiple of {IMAGE_SIZE_MULTIPLE} (the encoder halves it "
                             f"twice), got {self.image_size}")
        if self.run_name is not None and (self.run_name in ("", ".", "..") or os.sep in self.run_name
                                          or "/" in self.run_name):
            raise ValueError(f"--run_name must be a plain folder name (no '/', not '.' or '..'), got {self.run_name!r}")

    @property
    def run_id(self) -> str:
        """Folder name shared by a run's checkpoints and results; the settings that change the model."""
        if self.run_name:
            return self.run_name
        if self.method == "adcgan":
            length = f"i{self.iterations}" if self.iterations else f"e{self.epochs}+{self.warmup_epochs}"
            return f"adcgan-{self.scheme}-w{self.width}-{length}-b{self.batch_size}-seed{self.seed}"
        variant = "" if self.variant == "dgad" else f"-{self.variant}"
        return (f"{self.method}{variant}-p{self.protocol}-{self.scheme}-w{self.width}-i{self.iterations}"
                f"-b{self.batch_size}-seed{self.seed}")

    @property
    def scores(self) -> tuple[str, ...]:
        """The scores a test computes: DGAD's ("rec",), ("dir",) or both; AD-CGAN's one or all four."""
        return SCORES[self.method][self.score]

    def schedule(self, train_size: int) -> tuple[int, int]:
        """(training iterations, of which autoencoder-only warm-up) for a class of train_size images.

        DGAD has no warm-up. AD-CGAN counts the paper's epochs, or splits a given number of
        iterations between warm-up and the rest in the paper's proportion.
        """
        if self.method == "dgad":
            return self.iterations, 0
        total_epochs = self.epochs + self.warmup_epochs
        if self.iterations:
            return self.iterations, round(self.iterations * self.warmup_epochs / total_epochs)
        # As in the input pipeline, an epoch is the whole batches of the training set.
        batches_per_epoch = max(1, train_size // self.batch_size)
        return total_epochs * batches_per_epoch, self.warmup_epochs * batches_per_epoch

    def results_folder(self, score: str) -> Path:
        """Where one score's per-class results and summary go: results/<dataset>/<run>/s_<score>/."""
        return Path(self.results_dir) / self.dataset / self.run_id / f"s_{score}"

    def checkpoint_folder(self) -> Path:
        return Path(self.checkpoint_dir) / self.dataset / self.run_id

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def training_differences(self, saved: dict) -> list[str]:
        """Training settings in which `saved` (a config.json) differs from this config."""
        # A setting added after a run was saved had its default value in that run.
        defaults = Config()
        differences = {name: saved.get(name, getattr(defaults, name)) for name in TRAINING_FIELDS}
        return [f"{name}: saved {value!r}, now {getattr(self, name)!r}"
                for name, value in differences.items() if value != getattr(self, name)]


def config_for_dataset(dataset: str, **settings) -> Config:
    """The method's defaults, then the dataset's paper defaults for it, then every setting that is not None."""
    given = {name: value for name, value in settings.items() if value is not None}
    # The same data reached by another relative path is the same run.
    if "data_dir" in given:
        given["data_dir"] = os.path.abspath(given["data_dir"])
    method = given.get("method", Config.method)
    defaults = dict(DATASET_DEFAULTS.get(method, {}).get(dataset, {}))
    if method == "adcgan" and ("epochs" in given or "warmup_epochs" in given):
        # Asking for a length in epochs drops the dataset's default length in iterations.
        defaults.pop("iterations", None)
    return Config(dataset=dataset, **{**defaults, **given})


def save_config(config: Config, folder: Path) -> Path:
    """Write folder/config.json atomically and return its path."""
    path = folder / "config.json"
    write_text_atomically(path, json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n")
    return path


def load_config_dict(folder: Path) -> dict | None:
    path = folder / "config.json"
    return json.loads(path.read_text()) if path.exists() else None
