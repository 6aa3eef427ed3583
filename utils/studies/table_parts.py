"""What every table of a grid of runs shares (the DGAD paper's tables and the DGAD vs AD-CGAN comparison):
the budgets, the header's lines, the cell of a run not finished, and the rows of the classical floors."""

import time

import numpy as np

from utils.reporting.markdown import cell_text, interval_cell, known_mean

# A CPU-sized scale for every table; "paper" keeps the dataset's paper settings. The cpu length is the
# smallest at which every score of DGAD's learning curves on MNIST digits 2, 5 and 8 (width 8, batch 32)
# was within 0.01 AUC of its 10000-iteration value (README, Learning curves).
BUDGETS = {"paper": {}, "cpu": {"width": 8, "batch_size": 32, "iterations": 8000}}

# A collected table's cell of a run that has not finished (in the CSV: an empty cell). "—" is taken: a
# finished run without a value (an AUC of a test split of normal images only).
MISSING = "missing"


def seeds_text(seeds: tuple[int, ...]) -> str:
    return f"seed {seeds[0]}" if len(seeds) == 1 else "seeds " + ", ".join(map(str, seeds))


def seeds_tag(seeds: tuple[int, ...]) -> str:
    """The seeds' part of a table's file name: seed0, or seeds0-1-2."""
    return f"seed{seeds[0]}" if len(seeds) == 1 else "seeds" + "-".join(map(str, seeds))


def seeds_line(seeds: tuple[int, ...]) -> str | None:
    """The header's line that says what a cell of ours is, over several seeds; None for one seed."""
    if len(seeds) == 1:
        return ("Our cells carry, in brackets, the 95% bootstrap interval over the run's test images "
                "(metrics.json); the means' intervals are in each run's summary.md.")
    return (f"Our cells: mean ± standard deviation (sample, n - 1) over {len(seeds)} seeds "
            f"({', '.join(map(str, seeds))}), one trained model per seed and class; a mean's is over the seeds' means over classes.")


def spread_text(values: list) -> str:
    """"mean ± sd" of one value per seed (the sample standard deviation); "—" where a seed has none."""
    if any(value is None for value in values):
        return "—"
    return f"{np.mean(values):.4f} ± {np.std(values, ddof=1):.4f}"


def result_cell(metrics: dict | None, key: str = "auc") -> str:
    """A run's value of `key` in a table: MISSING if the run has not finished; over several seeds (runner.across_seeds)
    mean ± sd; of one seed, the value with its bootstrap interval where metrics.json has one."""
    if metrics is None:
        return MISSING
    if f"{key}_per_seed" in metrics:
        return spread_text(metrics[f"{key}_per_seed"])
    return interval_cell(metrics.get(key), metrics.get(f"{key}_interval"))


def mean_cell(metrics: list[dict | None], key: str = "auc") -> str:
    """The mean over classes of `key` with what it leaves out; over several seeds, mean ± sd of the seeds' means."""
    values = [None if entry is None else entry.get(key) for entry in metrics]
    per_seed = [None if entry is None else entry.get(f"{key}_per_seed") for entry in metrics]
    known = [values for values in per_seed if values is not None]
    if known and len(known) == sum(value is not None for value in values):
        return spread_text([known_mean(seed_values) for seed_values in zip(*known)]) + coverage_text(values)
    return cell_text(known_mean(values)) + coverage_text(values)


def coverage_text(values: list) -> str:
    """What a mean over `values` (one per class, None where unknown) leaves out: " (2 of 3 classes)", or ""
    when it is over all of them (or none)."""
    known = sum(value is not None for value in values)
    return "" if known in (0, len(values)) else f" ({known} of {len(values)} classes)"


def wall_time_line(started: float) -> str:
    return (f"Wall time of this invocation: {(time.perf_counter() - started) / 60:.1f} min "
            "(runs finished earlier are reused, not redone).")


# The header's line of a collected table, in place of the wall time.
COLLECTED_LINE = "Collected from the runs that exist: this command trained and tested nothing."


FLOORS_LINE = ("Floor rows: two classical detectors on the raw pixels of the same splits, fitted on the same normal "
               "training images (PCA reconstruction error and the mean distance to the nearest training images, "
               "utils/scoring/floors.py); a deep method that does not beat them does not earn its cost.")


def floor_lines(floors: dict[str, list], leading_cells: list[str], trailing_cells: int) -> list[str]:
    """One Markdown row per floor: leading_cells, its AUC per class and their mean, then trailing_cells empty ones."""
    return [f"| {' | '.join([*leading_cells, title])} | " + " | ".join(cell_text(value) for value in values)
            + f" | {cell_text(known_mean(values))}{coverage_text(values)} |" + " — |" * trailing_cells
            for title, values in floors.items()]


def floor_csv_rows(floors: dict[str, list], classes: list[int], names: list[str], leading: list[str],
                   trailing: int) -> list[list]:
    """The CSV rows of floor_lines: leading values ("{title}" is the floor's title), then class index, class name
    and AUC per class and for the mean, then `trailing` empty values."""
    rows = []
    for title, values in floors.items():
        start = [text.format(title=title) for text in leading]
        rows += [[*start, index, name, value, *[None] * trailing] for index, name, value in zip(classes, names, values)]
        rows.append([*start, "mean", "mean" + coverage_text(values), known_mean(values), *[None] * trailing])
    return rows
