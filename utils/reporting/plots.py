"""ROC curve, score-distribution, anomaly-map and learning-curve figures of one class, saved as PNG files."""

import io
import os
import textwrap

import matplotlib

# Tests and training runs happen on machines without a screen; Agg renders straight to files.
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen before this import)
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402
from sklearn.metrics import roc_auc_score, roc_curve  # noqa: E402

from utils.reporting.files import write_bytes_atomically  # noqa: E402

_GROUP_COLOURS = {"normal": "tab:blue", "anomalous": "tab:red"}
_MAP_COLOURS = "jet"
# Opaque enough to read the map, transparent enough to see which part of the image it marks.
_MAP_OPACITY = 0.5


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


def plot_learning_curve(points: list[dict[str, float]], path: str | os.PathLike, title: str) -> None:
    """Save every column of the points against their "iteration": AUCs (*_auc) as solid lines, the floors
    (*_floor_auc) dashed, other values (a discriminator's accuracy) dotted."""
    iterations = [point["iteration"] for point in points]
    columns = sorted({name for point in points for name in point} - {"iteration"})
    figure, axes = plt.subplots(figsize=(9, 4.5))
    try:
        for name in columns:
            style = "--" if name.endswith("_floor_auc") else "-" if name.endswith("_auc") else ":"
            values = [point.get(name, np.nan) for point in points]
            axes.plot(iterations, values, linestyle=style, marker="." if len(points) < 30 else None, label=name)
        axes.set(xlabel="Training iteration", ylabel="AUC (accuracy: dotted)", title=title)
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.02, 0.5))
        figure.tight_layout()
        _save_png_atomically(figure, path)
    finally:
        plt.close(figure)


def plot_anomaly_maps(
    images, reconstructions, maps, captions: list[str], path: str | os.PathLike, title: str
) -> None:
    """Save one row per image: the image, its reconstruction, and its anomaly map over the image in grey."""
    images = np.asarray(images, dtype=np.float64)
    reconstructions = np.asarray(reconstructions, dtype=np.float64)
    maps = np.asarray(maps, dtype=np.float64)
    _check_anomaly_map_inputs(images, reconstructions, maps, captions)
    # One colour scale for every row, from 0, so that equal colours mean equal values across rows.
    largest = float(maps.max())
    norm = Normalize(vmin=0.0, vmax=largest if largest > 0 else 1.0)
    rows = len(images)
    figure, axes = plt.subplots(
        rows, 3, figsize=(10, 3 * rows + 0.6), squeeze=False, layout="constrained"
    )
    try:
        for row, (image, reconstruction, anomaly_map, caption) in enumerate(
            zip(images, reconstructions, maps, captions)
        ):
            image_axes, reconstruction_axes, map_axes = axes[row]
            _show_image(image_axes, image)
            image_axes.set_title(textwrap.fill(caption, 40), fontsize=9)
            _show_image(reconstruction_axes, reconstruction)
            reconstruction_axes.set_title("reconstruction", fontsize=9)
            # Under the map the image is shown in grey, so every colour in that panel is the map's.
            _show_image(map_axes, _luminance(image))
            map_axes.imshow(anomaly_map, cmap=_MAP_COLOURS, norm=norm, alpha=_MAP_OPACITY)
            map_axes.set_title("anomaly map", fontsize=9)
        # Drawn from the colour map itself, not the overlay, so the bar shows the colours at full strength.
        figure.colorbar(
            ScalarMappable(norm=norm, cmap=_MAP_COLOURS),
            ax=axes[:, 2],
            label="anomaly map value (one scale for all rows)",
        )
        figure.suptitle(title)
        _save_png_atomically(figure, path)
    finally:
        plt.close(figure)


def _check_anomaly_map_inputs(
    images: np.ndarray, reconstructions: np.ndarray, maps: np.ndarray, captions: list[str]
) -> None:
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or len(images) == 0:
        raise ValueError(
            f"images have shape {images.shape}: pass a non-empty (N, H, W, C) batch with C 1 or 3"
        )
    if reconstructions.shape != images.shape:
        raise ValueError(
            f"reconstructions have shape {reconstructions.shape} but images {images.shape}: "
            "pass one reconstruction of the same shape per image"
        )
    if maps.shape != images.shape[:3]:
        raise ValueError(
            f"maps have shape {maps.shape}: pass one (H, W) map per image, {images.shape[:3]} in all"
        )
    if not np.isfinite(maps).all() or (maps < 0).any():
        raise ValueError("maps hold negative or non-finite values: pass finite anomaly maps >= 0")
    if len(captions) != len(images):
        raise ValueError(f"{len(captions)} captions for {len(images)} images: pass one caption per image")


def _luminance(image: np.ndarray) -> np.ndarray:
    # The ITU-R BT.601 weights, as tf.image.rgb_to_grayscale uses.
    if image.shape[-1] == 1:
        return image
    return image @ np.array([[0.2989], [0.5870], [0.1140]])


def _show_image(axes: plt.Axes, image: np.ndarray) -> None:
    # Clipped because a reconstruction can overshoot [0, 1] slightly, and imshow would warn on it.
    image = np.clip(image, 0.0, 1.0)
    if image.shape[-1] == 1:
        axes.imshow(image[..., 0], cmap="gray", vmin=0.0, vmax=1.0)
    else:
        axes.imshow(image)
    axes.set_axis_off()
