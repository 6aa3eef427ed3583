"""One row of a paper's table: the type each method's reported numbers (models/<method>/paper_results.py) are
given in, and that the reports read."""

from typing import NamedTuple


class ReportedRow(NamedTuple):
    """One row of a paper's table: where it is, its per-class values (None where the paper prints only a mean),
    its printed mean, and the class names in the table's order where that is not the dataset's."""

    source: str
    per_class: tuple[float, ...] | None
    mean: float
    class_names: tuple[str, ...] | None = None

    def reference(self) -> dict:
        """The row as a summary's paper reference: {"source", "per_class", "mean"[, "class_names"]}."""
        reference = {"source": self.source, "per_class": None if self.per_class is None else list(self.per_class),
                     "mean": self.mean}
        if self.class_names is not None:
            reference["class_names"] = list(self.class_names)
        return reference
