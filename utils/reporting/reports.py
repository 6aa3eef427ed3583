"""What a test phase leaves behind: per-class AUC, scores and figures, and a summary beside the
paper's numbers."""

import csv
import io
import json
import os
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from utils.reporting.files import write_text_atomically
from utils.reporting.markdown import interval_cell, known_mean
from utils.reporting.html import write_summary_html
from utils.reporting.plots import plot_roc, plot_score_distribution

_SCORE_COLUMNS = ("index", "anomaly_label", "score")
# Where a class's anomaly-map overlays go, inside its results folder, and their names, most anomalous first.
MAPS_FOLDER = "maps"
OVERLAY_FIGURES = ("most_anomalous", "least_anomalous")
# Each bootstrap resample's AUC (and pixel AUROC), one row per resample, in a class's results folder: the
# summary's interval of the mean over classes pairs the classes' rows.
RESAMPLED_FILE = "bootstrap_resamples.csv"
# A run's summary covers every class of it tested with its settings; one of fewer classes (the others were
# tested with other settings) goes to PARTIAL_SUMMARY_NAME, so that it never replaces the run's summary.
SUMMARY_NAME = "summary"
PARTIAL_SUMMARY_NAME = "partial_summary"
_SUMMARY_KEYS = ("per_class_auc", "mean_auc", "config", "paper", "intervals")

# The settings that tell runs apart at a glance (those a method does not have are None and left out);
# the full config is in summary.json.
# The columns a summary adds beside the AUC when a class has them: {title: metrics.json key}.
SUMMARY_COLUMNS = {"Pixel AUROC": "pixel_auroc", "Precision": "precision", "Recall": "recall", "F1": "f1",
                   "F1 if all flagged": "f1_flag_all"}
_KEY_SETTINGS = (
    "method", "dataset", "scheme", "score", "variant", "protocol", "padding", "coordconv", "restoration",
    "lambda_cmp", "l1_reading", "width", "latent_channels", "image_size", "batch_size", "iterations", "epochs",
    "warmup_epochs", "latent_size", "learning_rate", "seed",
)


def roc_auc(anomaly_labels, anomaly_scores) -> float:
    """Area under the ROC curve, with anomalous (label 1) as the positive class."""
    labels = np.asarray(anomaly_labels).ravel()
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("anomaly labels must be 0 (normal) or 1 (anomalous)")
    present = np.unique(labels).tolist()
    if len(present) < 2:
        raise ValueError(
            "ROC AUC is undefined: the test set needs both normal and anomalous images, "
            f"but its anomaly labels are only {present}"
        )
    return float(roc_auc_score(labels, np.asarray(anomaly_scores).ravel()))


def write_class_results(
    run_dir: str | os.PathLike,
    anomaly_labels,
    anomaly_scores,
    class_name: str,
    extra_columns: dict[str, np.ndarray] | None = None,
    metrics: dict | None = None,
    resampled: dict[str, np.ndarray] | None = None,
    intervals: dict[str, tuple[float, float] | None] | None = None,
) -> float | None:
    """Write scores.csv, roc.png, score_distribution.png, bootstrap_resamples.csv and metrics.json into run_dir;
    return the AUC.

    A test set of normal images only (a folder of normal images) has no AUC: it is None, and there is
    no roc.png. metrics.json holds the AUC, `metrics`, and `intervals` ({metrics key: its bootstrap interval},
    utils.scoring.bootstrap) as "<key>_interval"; it is written last, so its presence means the class's results
    are complete (see read_class_metrics). `resampled` ({metrics key: its bootstrap resamples}) goes to
    RESAMPLED_FILE.
    """
    labels = np.asarray(anomaly_labels).ravel()
    scores = np.asarray(anomaly_scores, dtype=np.float64).ravel()
    # Computing the AUC first means a test set that cannot be scored leaves no files behind.
    auc = None if (labels == 0).all() else roc_auc(labels, scores)
    labels = labels.astype(np.int64)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomically(run_dir / "scores.csv", _scores_csv(labels, scores, extra_columns or {}))
    if auc is not None:
        plot_roc(labels, scores, run_dir / "roc.png", f"{class_name}: ROC curve")
    plot_score_distribution(
        labels, scores, run_dir / "score_distribution.png", f"{class_name}: anomaly scores"
    )
    if resampled:
        write_text_atomically(run_dir / RESAMPLED_FILE, columns_csv(resampled))
    bootstrap = {"bootstrap_resamples": len(next(iter(resampled.values())))} if resampled else {}
    named_intervals = {f"{key}_interval": interval for key, interval in (intervals or {}).items()}
    write_text_atomically(
        run_dir / "metrics.json",
        json.dumps({"auc": auc, **named_intervals, **(metrics or {}), **bootstrap}, indent=2, default=_to_json)
        + "\n",
    )
    return auc


