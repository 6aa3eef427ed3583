"""The digits dataset: scikit-learn's bundled 8x8 digits, split into train and test with a fixed seed;
it needs no download and no files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .dataset import DIGIT_CLASS_NAMES, ImageDataset

# Fixed and independent of any training seed, so the digits test set is identical in every run.
DIGITS_SPLIT_SEED = 0
DIGITS_TEST_FRACTION = 0.4
DIGITS_MAX_PIXEL = 16


def _load_digits(data_dir: Path | None, image_size: int | None) -> ImageDataset:
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
