"""The numbers the AD-CGAN paper reports, as data, with the lookup reports use.

Every per-class tuple is in class-index order; AUCs are fractions (the paper's percentages / 100). The means
are the ones printed in the paper, not recomputed.
"""

from data.pipeline import SCHEMES
from utils.reporting.reported_row import ReportedRow

_ADCGAN_TABLE_3 = "AD-CGAN paper, Table 3"

# AD-CGAN Table 3, keyed by (dataset, scheme). In all-vs-one the class index is the anomalous
# class; in one-vs-all it is the normal class. Cats-vs-Dogs has two classes, cats then dogs, and
# only one-vs-all. The printed averages equal the AD-CGAN column of the paper's Table 1.
ADCGAN_AUC: dict[tuple[str, str], ReportedRow] = {
    ("cifar10", "all_vs_one"): ReportedRow(
        _ADCGAN_TABLE_3,
        (0.898, 0.895, 0.847, 0.786, 0.817, 0.728, 0.876, 0.907, 0.826, 0.869),
        0.845,
    ),
    ("cifar10", "one_vs_all"): ReportedRow(
        _ADCGAN_TABLE_3,
        (0.838, 0.872, 0.801, 0.860, 0.854, 0.816, 0.946, 0.817, 0.893, 0.907),
        0.860,
    ),
    ("fashion_mnist", "all_vs_one"): ReportedRow(
        _ADCGAN_TABLE_3,
        (0.895, 0.858, 0.904, 0.817, 0.814, 0.938, 0.921, 0.870, 0.838, 0.911),
        0.877,
    ),
    ("fashion_mnist", "one_vs_all"): ReportedRow(
        _ADCGAN_TABLE_3,
        (0.933, 0.959, 0.940, 0.937, 0.931, 0.935, 0.917, 0.985, 0.916, 0.937),
        0.939,
    ),
    ("mnist", "all_vs_one"): ReportedRow(
        _ADCGAN_TABLE_3,
        (0.946, 0.858, 0.916, 0.866, 0.774, 0.828, 0.869, 0.761, 0.839, 0.845),
        0.850,
    ),
    ("mnist", "one_vs_all"): ReportedRow(
        _ADCGAN_TABLE_3,
        (0.971, 0.957, 0.921, 0.912, 0.955, 0.878, 0.886, 0.925, 0.872, 0.952),
        0.923,
    ),
    ("cats_vs_dogs", "one_vs_all"): ReportedRow(
        _ADCGAN_TABLE_3,
        (0.927, 0.869),
        0.898,
    ),
}

# AD-CGAN Table 4: mean AUC of the normality-score ablations, keyed by (dataset, scheme, variant).
# "lg": generation reconstruction loss only; "lfe" / "lfl": plus only the encoded / only the latent
# feature reconstruction loss; "gf": the full score (equals Table 3's averages).
ADCGAN_ABLATION_MEAN_AUC: dict[tuple[str, str, str], float] = {
    ("mnist", "all_vs_one", "lg"): 0.568,
    ("mnist", "all_vs_one", "lfe"): 0.666,
    ("mnist", "all_vs_one", "lfl"): 0.732,
    ("mnist", "all_vs_one", "gf"): 0.850,
    ("mnist", "one_vs_all", "lg"): 0.723,
    ("mnist", "one_vs_all", "lfe"): 0.844,
    ("mnist", "one_vs_all", "lfl"): 0.849,
    ("mnist", "one_vs_all", "gf"): 0.923,
    ("fashion_mnist", "all_vs_one", "lg"): 0.687,
    ("fashion_mnist", "all_vs_one", "lfe"): 0.704,
    ("fashion_mnist", "all_vs_one", "lfl"): 0.745,
    ("fashion_mnist", "all_vs_one", "gf"): 0.877,
    ("fashion_mnist", "one_vs_all", "lg"): 0.808,
    ("fashion_mnist", "one_vs_all", "lfe"): 0.861,
    ("fashion_mnist", "one_vs_all", "lfl"): 0.870,
    ("fashion_mnist", "one_vs_all", "gf"): 0.939,
}


def _check_scheme(scheme: str) -> None:
    # A misspelt scheme would otherwise silently look like "the paper has no row".
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; expected one of {SCHEMES}")


def adcgan_row(dataset: str, scheme: str, score: str = "gf") -> ReportedRow | None:
    """AD-CGAN's row for a score: Table 3 for the full score NS ("gf"), and for its ablations Table 4's mean
    (the paper gives no per-class values for them); None if the paper has no row."""
    _check_scheme(scheme)
    if score == "gf":
        return ADCGAN_AUC.get((dataset, scheme))
    mean = ADCGAN_ABLATION_MEAN_AUC.get((dataset, scheme, score))
    return None if mean is None else ReportedRow("AD-CGAN paper, Table 4", None, mean)
