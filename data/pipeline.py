"""From a loaded dataset to model inputs: one-class splits, scaling, and the tf.data pipelines.

The one-class protocol (both papers, and GEOM): train on the normal images of the training
split only; test on the whole test split with anomaly label 1 for every anomalous image.
Images are scaled once to [-1, 1]. A 28x28 image is brought to 32x32 by zero padding 2 pixels
on each side (black border, as GEOM does for MNIST); any other size is resized bilinearly.

Training batches are drawn by iteration number from a permutation per epoch that is a pure
function of (seed, epoch), and each batch's random draws (DGAD's pretext transformations,
AD-CGAN's z) come from its own seed (seed, iteration).
So a run is reproducible from --seed alone, and a run resumed at iteration k sees exactly the
batches and transformations that an uninterrupted run would have seen.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from data.random_streams import DATA_ORDER_STREAM, TRAINING_INPUTS_STREAM, VALIDATION_STREAM, ZOOM_STREAM
from data.sources import DatasetError, ImageDataset

ZERO_PAD_SIZES = {(28, 32): 2}
# one_vs_all: the class is normal, the rest anomalous; all_vs_one (AD-CGAN's hard scheme): the reverse.
SCHEMES = ("one_vs_all", "all_vs_one")


@dataclasses.dataclass(frozen=True)
class OneClassSplit:
    """Training images (all normal) and the labelled test set of one experiment; test_paths
    (str), test_masks (uint8, 1 = defective pixel) and test_kinds (str: good or the anomaly type)
    when the dataset has them."""

    train_images: np.ndarray
    test_images: np.ndarray
    test_anomaly_labels: np.ndarray  # 1 = anomalous
    test_class_labels: np.ndarray
    test_paths: np.ndarray | None = None
    test_masks: np.ndarray | None = None
    test_kinds: np.ndarray | None = None
    # Normal images held out of training (--val_fraction): thresholds and normalisation are fitted on them.
    validation_images: np.ndarray | None = None


def one_class_split(dataset: ImageDataset, target_class: int, scheme: str = "one_vs_all") -> OneClassSplit:
    """one_vs_all: target_class is normal, the rest anomalous; all_vs_one: the reverse (AD-CGAN).

    Datasets whose anomalies are defects within a class (MVTec AD, image folders) mark them in
    dataset.test_is_anomalous; their test set is the target class's own test images.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
    num_classes = len(dataset.class_names)
    if not 0 <= target_class < num_classes:
        raise DatasetError(f"class {target_class} does not exist in {dataset.name}: "
                           f"classes are 0..{num_classes - 1} ({', '.join(dataset.class_names)})")
    if dataset.test_is_anomalous is not None:
        return defect_split(dataset, target_class, scheme)
    train_is_target = dataset.y_train == target_class
    test_is_target = dataset.y_test == target_class
    train_is_normal = train_is_target if scheme == "one_vs_all" else ~train_is_target
    test_is_anomalous = ~test_is_target if scheme == "one_vs_all" else test_is_target
    if not train_is_normal.any():
        raise DatasetError(f"{dataset.name} has no normal training images for class {target_class} "
                           f"({dataset.class_names[target_class]}) under {scheme}; nothing to train on")
    return OneClassSplit(
        train_images=dataset.x_train[train_is_normal],
        test_images=dataset.x_test,
        test_anomaly_labels=test_is_anomalous.astype(np.int64),
        test_class_labels=dataset.y_test,
        test_paths=_string_array(dataset.test_paths),
        test_masks=dataset.test_masks,
    )


def validation_size(train_size: int, fraction: float) -> int:
    """How many of train_size normal training images --val_fraction holds out (rounded, at least one)."""
    return max(1, round(train_size * fraction)) if fraction > 0 else 0


def hold_out_validation(split: OneClassSplit, fraction: float, seed: int) -> OneClassSplit:
    """The split with a seeded `fraction` of its normal training images moved to validation_images.

    Which images are held out depends on (seed, the training set's size) alone, and they keep their order.
    """
    count = validation_size(len(split.train_images), fraction)
    if count == 0:
        return split
    order = np.random.default_rng([seed, VALIDATION_STREAM]).permutation(len(split.train_images))
    held_out = np.zeros(len(split.train_images), bool)
    held_out[order[:count]] = True
    return dataclasses.replace(split, train_images=split.train_images[~held_out],
                               validation_images=split.train_images[held_out])


def defect_split(dataset: ImageDataset, target_class: int, scheme: str) -> OneClassSplit:
    if scheme != "one_vs_all":
        raise DatasetError(f"{dataset.name} marks defective images within each class, so only --scheme "
                           "one_vs_all applies to it")
    train_images = dataset.x_train[dataset.y_train == target_class]
    test_in_class = dataset.y_test == target_class
    if len(train_images) == 0 or not test_in_class.any():
        raise DatasetError(f"{dataset.name} has no {'training' if len(train_images) == 0 else 'test'} images "
                           f"for {dataset.class_names[target_class]}; nothing to train or test on")
    return OneClassSplit(
        train_images=train_images,
        test_images=dataset.x_test[test_in_class],
        test_anomaly_labels=dataset.test_is_anomalous[test_in_class].astype(np.int64),
        test_class_labels=dataset.y_test[test_in_class],
        test_paths=_in_class(_string_array(dataset.test_paths), test_in_class),
        test_masks=_in_class(dataset.test_masks, test_in_class),
        test_kinds=_in_class(_string_array(dataset.test_kinds), test_in_class),
    )


