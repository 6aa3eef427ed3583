"""MNIST and Fashion-MNIST, which ship in the same format: four IDX files (gzipped or not), or a
tensorflow-datasets download when no folder is given."""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .dataset import DIGIT_CLASS_NAMES, DatasetError, ImageDataset, _one_line, _require_folder
from .downloads import _load_with_tfds

# Fashion-MNIST ships under the same four file names.
MNIST_TRAIN_IMAGES = "train-images-idx3-ubyte"
MNIST_TRAIN_LABELS = "train-labels-idx1-ubyte"
MNIST_TEST_IMAGES = "t10k-images-idx3-ubyte"
MNIST_TEST_LABELS = "t10k-labels-idx1-ubyte"
MNIST_FILES = (MNIST_TRAIN_IMAGES, MNIST_TRAIN_LABELS, MNIST_TEST_IMAGES, MNIST_TEST_LABELS)
MNIST_FIX = (
    "Put the four MNIST IDX files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (gzipped or not) in a folder "
    "and pass --data_dir FOLDER."
)
FASHION_MNIST_CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
FASHION_MNIST_FIX = (
    "Download the four Fashion-MNIST IDX files train-images-idx3-ubyte.gz, "
    "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from "
    "https://github.com/zalandoresearch/fashion-mnist, put them (gzipped or not) in a folder and "
    "pass --data_dir FOLDER."
)


class IdxDataset(NamedTuple):
    """A dataset shipped as four MNIST-style IDX files."""

    name: str  # also its tensorflow-datasets name
    title: str  # how messages spell it
    class_names: tuple[str, ...]
    offline_fix: str


MNIST_IDX = IdxDataset("mnist", "MNIST", DIGIT_CLASS_NAMES, MNIST_FIX)
FASHION_MNIST_IDX = IdxDataset(
    "fashion_mnist", "Fashion-MNIST", FASHION_MNIST_CLASS_NAMES, FASHION_MNIST_FIX
)

# IDX magic numbers: 0x08 says unsigned bytes, the last byte is the number of dimensions.
IDX_IMAGES_MAGIC = 0x00000803
IDX_LABELS_MAGIC = 0x00000801


def _load_mnist(data_dir: Path | None, image_size: int | None) -> ImageDataset:
    return _load_idx_dataset(MNIST_IDX, data_dir)


def _load_fashion_mnist(data_dir: Path | None, image_size: int | None) -> ImageDataset:
    return _load_idx_dataset(FASHION_MNIST_IDX, data_dir)


def _load_idx_dataset(idx_dataset: IdxDataset, data_dir: Path | None) -> ImageDataset:
    if data_dir is None:
        return _load_with_tfds(
            idx_dataset.name, idx_dataset.class_names, idx_dataset.offline_fix
        )
    paths = _find_idx_files(data_dir, idx_dataset)
    x_train, y_train = _read_idx_split(
        paths[MNIST_TRAIN_IMAGES], paths[MNIST_TRAIN_LABELS], idx_dataset
    )
    x_test, y_test = _read_idx_split(
        paths[MNIST_TEST_IMAGES], paths[MNIST_TEST_LABELS], idx_dataset
    )
    return ImageDataset(idx_dataset.name, x_train, y_train, x_test, y_test, idx_dataset.class_names)


def _find_idx_files(folder: Path, idx_dataset: IdxDataset) -> dict[str, Path]:
    """Map each canonical IDX file name to the file present: gzipped or raw, and spelled
    with a dash or a dot before "idx"."""
    _require_folder(folder, idx_dataset.title, idx_dataset.offline_fix)
    found, missing = {}, []
    for name in MNIST_FILES:
        dotted = name.replace("-idx", ".idx")
        spellings = (name, f"{name}.gz", dotted, f"{dotted}.gz")
        present = [folder / spelling for spelling in spellings if (folder / spelling).is_file()]
        if present:
            found[name] = present[0]
        else:
            missing.append(name)
    if missing:
        raise DatasetError(
            f"{idx_dataset.title} files missing from {folder}: {', '.join(missing)} "
            f"(.gz or not). {idx_dataset.offline_fix}"
        )
    return found


def _read_idx_split(
    images_path: Path, labels_path: Path, idx_dataset: IdxDataset
) -> tuple[np.ndarray, np.ndarray]:
    images = _read_idx(images_path, IDX_IMAGES_MAGIC, idx_dataset)[..., np.newaxis]
    labels = _read_idx(labels_path, IDX_LABELS_MAGIC, idx_dataset).astype(np.int64)
    if len(images) != len(labels):
        raise DatasetError(
            f"{images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels; the files do not belong together. {idx_dataset.offline_fix}"
        )
    return images, labels


def _read_idx(path: Path, expected_magic: int, idx_dataset: IdxDataset) -> np.ndarray:
    """Parse an IDX file of unsigned bytes: big-endian magic, one uint32 per dimension, data."""
    fix = idx_dataset.offline_fix
    raw = _read_maybe_gzipped(path, fix)
    if len(raw) < 4:
        raise DatasetError(
            f"{path} is truncated: it holds {len(raw)} bytes, too few for an IDX header. "
            f"{fix}"
        )
    (magic,) = struct.unpack(">I", raw[:4])
    if magic != expected_magic:
        raise DatasetError(
            f"{path} has IDX magic number 0x{magic:08x}, expected 0x{expected_magic:08x}; "
            f"it is not the right {idx_dataset.title} file or it is corrupt. {fix}"
        )
    num_dims = magic & 0xFF
    header_length = 4 + 4 * num_dims
    if len(raw) < header_length:
        raise DatasetError(f"{path} is truncated: its IDX header is incomplete. {fix}")
    shape = struct.unpack(f">{num_dims}I", raw[4:header_length])
    promised_length, data_length = math.prod(shape), len(raw) - header_length
    if data_length != promised_length:
        problem = "truncated" if data_length < promised_length else "corrupt"
        raise DatasetError(
            f"{path} is {problem}: its header promises {promised_length} bytes for shape "
            f"{shape} but the file holds {data_length}. {fix}"
        )
    # Copy because frombuffer over bytes gives a read-only array.
    return np.frombuffer(raw, dtype=np.uint8, offset=header_length).reshape(shape).copy()


def _read_maybe_gzipped(path: Path, fix: str) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as file:
                return file.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:
        raise DatasetError(
            f"Could not read {path} ({_one_line(error)}); the file is damaged. {fix}"
        ) from error
