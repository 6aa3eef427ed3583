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
from utils.reporting.plots import plot_roc, plot_score_distribution

_SCORE_COLUMNS = ("index", "anomaly_label", "score")
_SUMMARY_KEYS = ("per_class_auc", "mean_auc", "config", "paper")

# The settings that tell runs apart at a glance (those a method does not have are None and left out);
# the full config is in summary.json.
_KEY_SETTINGS = (
    "method", "dataset", "scheme", "score", "variant", "protocol", "padding", "coordconv", "restoration",
    "lambda_cmp", "width", "image_size", "batch_size", "iterations", "epochs", "warmup_epochs", "latent_size",
    "learning_rate", "seed",
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
) -> float:
    """Write scores.csv, roc.png, score_distribution.png and metrics.json into run_dir; return the AUC.

    metrics.json holds the AUC and `metrics`; it is written last, so its presence means the class's
    results are complete (see read_class_metrics).
    """
    labels = np.asarray(anomaly_labels).ravel()
    scores = np.asarray(anomaly_scores, dtype=np.float64).ravel()
    # Computing the AUC first means a test set that cannot be scored leaves no files behind.
    auc = roc_auc(labels, scores)
    labels = labels.astype(np.int64)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomically(run_dir / "scores.csv", _scores_csv(labels, scores, extra_columns or {}))
    plot_roc(labels, scores, run_dir / "roc.png", f"{class_name}: ROC curve")
    plot_score_distribution(
        labels, scores, run_dir / "score_distribution.png", f"{class_name}: anomaly scores"
    )
    write_text_atomically(
        run_dir / "metrics.json",
        json.dumps({"auc": auc, **(metrics or {})}, indent=2, default=_to_json) + "\n",
    )
    return auc


def read_class_metrics(run_dir: str | os.PathLike) -> dict | None:
    """metrics.json of a tested class, or None if its results were never completed."""
    path = Path(run_dir) / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else None


def write_summary(
    summary_dir: str | os.PathLike,
    per_class_auc: dict[str, float],
    class_names_in_order: list[str],
    config: dict,
    paper: dict | None,
    extra: dict | None = None,
) -> tuple[Path, Path]:
    """Write summary.json and summary.md for the tested classes; return their paths.

    class_names_in_order lists every class of the dataset in class-index order, which is the
    order of the paper's per-class values (see utils.reporting.paper_results.ReportedRow.reference).
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
    ours = {name: float(per_class_auc[name]) for name in tested}
    mean_auc = float(np.mean(list(ours.values())))
    summary = {
        "per_class_auc": ours, "mean_auc": mean_auc, "config": config, "paper": paper, **extra
    }

    summary_dir = Path(summary_dir)
    summary_dir.mkdir(parents=True, exist_ok=True)
    json_path = summary_dir / "summary.json"
    markdown_path = summary_dir / "summary.md"
    write_text_atomically(
        json_path, json.dumps(summary, indent=2, ensure_ascii=False, default=_to_json) + "\n"
    )
    write_text_atomically(
        markdown_path, _summary_markdown(ours, mean_auc, paper, paper_auc, config)
    )
    return json_path, markdown_path


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
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    cells = [_format_column(values) for values in columns.values()]
    writer.writerows(zip(*cells))
    return buffer.getvalue()


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


def _table_row(label: str, our_auc: float, paper_auc: float | None) -> str:
    if paper_auc is None:
        return f"| {label} | {our_auc:.4f} | — | — |"
    return f"| {label} | {our_auc:.4f} | {paper_auc:.4f} | {our_auc - paper_auc:+.4f} |"


def _summary_markdown(
    ours: dict[str, float],
    mean_auc: float,
    paper: dict | None,
    paper_auc: dict[str, float],
    config: dict,
) -> str:
    lines = [
        "# Test summary",
        "",
        "| Class | Our AUC | Paper AUC | Difference |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [_table_row(name, auc, paper_auc.get(name)) for name, auc in ours.items()]
    # The paper's mean is only comparable when it covers exactly the classes we tested.
    paper_mean = (
        float(np.mean([paper_auc[name] for name in ours]))
        if all(name in paper_auc for name in ours)
        else None
    )
    lines.append(_table_row(f"Mean ({len(ours)} classes)", mean_auc, paper_mean))
    lines.append("")
    if paper is None:
        lines.append("Paper numbers: the papers report no result for this setting.")
    else:
        lines.append(
            f"The paper's printed mean over all its {len(paper['per_class'])} classes: "
            f"{paper['mean']:.4f}."
        )
        lines.append(f"Paper numbers: {paper['source']}.")
    lines += ["", "## Key settings", ""]
    lines += [f"- {key}: {config[key]}" for key in _KEY_SETTINGS if config.get(key) is not None]
    lines += ["", "The full configuration is in summary.json.", ""]
    return "\n".join(lines)


def _to_json(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
