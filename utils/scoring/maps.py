"""Anomaly maps: where in an image a trained model sees the anomaly, for every method.

A method's pixel term is a mean over pixels of |x - x^| (DGAD's s_rec, eq 15; AD-CGAN's L_GR, eq 4),
with x^ its model's reconstruction(x); the map is that term before the mean over pixels: |x - x^|
averaged over the channels. Neither paper localises anomalies; these maps go past both.
"""

import numpy as np
import tensorflow as tf

from utils.scoring.batching import per_image_pass


def anomaly_maps(images, reconstructions):
    """(N, H, W): |x - x^| averaged over the channels, for images and reconstructions (N, H, W, C)."""
    return tf.reduce_mean(tf.abs(images - reconstructions), axis=-1)


class MapPass:
    """The reconstruction and the anomaly map of every image, compiled once, computed batch by batch."""

    def __init__(self, model, batch_size: int, jit_compile: bool = True):
        self.model = model
        self.batch_size = batch_size
        self._pass = tf.function(self.outputs, jit_compile=jit_compile)

    def outputs(self, images) -> dict:
        reconstructions = self.model.reconstruction(images)
        return {"reconstruction": reconstructions, "anomaly_map": anomaly_maps(images, reconstructions)}

    def __call__(self, images) -> tuple[np.ndarray, np.ndarray]:
        """(reconstructions (N, H, W, C), anomaly maps (N, H, W)) of model-ready images."""
        outputs = per_image_pass(self._pass, images, self.batch_size)
        return outputs["reconstruction"], outputs["anomaly_map"]


def pixel_auroc(maps: np.ndarray, masks: np.ndarray) -> float | None:
    """Area under the ROC curve of every pixel of every image (MVTec AD's pixel-level AUROC), defective
    pixels (mask 1) positive; None when the masks mark no pixel or every pixel."""
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(masks).ravel() > 0
    if labels.all() or not labels.any():
        return None
    return float(roc_auc_score(labels, np.asarray(maps, np.float64).ravel()))
