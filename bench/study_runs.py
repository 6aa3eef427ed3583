"""What the studies share: main.py run as a user runs it, and the one file a finished run wrote."""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import main  # noqa: E402

REPOSITORY = Path(__file__).resolve().parent.parent
FINDINGS = REPOSITORY / "docs" / "findings"
# The MNIST-subset studies' network width and batch: CPU-sized, where the paper trains at width 64.
STUDY_WIDTH = 8
STUDY_BATCH_SIZE = 32


def run(flags: list[str]):
    """main.py with `flags`; a failed run stops the study with the command that failed."""
    if main.main(flags) != 0:
        raise SystemExit(f"main.py {' '.join(flags)} failed; see above")


def run_folder_pattern(iterations, seed) -> str:
    """The glob of a run's results folder by its length and seed (main.py names runs `...-i<N>-b<B>-seed<S>`)."""
    return f"*-i{iterations}-*-seed{seed}"


def read_curve(path: Path) -> list[dict]:
    """A learning_curve.csv's rows, its iteration as an int and its AUCs as floats."""
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    return [{column: int(value) if column == "iteration" else float(value)
             for column, value in zip(header, line.split(","))} for line in lines[1:]]


def only_file(folder: Path, pattern: str) -> Path:
    """The one file under `folder` matching `pattern`, refused when there are none or several."""
    found = sorted(folder.rglob(pattern))
    if len(found) != 1:
        raise SystemExit(f"expected one {pattern} under {folder}, found {len(found)}: {found[:3]}")
    return found[0]