def _in_class(per_test_image: np.ndarray | None, test_in_class: np.ndarray) -> np.ndarray | None:
    return None if per_test_image is None else per_test_image[test_in_class]


def _string_array(texts: tuple[str, ...] | None) -> np.ndarray | None:
    return None if texts is None else np.array(texts, dtype=str)


def scale_pixels(pixels) -> tf.Tensor:
    """uint8 pixel values -> float32 in [-1, 1]."""
    return tf.convert_to_tensor(pixels, tf.float32) / 127.5 - 1.0


def scaled_pixel_values() -> tf.Tensor:
    """(256,): scale_pixels of every uint8 value. A graph that looks its input up here scales bit for bit as
    to_model_images does; computing the division in the graph may not (it can become a multiplication), and
    a model's scores move by 1e-5 for a last-bit change of its input."""
    return scale_pixels(np.arange(256, dtype=np.uint8))


def to_model_images(images: np.ndarray, image_size: int) -> tf.Tensor:
    """uint8 NHWC images -> float32 in [-1, 1] at image_size x image_size."""
    return to_model_geometry(scale_pixels(images), image_size)


def to_model_geometry(scaled, image_size: int) -> tf.Tensor:
    """Scaled NHWC images of a dataset's geometry (static height and width) -> image_size x image_size: kept,
    zero padded (ZERO_PAD_SIZES) or resized. The second step of to_model_images, on its own for a graph that
    scales by scaled_pixel_values."""
    height, width = scaled.shape[1:3]
    if (height, width) == (image_size, image_size):
        return scaled
    pad = ZERO_PAD_SIZES.get((height, image_size))
    if height == width and pad is not None:
        return tf.pad(scaled, [[0, 0], [pad, pad], [pad, pad], [0, 0]], constant_values=-1.0)
    return tf.image.resize(scaled, (image_size, image_size), method="bilinear", antialias=True)


def to_source_geometry(images, height: int, width: int) -> np.ndarray:
    """Model-sized images or maps (N, S, S[, C]) back at the height x width of the images they came from:
    to_model_images undone, the zero border cropped or the resize reversed (bilinear)."""
    images = np.asarray(images, np.float32)
    per_pixel = images[..., None] if images.ndim == 3 else images
    size = per_pixel.shape[1]
    pad = ZERO_PAD_SIZES.get((height, size))
    if (height, width) == (size, size):
        restored = per_pixel
    elif height == width and pad is not None:
        restored = per_pixel[:, pad:size - pad, pad:size - pad]
    else:
        restored = tf.image.resize(per_pixel, (height, width), method="bilinear", antialias=True).numpy()
    return restored[..., 0] if images.ndim == 3 else restored


def stream_seed(seed: int, stream: int, index) -> tf.Tensor:
    """An independent stateless-RNG seed for the index-th draw of one random stream."""
    return tf.random.experimental.stateless_fold_in(tf.constant([seed, stream], tf.int64), index)


def random_zoom(images: tf.Tensor, max_zoom: float, seed) -> tf.Tensor:
    """Zoom each image in by its own factor in [1, 1 + max_zoom] around a random point (no border fill)."""
    batch_size = tf.shape(images)[0]
    crop_seed, position_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    crop_fraction = 1.0 / tf.random.stateless_uniform([batch_size], crop_seed, 1.0, 1.0 + max_zoom)
    top_left = tf.random.stateless_uniform([batch_size, 2], position_seed) * (1.0 - crop_fraction)[:, None]
    boxes = tf.concat([top_left, top_left + crop_fraction[:, None]], axis=1)
    return tf.image.crop_and_resize(images, boxes, tf.range(batch_size), images.shape[1:3])


def training_batches(images: tf.Tensor, batch_size: int, seed: int, start_iteration: int,
                     iterations: int, max_zoom: float = 0.0, *, training_inputs) -> tf.data.Dataset:
    """training_inputs(batch, step_seed) for every iteration in [start_iteration, iterations): the inputs of the
    model's train_step (model.training_inputs), the batch and the step's random draws per image.

    The draws are made here, not in the step, so that a distributed step splits them by image with
    the batch. max_zoom > 0 adds random zoom augmentation (DGAD uses it on MVTec AD).
    """
    num_images = int(images.shape[0])
    if num_images < batch_size:
        raise DatasetError(f"only {num_images} training images for a batch size of {batch_size}; "
                           f"pass --batch_size {num_images} or smaller")
    batches_per_epoch = num_images // batch_size

    def batch_for(iteration):
        epoch, position = iteration // batches_per_epoch, iteration % batches_per_epoch
        order = tf.argsort(tf.random.stateless_uniform(
            [num_images], stream_seed(seed, DATA_ORDER_STREAM, epoch)))
        # A static batch shape lets XLA compile one fixed-size program for the training step.
        batch_indices = tf.reshape(order[position * batch_size:(position + 1) * batch_size], [batch_size])
        batch = tf.gather(images, batch_indices)
        if max_zoom > 0:
            batch = random_zoom(batch, max_zoom, stream_seed(seed, ZOOM_STREAM, iteration))
        return training_inputs(batch, stream_seed(seed, TRAINING_INPUTS_STREAM, iteration))

    return (tf.data.Dataset.range(start_iteration, iterations)
            .map(batch_for, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .prefetch(tf.data.AUTOTUNE))
