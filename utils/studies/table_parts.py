"""What every table of a grid of runs shares (the DGAD paper's tables and the DGAD vs AD-CGAN comparison):
the budgets, the header's lines, the cell of a run not finished, and the rows of the classical floors."""

import time

import numpy as np

from utils.reporting.markdown import cell_text, interval_cell, known_mean
from utils.scoring.bootstrap import mean_interval

# A CPU-sized scale for every table; "paper" keeps the dataset's paper settings. The cpu length is the
# smallest at which every score of DGAD's learning curves on MNIST digits 2, 5 and 8 (width 8, batch 32)
# was within 0.01 AUC of its 10000-iteration value (README, Learning curves).
BUDGETS = {"paper": {}, "cpu": {"width": 8, "batch_size": 32, "iterations": 8000}}

# A collected table's cell of a run that has not finished (in the CSV: an empty cell). "—" is taken: a
# finished run without a value (an AUC of a test split of normal images only).
MISSING = "missing"


# The CSV columns of run_spread and mean_spread, after a value of ours.
SPREAD_COLUMNS = ["interval_low", "interval_high", "sd_over_seeds"]
# The key under which the runner puts a run's bootstrap resamples ({metrics key: resamples}) beside its metrics.
RESAMPLED = "resampled"


def seeds_text(seeds: tuple[int, ...]) -> str:
    return f"seed {seeds[0]}" if len(seeds) == 1 else "seeds " + ", ".join(map(str, seeds))


def seeds_tag(seeds: tuple[int, ...]) -> str:
    """The seeds' part of a table's file name: seed0, or seeds0-1-2."""
    return f"seed{seeds[0]}" if len(seeds) == 1 else "seeds" + "-".join(map(str, seeds))


def seeds_line(seeds: tuple[int, ...]) -> str | None:
    """The header's line that says what a cell of ours is, over several seeds; None for one seed."""
    if len(seeds) == 1:
        return ("Our cells carry, in brackets, the 95% bootstrap interval over the run's test images "
                "(metrics.json); a mean's, that of the mean of the classes' resamples.")
    return (f"Our cells: mean ± standard deviation (sample, n - 1) over {len(seeds)} seeds "
            f"({', '.join(map(str, seeds))}), one trained model per seed and class; a mean's is over the seeds' means over classes.")


def _sd(values: list) -> float | None:
    return None if any(value is None for value in values) else float(np.std(values, ddof=1))


def run_spread(metrics: dict | None, key: str = "auc") -> tuple[float | None, float | None, float | None]:
    """(interval low, interval high, sd over seeds) of one run's `key`: of one seed its bootstrap interval, over
    several (runner.across_seeds) the sample standard deviation; None for what it does not have."""
    if metrics is None:
        return None, None, None
    if f"{key}_per_seed" in metrics:
        return None, None, _sd(metrics[f"{key}_per_seed"])
    low, high = metrics.get(f"{key}_interval") or (None, None)
    return low, high, None


def mean_spread(metrics: list[dict | None], key: str = "auc") -> tuple[float | None, float | None, float | None]:
    """run_spread of the mean over classes: over several seeds the sd of the seeds' means; of one seed the
    bootstrap interval of the mean (bootstrap.mean_interval), where every class with a value has its resamples
    (runner.RESAMPLED)."""
    values = [None if entry is None else entry.get(key) for entry in metrics]
    known = [entry for entry, value in zip(metrics, values) if value is not None]
    if not known:
        return None, None, None
    if all(f"{key}_per_seed" in entry for entry in known):
        return None, None, _sd([known_mean(seed_values) for seed_values in
                                zip(*(entry[f"{key}_per_seed"] for entry in known))])
    resampled = [entry.get(RESAMPLED, {}).get(key) for entry in known]
    interval = None if any(each is None for each in resampled) else mean_interval(resampled)
    return (*(interval or (None, None)), None)


def spread_cell(value: float | None, spread: tuple[float | None, float | None, float | None]) -> str:
    """A table's cell: "mean ± sd" over seeds, "value [low, high]" of one seed, or the value alone."""
    low, high, sd = spread
    if sd is not None and value is not None:
        return f"{value:.4f} ± {sd:.4f}"
    return interval_cell(value, None if low is None else (low, high))


def result_cell(metrics: dict | None, key: str = "auc") -> str:
    """A run's value of `key` in a table: MISSING if the run has not finished; over several seeds (runner.across_seeds)
    mean ± sd; of one seed, the value with its bootstrap interval where metrics.json has one."""
    if metrics is None:
        return MISSING
    return spread_cell(metrics.get(key), run_spread(metrics, key))


def mean_cell(metrics: list[dict | None], spread: tuple, key: str = "auc") -> str:
    """The mean over classes of `key` with what it leaves out, and its mean_spread `spread`."""
    values = [None if entry is None else entry.get(key) for entry in metrics]
    return spread_cell(known_mean(values), spread) + coverage_text(values)


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
