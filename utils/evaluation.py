"""A trained model over a set of images: the inputs of its anomaly scores, and how fast they come.

DGAD's s_rec and s_dir passes, and AD-CGAN's normality-score terms. Every pass is compiled once
per model. Image sets are padded to whole batches, so every call sees one batch shape and XLA
compiles each pass exactly once.
"""

import time

import numpy as np
import tensorflow as tf

from data.pretext import LABEL_GROUPS, scoring_transformations
from models.adcgan import ADCGAN
from models.dgad_gan import DGAD

# The stream of the run's seed that draws the random z of AD-CGAN's L_FL (eq 5).
ADCGAN_SCORE_STREAM = 7


def padded_batches(images, batch_size: int) -> tuple[int, tf.data.Dataset]:
    """(number of images, batches of exactly batch_size images): the last image repeats to fill the last batch."""
    count = int(images.shape[0])
    padding = -count % batch_size
    padded = tf.concat([images, tf.repeat(images[-1:], padding, axis=0)], 0) if padding else images
    return count, tf.data.Dataset.from_tensor_slices(padded).batch(batch_size).prefetch(tf.data.AUTOTUNE)


class Scoring:
    """The per-image quantities behind DGAD's two scores, computed batch by batch."""

    def __init__(self, model: DGAD, batch_size: int, jit_compile: bool = True):
        self.model = model
        self.batch_size = batch_size
        self.label_groups = LABEL_GROUPS[model.protocol]
        self.transformations = scoring_transformations(model.protocol)
        self._reconstruction_errors = tf.function(model.reconstruction_errors, jit_compile=jit_compile)
        self._transformation_probabilities = tf.function(model.transformation_probabilities,
                                                         jit_compile=jit_compile)
        # Compiling now keeps the compile time out of every measured images-per-second rate.
        zero_batch = tf.zeros((batch_size, *model.image_shape))
        self.reconstruction_errors(zero_batch)
        self.transformation_probabilities(zero_batch)

    def reconstruction_errors(self, images) -> dict[str, np.ndarray]:
        """{"image_error", "latent_error"}: the parts of s_rec (eq 15) for each image."""
        count, batches = padded_batches(images, self.batch_size)
        parts = [self._reconstruction_errors(batch) for batch in batches]
        return {name: np.concatenate([part[name].numpy() for part in parts])[:count] for name in parts[0]}

    def transformation_probabilities(self, images) -> np.ndarray:
        """(T, N, label_size): D_cls's probabilities for every scoring transformation of every image (eq 17)."""
        count, batches = padded_batches(images, self.batch_size)
        per_batch = [np.stack([self._transformation_probabilities(batch, transformation).numpy()
                               for transformation in self.transformations])
                     for batch in batches]
        return np.concatenate(per_batch, axis=1)[:, :count]

    def discriminator_accuracy(self, probabilities: np.ndarray) -> np.ndarray:
        """Per image, the fraction of scoring transformations whose label D_cls predicts (every group right).

        The supplement's Tables 6 and 7 average this over the normal test images and over all of them.
        """
        true_indices = self.transformations.numpy()
        correct = np.ones(probabilities.shape[:2], bool)
        starts = np.cumsum((0,) + self.label_groups[:-1])
        for group, (start, size) in enumerate(zip(starts, self.label_groups)):
            predicted = probabilities[..., start:start + size].argmax(axis=-1)
            correct &= predicted == true_indices[:, group, None]
        return correct.mean(axis=0)


class ADCGANScoring:
    """The four per-image terms of AD-CGAN's normality score (eqs 4-5), computed batch by batch.

    L_FL's random z is drawn from `seed` (the run's), the same z for every batch, so a score
    depends on neither the batch an image lands in nor the invocation.
    """

    def __init__(self, model: ADCGAN, batch_size: int, seed: int, jit_compile: bool = True):
        self.batch_size = batch_size
        self.seed = tf.constant([seed, ADCGAN_SCORE_STREAM], tf.int64)
        self._terms = tf.function(model.predict_step, jit_compile=jit_compile)
        self.terms(tf.zeros((batch_size, *model.image_shape)))

    def terms(self, images) -> dict[str, np.ndarray]:
        """{"image_error", "feature_error", "encoded_error", "latent_error"} for each image."""
        count, batches = padded_batches(images, self.batch_size)
        parts = [self._terms((batch, self.seed)) for batch in batches]
        return {name: np.concatenate([part[name].numpy() for part in parts])[:count] for name in parts[0]}


def timed(function, *arguments):
    """(function(*arguments), seconds it took)."""
    started = time.perf_counter()
    result = function(*arguments)
    return result, time.perf_counter() - started


def scoring_speed(scoring: Scoring, images, rounds: int = 3) -> dict[str, float]:
    """Images per second of the s_rec pass and the s_dir pass on the same model and images.

    The passes alternate, round after round, and each keeps its median time, so a slowdown of the
    machine during the measurement hits both alike. s_dir's one-off Dirichlet fit on the training
    set is not part of this rate.
    """
    passes = {"rec": scoring.reconstruction_errors, "dir": scoring.transformation_probabilities}
    seconds = {name: [] for name in passes}
    for _ in range(rounds):
        for name, compute in passes.items():
            seconds[name].append(timed(compute, images)[1])
    return {name: int(images.shape[0]) / float(np.median(times)) for name, times in seconds.items()}
