"""Cats-vs-Dogs: Microsoft's PetImages folder (Cat/ and Dog/, its few corrupt JPEGs skipped), or
tensorflow-datasets' single train split; either is split into train and test here, with a fixed
seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .dataset import DatasetError, ImageDataset, _require_folder
from .downloads import _explain_tfds_failure
from .image_files import DECODE_BATCH_SIZE, _decode_image_files, _find_images, _first_files, _resize

CATS_VS_DOGS_CLASS_NAMES = ("cat", "dog")
CATS_VS_DOGS_FIX = (
    "Download the Microsoft Cats and Dogs dataset from "
    "https://www.microsoft.com/en-us/download/details.aspx?id=54765, extract it, and pass "
    "--data_dir path/to/PetImages, the folder holding Cat/ and Dog/."
)
# tfds ships cats_vs_dogs as a single train split. Fixed and independent of any training seed,
# so the test set is identical in every run; the offline folder is split the same way.
CATS_VS_DOGS_SPLIT_SEED = 0
CATS_VS_DOGS_TEST_FRACTION = 0.2


def _load_cats_vs_dogs(data_dir: Path | None, image_size: int) -> ImageDataset:
    """Labels 0 cat, 1 dog, as in tfds; split CATS_VS_DOGS_TEST_FRACTION per class into test."""
    from sklearn.model_selection import train_test_split

    if data_dir is None:
        with _explain_tfds_failure("cats_vs_dogs", CATS_VS_DOGS_FIX):
            images, labels = _download_cats_vs_dogs_with_tfds(image_size)
        paths = None
    else:
        images, labels, paths = _read_pet_images(data_dir, image_size)
    train_indices, test_indices = train_test_split(
        np.arange(len(labels)),
        test_size=CATS_VS_DOGS_TEST_FRACTION,
        stratify=labels,
        random_state=CATS_VS_DOGS_SPLIT_SEED,
    )
    return ImageDataset(
        "cats_vs_dogs",
        images[train_indices],
        labels[train_indices],
        images[test_indices],
        labels[test_indices],
        CATS_VS_DOGS_CLASS_NAMES,
        test_paths=None if paths is None else tuple(str(paths[index]) for index in test_indices),
    )


def _download_cats_vs_dogs_with_tfds(image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """All of tfds's cats_vs_dogs (its only split, "train"), resized as it streams in."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    pairs = tfds.load("cats_vs_dogs", split="train", as_supervised=True)
    resized = pairs.map(
        lambda image, label: (_resize(image, image_size, image_size), label),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    batches = list(resized.batch(DECODE_BATCH_SIZE).as_numpy_iterator())
    images = np.concatenate([images for images, _ in batches])
    labels = np.concatenate([labels for _, labels in batches]).astype(np.int64)
    return images, labels


def _read_pet_images(
    folder: Path, image_size: int
) -> tuple[np.ndarray, np.ndarray, list[Path]]:
    """The images, labels and files of the Microsoft PetImages folder: its few corrupt JPEGs are
    expected, so they are skipped with a warning instead of stopping the load."""
    _require_folder(folder, "cats_vs_dogs", CATS_VS_DOGS_FIX)
    paths, labels = [], []
    for label, class_name in enumerate(CATS_VS_DOGS_CLASS_NAMES):
        class_paths = _find_images(
            _pet_images_class_folder(folder, class_name),
            f"the {class_name} images",
            CATS_VS_DOGS_FIX,
        )
        paths += class_paths
        labels += [label] * len(class_paths)
    images, readable = _decode_image_files(paths, image_size)
    unreadable = [path for path, is_readable in zip(paths, readable) if not is_readable]
    if unreadable:
        print(
            f"warning: skipped {len(unreadable)} of {len(paths)} cats_vs_dogs images that "
            f"could not be read: {_first_files(unreadable, relative_to=folder)}"
        )
    readable_paths = [path for path, is_readable in zip(paths, readable) if is_readable]
    return images, np.array(labels, dtype=np.int64)[readable], readable_paths


def _pet_images_class_folder(folder: Path, class_name: str) -> Path:
    """PetImages spells its folders Cat/ and Dog/; accept lower case too."""
    for spelling in (class_name, class_name.capitalize()):
        if (folder / spelling).is_dir():
            return folder / spelling
    raise DatasetError(
        f"cats_vs_dogs folder {folder} has no {class_name}/ (or {class_name.capitalize()}/) "
        f"sub-folder. {CATS_VS_DOGS_FIX}"
    )
