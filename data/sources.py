"""Where images come from: one loader per dataset, each returning raw uint8 NHWC arrays.

Scaling, resizing and one-class splitting happen later in the data pipeline; this module only
finds and reads the files. To add a dataset, write one `_load_<name>(data_dir)` function and
register it in `_LOADERS`.

tensorflow_datasets and scikit-learn are imported inside the loaders that need them, so that
importing this module stays fast.
"""

from __future__ import annotations

import gzip
import math
import pickle
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class ImageDataset:
    """Raw train and test images (uint8, NHWC) with int64 labels; class_names[label] names it."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]


class DatasetError(Exception):
    """A dataset could not be found or read; the message says what was looked for, where, and
    how to fix it."""


DIGIT_CLASS_NAMES = tuple(str(digit) for digit in range(10))

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

# IDX magic numbers: 0x08 says unsigned bytes, the last byte is the number of dimensions.
IDX_IMAGES_MAGIC = 0x00000803
IDX_LABELS_MAGIC = 0x00000801

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
NPZ_FIX = "Save it with numpy.savez(FILE, x_train=..., y_train=..., x_test=..., y_test=...)."

# Fixed and independent of any training seed, so the digits test set is identical in every run.
DIGITS_SPLIT_SEED = 0
DIGITS_TEST_FRACTION = 0.4
DIGITS_MAX_PIXEL = 16


def load_dataset(name: str, data_dir: str | None = None) -> ImageDataset:
    """Load the raw train and test images of dataset `name`, from local files in `data_dir`
    if given."""
    loader = _LOADERS.get(name)
    if loader is None:
        valid_names = ", ".join(DATASET_NAMES)
        raise DatasetError(f"Unknown dataset {name!r}. Choose one of: {valid_names}.")
    return loader(Path(data_dir).expanduser() if data_dir else None)


def _load_cifar10(data_dir: Path | None) -> ImageDataset:
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


def _load_mnist(data_dir: Path | None) -> ImageDataset:
    if data_dir is None:
        return _load_with_tfds("mnist", DIGIT_CLASS_NAMES, MNIST_FIX)
    paths = _find_mnist_files(data_dir)
    x_train, y_train = _read_idx_split(paths[MNIST_TRAIN_IMAGES], paths[MNIST_TRAIN_LABELS])
    x_test, y_test = _read_idx_split(paths[MNIST_TEST_IMAGES], paths[MNIST_TEST_LABELS])
    return ImageDataset("mnist", x_train, y_train, x_test, y_test, DIGIT_CLASS_NAMES)


def _load_npz(data_dir: Path | None) -> ImageDataset:
    if data_dir is None:
        raise DatasetError(
            "--dataset npz needs --data_dir FILE.npz: "
            "a file holding arrays x_train, y_train, x_test, y_test."
        )
    arrays = _read_npz(data_dir)
    x_train, y_train = _check_npz_split(arrays, "train", data_dir)
    x_test, y_test = _check_npz_split(arrays, "test", data_dir)
    all_labels = np.concatenate([y_train, y_test])
    num_classes = int(all_labels.max()) + 1 if all_labels.size else 0
    class_names = tuple(str(label) for label in range(num_classes))
    return ImageDataset("npz", x_train, y_train, x_test, y_test, class_names)


def _load_digits(data_dir: Path | None) -> ImageDataset:
    """scikit-learn's bundled 8x8 digits: needs no download; data_dir is ignored."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = np.round(digits.images * 255 / DIGITS_MAX_PIXEL).astype(np.uint8)[..., np.newaxis]
    labels = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        images,
        labels,
        test_size=DIGITS_TEST_FRACTION,
        stratify=labels,
        random_state=DIGITS_SPLIT_SEED,
    )
    return ImageDataset("digits", x_train, y_train, x_test, y_test, DIGIT_CLASS_NAMES)


_LOADERS: dict[str, Callable[[Path | None], ImageDataset]] = {
    "cifar10": _load_cifar10,
    "mnist": _load_mnist,
    "digits": _load_digits,
    "npz": _load_npz,
}
DATASET_NAMES: tuple[str, ...] = tuple(_LOADERS)


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
    try:
        x_train, y_train, x_test, y_test = _download_with_tfds(tfds_name)
    except Exception as error:  # tfds reports network, disk and install problems as many types
        raise DatasetError(
            f"Downloading {tfds_name} through tensorflow-datasets failed ({_one_line(error)}). "
            f"To work offline: {offline_fix}"
        ) from error
    return ImageDataset(tfds_name, x_train, y_train, x_test, y_test, class_names)


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def _require_folder(folder: Path, dataset: str, fix: str) -> None:
    if not folder.is_dir():
        raise DatasetError(f"{dataset} folder {folder} does not exist or is not a folder. {fix}")


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


