"""ROC curve and score-distribution figures for one tested class, saved as PNG files."""

import io
import os

import matplotlib

# Tests and training runs happen on machines without a screen; Agg renders straight to files.
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen before this import)
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402
from sklearn.metrics import roc_auc_score, roc_curve  # noqa: E402

from utils.reporting.files import write_bytes_atomically  # noqa: E402

_GROUP_COLOURS = {"normal": "tab:blue", "anomalous": "tab:red"}


def _save_png_atomically(figure: plt.Figure, path: str | os.PathLike) -> None:
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=100)
    write_bytes_atomically(path, png.getvalue())


def plot_roc(anomaly_labels, anomaly_scores, path: str | os.PathLike, title: str) -> None:
    """Save the ROC curve (anomalous = positive), with the AUC in the legend and the chance line."""
    labels = np.asarray(anomaly_labels)
    scores = np.asarray(anomaly_scores)
    false_positive_rate, true_positive_rate, _ = roc_curve(labels, scores)
    auc = roc_auc_score(labels, scores)
    figure, axes = plt.subplots(figsize=(5, 5))
    try:
        axes.plot(
            false_positive_rate,
            true_positive_rate,
            color="tab:orange",
            label=f"ROC (AUC = {auc:.4f})",
        )
        axes.plot([0, 1], [0, 1], color="grey", linestyle="--", label="chance")
        axes.set(
            xlim=(0, 1),
            ylim=(0, 1.01),
            xlabel="False positive rate",
            ylabel="True positive rate",
            title=title,
        )
        axes.legend(loc="lower right")
        _save_png_atomically(figure, path)
    finally:
        plt.close(figure)


def plot_score_distribution(
    anomaly_labels, anomaly_scores, path: str | os.PathLike, title: str
) -> None:
    """Save histograms with density curves of the scores of normal and of anomalous images."""
    groups = np.where(np.asarray(anomaly_labels) == 1, "anomalous", "normal")
    figure, axes = plt.subplots(figsize=(6, 4))
    try:
        # Each group is normalised on its own: in one-vs-all the anomalous images outnumber the
        # normal ones about nine to one, and a shared normalisation would flatten the normal curve.
        sns.histplot(
            x=np.asarray(anomaly_scores),
            hue=groups,
            hue_order=list(_GROUP_COLOURS),
            palette=_GROUP_COLOURS,
            stat="density",
            common_norm=False,
            kde=True,
            element="step",
            ax=axes,
        )
        axes.set(xlabel="Anomaly score (higher = more anomalous)", ylabel="Density", title=title)
        _save_png_atomically(figure, path)
    finally:
        plt.close(figure)
