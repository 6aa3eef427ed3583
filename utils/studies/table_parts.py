"""What every table of a grid of runs shares (the DGAD paper's tables and the DGAD vs AD-CGAN comparison):
the budgets, the header's lines, the cell of a run not finished, and the rows of the classical floors."""

import time

from utils.reporting.markdown import cell_text, known_mean

# A CPU-sized scale for every table; "paper" keeps the dataset's paper settings. The cpu length is the
# smallest at which every score of DGAD's learning curves on MNIST digits 2, 5 and 8 (width 8, batch 32)
# was within 0.01 AUC of its 10000-iteration value (README, Learning curves).
BUDGETS = {"paper": {}, "cpu": {"width": 8, "batch_size": 32, "iterations": 8000}}

# A collected table's cell of a run that has not finished (in the CSV: an empty cell). "—" is taken: a
# finished run without a value (an AUC of a test split of normal images only).
MISSING = "missing"


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
