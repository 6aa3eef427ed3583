"""The one configuration of a run, its defaults (the paper's settings) and its on-disk form.

Every run folder (results and checkpoints) holds a config.json written from this dataclass, so
every figure can be traced to the settings that produced it.
"""

import dataclasses
import json
import os
from pathlib import Path

TRAINING_FIELDS = (
    "method", "variant", "dataset", "data_dir", "protocol", "scheme", "width", "image_size", "batch_size", "iterations",
    "learning_rate", "beta_1", "beta_2", "lambda_cls", "lambda_rec", "lambda_cmp", "max_zoom", "seed",
)

VARIANTS = ("dgad", "gan", "no_compactness", "zero_padding", "coordconv")
SCORES = {"rec": ("rec",), "dir": ("dir",), "both": ("rec", "dir")}

# The papers' settings where a dataset departs from the Config defaults. MVTec AD: DGAD section
# 4.4 (128x128, random zoom, batch 8, 6000 iterations, Protocol 3; the zoom range is ours, the
# paper gives none). Cats-vs-Dogs: 64x64 as in AD-CGAN. The embedded digits are in neither paper:
# their defaults are CPU-sized so that the quick start takes minutes.
DATASET_DEFAULTS = {
    "mvtec": {"image_size": 128, "batch_size": 8, "iterations": 6000, "protocol": 3, "max_zoom": 0.1},
    "cats_vs_dogs": {"image_size": 64},
    "digits": {"width": 8, "batch_size": 32, "iterations": 100},
}


@dataclasses.dataclass(frozen=True)
class Config:
    """Settings of one DGAD experiment; the defaults are the paper's (section 4.2)."""

    method: str = "dgad"
    variant: str = "dgad"
    score: str = "rec"
    dataset: str = "cifar10"
    data_dir: str | None = None
    protocol: int = 1
    scheme: str = "one_vs_all"
    width: int = 64
    image_size: int = 32
    max_zoom: float = 0.0
    batch_size: int = 64
    iterations: int = 10000
    learning_rate: float = 1e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    lambda_cls: float = 10.0
    lambda_rec: float = 20.0
    lambda_cmp: float = 100.0
    lambda_s: float = 10.0
    seed: int = 0
    jit_compile: bool = True
    checkpoint_every: int = 1000
    results_dir: str = "results"
    checkpoint_dir: str = "checkpoints"
    run_name: str | None = None

    def __post_init__(self):
        # Configs are also built in code (tests, notebooks); a typo must not pass silently.
        for name, choices in (("variant", VARIANTS), ("score", tuple(SCORES))):
            if getattr(self, name) not in choices:
                raise ValueError(f"unknown {name} {getattr(self, name)!r}; expected one of {choices}")

    @property
    def run_id(self) -> str:
        """Folder name shared by a run's checkpoints and results; the settings that change the model."""
        if self.run_name:
            return self.run_name
        variant = "" if self.variant == "dgad" else f"-{self.variant}"
        return (f"{self.method}{variant}-p{self.protocol}-{self.scheme}-w{self.width}-i{self.iterations}"
                f"-b{self.batch_size}-seed{self.seed}")

    @property
    def scores(self) -> tuple[str, ...]:
        """The scores a test computes: ("rec",), ("dir",) or both."""
        return SCORES[self.score]

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
    """Config defaults, then the dataset's paper defaults, then every setting that is not None."""
    given = {name: value for name, value in settings.items() if value is not None}
    # The same data reached by another relative path is the same run.
    if "data_dir" in given:
        given["data_dir"] = os.path.abspath(given["data_dir"])
    return Config(dataset=dataset, **{**DATASET_DEFAULTS.get(dataset, {}), **given})


def save_config(config: Config, folder: Path) -> Path:
    """Write folder/config.json atomically and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.json"
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(config.to_dict(), indent=2, sort_keys=True) + "\n")
    os.replace(temporary, path)
    return path


def load_config_dict(folder: Path) -> dict | None:
    path = folder / "config.json"
    return json.loads(path.read_text()) if path.exists() else None
