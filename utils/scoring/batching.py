"""A compiled pass of a model over a set of images, batch by batch, and how long it takes.

Image sets are padded to whole batches, so every call sees one batch shape and XLA compiles each
pass exactly once.
"""

import time

import numpy as np
import tensorflow as tf


def padded_batches(images, batch_size: int) -> tuple[int, tf.data.Dataset]:
    """(number of images, batches of exactly batch_size images): the last image repeats to fill the last batch."""
    count = int(images.shape[0])
    padding = -count % batch_size
    padded = tf.concat([images, tf.repeat(images[-1:], padding, axis=0)], 0) if padding else images
    return count, tf.data.Dataset.from_tensor_slices(padded).batch(batch_size).prefetch(tf.data.AUTOTUNE)


def per_image_pass(compiled, images, batch_size: int, *arguments) -> dict[str, np.ndarray]:
    """compiled(batch, *arguments) -> {name: (batch,) tensor} over every image, as {name: (N,) array}."""
    count, batches = padded_batches(images, batch_size)
    parts = [compiled(batch, *arguments) for batch in batches]
    return {name: np.concatenate([part[name].numpy() for part in parts])[:count] for name in parts[0]}


def timed(function, *arguments):
    """(function(*arguments), seconds it took)."""
    started = time.perf_counter()
    result = function(*arguments)
    return result, time.perf_counter() - started