def read_class_metrics(run_dir: str | os.PathLike) -> dict | None:
    """metrics.json of a tested class, or None if its results were never completed."""
    path = Path(run_dir) / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else None


def read_resampled(run_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """{metrics key: its bootstrap resamples} of a tested class; empty if it has none (no AUC, or tested before
    intervals existed)."""
    path = Path(run_dir) / RESAMPLED_FILE
    if not path.exists():
        return {}
    with path.open(newline="") as file:
        rows = list(csv.DictReader(file))
    return {key: np.array([float(row[key]) for row in rows]) for key in (rows[0] if rows else {})}


def write_summary(
    summary_dir: str | os.PathLike,
    per_class_auc: dict[str, float | None],
    class_names_in_order: list[str],
    config: dict,
    paper: dict | None,
    extra: dict | None = None,
    per_class_columns: dict[str, dict[str, float | None]] | None = None,
    class_folders: dict[str, Path] | None = None,
    intervals: dict | None = None,
    name: str = SUMMARY_NAME,
) -> tuple[Path, Path]:
    """Write <name>.json, <name>.md and <name>.html for the tested classes; return the first two paths.

    class_names_in_order lists every class of the dataset in class-index order, which is the
    order of the paper's per-class values (see utils.reporting.reported_row.ReportedRow.reference).
    An AUC is None for a class whose test set has normal images only. per_class_columns adds
    columns after the paper's ({column: {class: value}}, e.g. the pixel AUROC, F1 at the threshold);
    summary.html shows each class's figures from class_folders ({class: its results folder}).

    intervals (utils.scoring.bootstrap.summary_intervals: confidence, resamples, and per metrics key its
    per-class and mean intervals) puts each interval in brackets beside its value, and goes to summary.json.
    """
    if not per_class_auc:
        raise ValueError("per_class_auc is empty: no class was tested")
    unknown = sorted(set(per_class_auc) - set(class_names_in_order))
    if unknown:
        raise ValueError(f"classes {unknown} are not in class_names_in_order")
    extra = extra or {}
    clashing = sorted(set(extra) & set(_SUMMARY_KEYS))
    if clashing:
        raise ValueError(f"extra must not redefine the summary's own keys {clashing}")

    # Checked before anything is written, so a mismatched class list leaves no partial summary.
    paper_auc = _paper_auc_by_class(paper, class_names_in_order)

    tested = [name for name in class_names_in_order if name in per_class_auc]
    ours = {name: None if per_class_auc[name] is None else float(per_class_auc[name]) for name in tested}
    mean_auc = known_mean(ours.values())
    columns = per_class_columns or {}
    intervals = intervals or {}
    summary = {
        "per_class_auc": ours, "mean_auc": mean_auc, "config": config, "paper": paper,
        **({"per_class": {name: {column: values.get(name) for column, values in columns.items()}
                          for name in tested}} if columns else {}),
        **({"intervals": intervals} if intervals else {}),
        **extra,
    }
    header, rows = _summary_table(ours, mean_auc, paper_auc, columns, intervals)
    paper_notes, settings = _paper_notes(paper) + _interval_notes(intervals), _key_settings(config)

    summary_dir = Path(summary_dir)
    summary_dir.mkdir(parents=True, exist_ok=True)
    json_path = summary_dir / f"{name}.json"
    markdown_path = summary_dir / f"{name}.md"
    write_text_atomically(
        json_path, json.dumps(summary, indent=2, ensure_ascii=False, default=_to_json) + "\n"
    )
    write_text_atomically(markdown_path, _summary_markdown(header, rows, paper_notes, settings,
                                                                 json_path.name))
    sections = [(name, _class_figures(Path(folder))) for name, folder in (class_folders or {}).items()]
    write_summary_html(markdown_path.with_suffix(".html"), f"Test summary: {config.get('run_id', summary_dir.parent.name)}"
                       f" ({config.get('dataset')}, s_{config.get('score')})", header, rows,
                       [*paper_notes, "Key settings: " + "; ".join(settings) + ". The full configuration is in "
                        f"{json_path.name}."], sections)
    return json_path, markdown_path


def _class_figures(folder: Path) -> list[Path]:
    """A class's figures in the order a reader wants them: ROC, score distribution, then its anomaly maps."""
    return [folder / "roc.png", folder / "score_distribution.png",
            *(folder / MAPS_FOLDER / f"{name}.png" for name in OVERLAY_FIGURES)]


def _scores_csv(
    labels: np.ndarray, scores: np.ndarray, extra_columns: dict[str, np.ndarray]
) -> str:
    columns = {"index": np.arange(len(labels)), "anomaly_label": labels, "score": scores}
    for name, values in extra_columns.items():
        if name in _SCORE_COLUMNS:
            raise ValueError(f"extra column {name!r} would overwrite a standard column")
        values = np.asarray(values)
        if values.shape != labels.shape:
            raise ValueError(
                f"extra column {name!r} has shape {values.shape}, expected {labels.shape}"
            )
        columns[name] = values
    return columns_csv(columns)


def columns_csv(columns: dict[str, np.ndarray]) -> str:
    """CSV text of equal-length columns, a header row of their names; floats keep every digit."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    cells = [_format_column(np.asarray(values)) for values in columns.values()]
    writer.writerows(zip(*cells))
    return buffer.getvalue()


def rows_csv(rows: list[dict]) -> str:
    """columns_csv of rows with the same keys, the first row's keys as the header."""
    return columns_csv({key: [row[key] for row in rows] for key in rows[0]})


def _format_column(values: np.ndarray) -> list[str]:
    # repr() of a Python float is the shortest text that reads back to the same float, so the
    # CSV keeps every score exactly.
    if values.dtype == bool or np.issubdtype(values.dtype, np.integer):
        return [str(int(value)) for value in values]
    if np.issubdtype(values.dtype, np.floating):
        return [repr(float(value)) for value in values]
    return [str(value) for value in values]


def _paper_auc_by_class(paper: dict | None, class_names_in_order: list[str]) -> dict[str, float]:
    if paper is None:
        return {}
    if "class_names" in paper:
        return dict(zip(paper["class_names"], paper["per_class"]))
    if len(paper["per_class"]) != len(class_names_in_order):
        raise ValueError(
            f"{paper['source']} has {len(paper['per_class'])} classes but class_names_in_order "
            f"lists {len(class_names_in_order)}: pass every class of the dataset, "
            "in class-index order"
        )
    return dict(zip(class_names_in_order, paper["per_class"]))


def _interval_notes(intervals: dict) -> list[str]:
    if not intervals:
        return []
    return [f"In brackets: the {intervals['confidence']:.0%} bootstrap interval over the test images "
            f"({intervals['resamples']} resamples stratified by label, seeded by the run's seed; "
            "utils/scoring/bootstrap.py). The mean's pairs the classes' resamples."]


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _summary_table(ours: dict[str, float | None], mean_auc: float | None, paper_auc: dict[str, float],
                   columns: dict[str, dict[str, float | None]],
                   intervals: dict[str, dict]) -> tuple[list[str], list[list[str]]]:
    column_keys = [SUMMARY_COLUMNS.get(title) for title in columns]

    def interval(key, name):
        of_key = intervals.get(key, {})
        return of_key.get("mean") if name is None else of_key.get("per_class", {}).get(name)

    def row(label, name, auc, paper, extra):
        difference = "—" if auc is None or paper is None else f"{auc - paper:+.4f}"
        return [label, interval_cell(auc, interval("auc", name)), _number(paper), difference,
                *(interval_cell(value, interval(key, name)) for key, value in zip(column_keys, extra))]

    rows = [row(name, name, auc, paper_auc.get(name), [values.get(name) for values in columns.values()])
            for name, auc in ours.items()]
    # The paper's mean is only comparable when it covers exactly the classes our mean does.
    with_auc = [name for name, auc in ours.items() if auc is not None]
    paper_mean = (
        float(np.mean([paper_auc[name] for name in with_auc]))
        if with_auc and all(name in paper_auc for name in with_auc)
        else None
    )
    rows.append(row(f"Mean ({len(ours)} classes)", None, mean_auc, paper_mean,
                    [known_mean(values.get(name) for name in ours) for values in columns.values()]))
    return ["Class", "Our AUC", "Paper AUC", "Difference", *columns], rows


def _paper_notes(paper: dict | None) -> list[str]:
    if paper is None:
        return ["Paper numbers: the papers report no result for this setting."]
    return [f"The paper's printed mean over all its {len(paper['per_class'])} classes: {paper['mean']:.4f}.",
            f"Paper numbers: {paper['source']}."]


def _key_settings(config: dict) -> list[str]:
    return [f"{key}: {config[key]}" for key in _KEY_SETTINGS if config.get(key) is not None]


def _summary_markdown(header: list[str], rows: list[list[str]], paper_notes: list[str], settings: list[str],
                      json_name: str) -> str:
    lines = ["# Test summary", "", "| " + " | ".join(header) + " |",
             "| --- |" + " ---: |" * (len(header) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += ["", *paper_notes, "", "## Key settings", "", *(f"- {setting}" for setting in settings), "",
              f"The full configuration is in {json_name}.", ""]
    return "\n".join(lines)


def _to_json(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
