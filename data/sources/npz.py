"""The npz dataset: any images and labels saved with numpy.savez as x_train, y_train, x_test and
y_test, checked before they are used."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from .dataset import DatasetError, ImageDataset, _one_line

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
NPZ_FIX = "Save it with numpy.savez(FILE, x_train=..., y_train=..., x_test=..., y_test=...)."


def _load_npz(data_dir: Path | None, image_size: int | None) -> ImageDataset:
    if data_dir is None:
        raise DatasetError(
            "--dataset npz needs --data_dir FILE.npz: "
            "a file holding arrays x_train, y_train, x_test, y_test."
        )
    arrays = _read_npz(data_dir)
    x_train, y_train = _check_npz_split(arrays, "train", data_dir)
    x_test, y_test = _check_npz_split(arrays, "test", data_dir)
    if x_train.shape[-1] != x_test.shape[-1]:
        raise DatasetError(
            f"{data_dir}: x_train has {x_train.shape[-1]} channel(s) but x_test has {x_test.shape[-1]}; "
            "convert both to grayscale or both to RGB."
        )
    all_labels = np.concatenate([y_train, y_test])
    num_classes = int(all_labels.max()) + 1 if all_labels.size else 0
    class_names = tuple(str(label) for label in range(num_classes))
    return ImageDataset("npz", x_train, y_train, x_test, y_test, class_names)


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
