"""What every dataset module shares: the ImageDataset a loader returns, the DatasetError it raises
(with the helpers that phrase its messages), and the class names of the digit datasets (MNIST and
digits)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class ImageDataset:
    """Raw train and test images (uint8, NHWC) with int64 labels; class_names[label] names it.

    test_is_anomalous is None when the anomalies of a class are the other classes; datasets
    whose anomalies are defects within a class (mvtec, folder) mark each test image instead.
    test_paths names the file of each test image, for datasets read from image files.
    test_masks, when the dataset ships defect masks, is uint8 (N_test, H, W) at x_test's size:
    1 on a defective pixel, all 0 for a normal image. test_kinds, for the datasets that mark
    defects, is the sub-folder of test/ each test image lies in: good or its anomaly type.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    test_is_anomalous: np.ndarray | None = None
    test_paths: tuple[str, ...] | None = None
    test_masks: np.ndarray | None = None
    test_kinds: tuple[str, ...] | None = None


class DatasetError(Exception):
    """A dataset could not be found or read; the message says what was looked for, where, and
    how to fix it."""


DIGIT_CLASS_NAMES = tuple(str(digit) for digit in range(10))


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def _require_folder(folder: Path, dataset: str, fix: str) -> None:
    if not folder.is_dir():
        raise DatasetError(f"{dataset} folder {folder} does not exist or is not a folder. {fix}")
