"""Downloads through tensorflow-datasets for the datasets that have them (CIFAR-10, MNIST,
Fashion-MNIST; cats_vs_dogs downloads its own single split), and the DatasetError that says how to
work offline when a download fails."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import numpy as np

from .dataset import DatasetError, ImageDataset, _one_line


def _download_with_tfds(
    tfds_name: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Download (or reuse the cached copy of) a dataset's train and test splits through
    tensorflow-datasets."""
    import tensorflow_datasets as tfds

    splits = tfds.load(tfds_name, split=["train", "test"], batch_size=-1, as_supervised=True)
    (x_train, y_train), (x_test, y_test) = tfds.as_numpy(splits)
    return x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64)


def _load_with_tfds(
    tfds_name: str, class_names: tuple[str, ...], offline_fix: str
) -> ImageDataset:
    with _explain_tfds_failure(tfds_name, offline_fix):
        x_train, y_train, x_test, y_test = _download_with_tfds(tfds_name)
    return ImageDataset(tfds_name, x_train, y_train, x_test, y_test, class_names)


@contextmanager
def _explain_tfds_failure(tfds_name: str, offline_fix: str) -> Iterator[None]:
    try:
        yield
    except Exception as error:  # tfds reports network, disk and install problems as many types
        raise DatasetError(
            f"Downloading {tfds_name} through tensorflow-datasets failed ({_one_line(error)}). "
            f"To work offline: {offline_fix}"
        ) from error