def _find_mnist_files(folder: Path) -> dict[str, Path]:
    """Map each canonical MNIST file name to the file present: gzipped or raw, and spelled
    with a dash or a dot before "idx"."""
    _require_folder(folder, "MNIST", MNIST_FIX)
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
            f"MNIST files missing from {folder}: {', '.join(missing)} (.gz or not). {MNIST_FIX}"
        )
    return found


def _read_idx_split(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = _read_idx(images_path, IDX_IMAGES_MAGIC)[..., np.newaxis]
    labels = _read_idx(labels_path, IDX_LABELS_MAGIC).astype(np.int64)
    if len(images) != len(labels):
        raise DatasetError(
            f"{images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels; the files do not belong together. {MNIST_FIX}"
        )
    return images, labels


def _read_idx(path: Path, expected_magic: int) -> np.ndarray:
    """Parse an IDX file of unsigned bytes: big-endian magic, one uint32 per dimension, data."""
    raw = _read_maybe_gzipped(path)
    if len(raw) < 4:
        raise DatasetError(
            f"{path} is truncated: it holds {len(raw)} bytes, too few for an IDX header. "
            f"{MNIST_FIX}"
        )
    (magic,) = struct.unpack(">I", raw[:4])
    if magic != expected_magic:
        raise DatasetError(
            f"{path} has IDX magic number 0x{magic:08x}, expected 0x{expected_magic:08x}; "
            f"it is not the right MNIST file or it is corrupt. {MNIST_FIX}"
        )
    num_dims = magic & 0xFF
    header_length = 4 + 4 * num_dims
    if len(raw) < header_length:
        raise DatasetError(f"{path} is truncated: its IDX header is incomplete. {MNIST_FIX}")
    shape = struct.unpack(f">{num_dims}I", raw[4:header_length])
    promised_length, data_length = math.prod(shape), len(raw) - header_length
    if data_length != promised_length:
        problem = "truncated" if data_length < promised_length else "corrupt"
        raise DatasetError(
            f"{path} is {problem}: its header promises {promised_length} bytes for shape "
            f"{shape} but the file holds {data_length}. {MNIST_FIX}"
        )
    # Copy because frombuffer over bytes gives a read-only array.
    return np.frombuffer(raw, dtype=np.uint8, offset=header_length).reshape(shape).copy()


def _read_maybe_gzipped(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as file:
                return file.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:
        raise DatasetError(
            f"Could not read {path} ({_one_line(error)}); the file is damaged. {MNIST_FIX}"
        ) from error


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """Read the NPZ_KEYS arrays from an .npz file."""
    if not path.is_file():
        raise DatasetError(
            f"npz file {path} does not exist. Pass --data_dir pointing at an existing .npz file."
        )
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise DatasetError(
            f"{path} is not a valid .npz file ({_one_line(error)}). {NPZ_FIX}"
        ) from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DatasetError(f"{path} holds a single .npy array, not an .npz archive. {NPZ_FIX}")
    with archive:
        missing = [key for key in NPZ_KEYS if key not in archive.files]
        if missing:
            present = ", ".join(archive.files) or "none"
            raise DatasetError(
                f"{path} has no {', '.join(missing)}; keys present: {present}. {NPZ_FIX}"
            )
        try:
            return {key: archive[key] for key in NPZ_KEYS}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
            raise DatasetError(
                f"Could not read the arrays in {path} ({_one_line(error)}). {NPZ_FIX}"
            ) from error


def _check_npz_split(
    arrays: dict[str, np.ndarray], split: str, path: Path
) -> tuple[np.ndarray, np.ndarray]:
    """Validate one split's images and labels; return NHWC uint8 images and int64 labels."""
    images_key, labels_key = f"x_{split}", f"y_{split}"
    images, labels = arrays[images_key], arrays[labels_key]
    where = f"{images_key} in {path}"
    if images.dtype != np.uint8:
        raise DatasetError(
            f"{where} has dtype {images.dtype}; "
            "convert the images to uint8 (values 0-255) before saving."
        )
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise DatasetError(
            f"{where} has shape {arrays[images_key].shape}; "
            "expected (N, H, W) or (N, H, W, C) with C = 1 or 3."
        )
    where = f"{labels_key} in {path}"
    if not np.issubdtype(labels.dtype, np.integer):
        raise DatasetError(
            f"{where} has dtype {labels.dtype}; labels must be integers 0, 1, 2, ..."
        )
    if labels.shape != (len(images),):
        raise DatasetError(
            f"{where} has shape {labels.shape}; "
            f"expected ({len(images)},), one label per image in {images_key}."
        )
    if labels.size and labels.min() < 0:
        raise DatasetError(
            f"{where} contains the negative label {labels.min()}; labels must be 0 or more."
        )
    return images, labels.astype(np.int64)
