"""CIFAR-10: the python version's pickled batches (cifar-10-batches-py/), or a tensorflow-datasets
download when no folder is given."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np

from .dataset import DatasetError, ImageDataset, _one_line, _require_folder
from .downloads import _load_with_tfds

CIFAR10_CLASS_NAMES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
CIFAR10_FOLDER_NAME = "cifar-10-batches-py"
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{index}" for index in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"
CIFAR10_META_FILE = "batches.meta"
CIFAR10_IMAGE_SHAPE_CHW = (3, 32, 32)
CIFAR10_FIX = (
    "Download cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, "
    f"extract it, and pass --data_dir path/to/{CIFAR10_FOLDER_NAME}."
)


def _load_cifar10(data_dir: Path | None, image_size: int | None) -> ImageDataset:
    if data_dir is None:
        return _load_with_tfds("cifar10", CIFAR10_CLASS_NAMES, CIFAR10_FIX)
    folder = _cifar10_folder(data_dir)
    _require_folder(folder, "CIFAR-10", CIFAR10_FIX)
    needed = (*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE)
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing:
        raise DatasetError(
            f"CIFAR-10 files missing from {folder}: {', '.join(missing)}. {CIFAR10_FIX}"
        )
    train_batches = [_read_cifar10_batch(folder / name) for name in CIFAR10_TRAIN_FILES]
    x_train = np.concatenate([images for images, _ in train_batches])
    y_train = np.concatenate([labels for _, labels in train_batches])
    x_test, y_test = _read_cifar10_batch(folder / CIFAR10_TEST_FILE)
    class_names = _cifar10_class_names(folder)
    return ImageDataset("cifar10", x_train, y_train, x_test, y_test, class_names)


def _cifar10_folder(data_dir: Path) -> Path:
    """Accept either the extracted cifar-10-batches-py folder or the folder that contains it."""
    nested = data_dir / CIFAR10_FOLDER_NAME
    if not (data_dir / CIFAR10_TEST_FILE).exists() and nested.is_dir():
        return nested
    return data_dir


def _unpickle_cifar10(path: Path) -> object:
    try:
        with open(path, "rb") as file:
            # The official pickles were written by Python 2; "bytes" keeps their keys as bytes.
            return pickle.load(file, encoding="bytes")
    except Exception as error:  # unpickling a damaged file can fail with almost any type
        raise DatasetError(
            f"Could not read {path} as a CIFAR-10 python pickle ({_one_line(error)}). "
            f"{CIFAR10_FIX}"
        ) from error


def _read_cifar10_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch file -> (N, 32, 32, 3) uint8 images and (N,) int64 labels."""
    batch = _unpickle_cifar10(path)
    row_length = math.prod(CIFAR10_IMAGE_SHAPE_CHW)
    try:
        pixels = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (TypeError, KeyError, IndexError, ValueError, OverflowError) as error:
        raise DatasetError(
            f"{path} is not a CIFAR-10 batch: expected a dict with b'data' and b'labels' "
            f"({_one_line(error)}). {CIFAR10_FIX}"
        ) from error
    if pixels.ndim != 2 or pixels.shape[1] != row_length or labels.shape != (len(pixels),):
        raise DatasetError(
            f"{path} is not a CIFAR-10 batch: b'data' has shape {pixels.shape} "
            f"(expected (N, {row_length})) and b'labels' has shape {labels.shape} "
            f"(expected (N,)). {CIFAR10_FIX}"
        )
    # Each row stores the whole R plane, then G, then B; move channels last.
    images = pixels.reshape(-1, *CIFAR10_IMAGE_SHAPE_CHW).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def _cifar10_class_names(folder: Path) -> tuple[str, ...]:
    meta_path = folder / CIFAR10_META_FILE
    if not meta_path.is_file():
        return CIFAR10_CLASS_NAMES
    meta = _unpickle_cifar10(meta_path)
    names = meta.get(b"label_names") if isinstance(meta, dict) else None
    if not isinstance(names, list) or not all(isinstance(name, bytes) for name in names):
        raise DatasetError(
            f"{meta_path} has no list of b'label_names'; delete it or re-extract it. "
            f"{CIFAR10_FIX}"
        )
    return tuple(name.decode("utf-8", errors="replace") for name in names)
