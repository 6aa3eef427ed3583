"""Cells and CSV text of the tables written under results/tables/."""

import csv
import io

import numpy as np


def known_mean(values) -> float | None:
    """The mean of the values that are not None (an AUC is None for a test split of normal images only)."""
    known = [value for value in values if value is not None]
    return float(np.mean(known)) if known else None


def cell_text(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def interval_cell(value: float | None, interval: tuple[float, float] | None, digits: int = 4) -> str:
    """A value and its 95% bootstrap interval, "0.9571 [0.9502, 0.9633]"; the value alone where it has none."""
    if value is None or interval is None:
        return cell_text(value, digits)
    low, high = interval
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def csv_text(header: list[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([["" if value is None else value for value in row] for row in rows])
    return buffer.getvalue()
