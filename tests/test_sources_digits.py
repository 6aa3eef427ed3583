"""Tests for data/sources/digits.py: scikit-learn's bundled digits, which need no files."""

import numpy as np

from data.sources import load_dataset


def test_digits_shapes_values_and_stratified_split():
    dataset = load_dataset("digits")

    assert dataset.name == "digits"
    assert dataset.x_train.shape == (1078, 8, 8, 1) and dataset.x_test.shape == (719, 8, 8, 1)
    assert dataset.x_train.dtype == np.uint8
    assert dataset.x_train.min() == 0 and dataset.x_train.max() == 255
    allowed_values = {round(value * 255 / 16) for value in range(17)}
    assert set(np.unique(dataset.x_train).tolist()) <= allowed_values
    assert dataset.y_train.dtype == np.int64
    assert set(dataset.y_train.tolist()) == set(range(10))
    assert set(dataset.y_test.tolist()) == set(range(10))
    train_counts, test_counts = np.bincount(dataset.y_train), np.bincount(dataset.y_test)
    assert np.all(np.abs(test_counts / (train_counts + test_counts) - 0.4) < 0.02)
    assert dataset.class_names == tuple("0123456789")


def test_digits_split_is_identical_across_calls_and_ignores_data_dir(tmp_path):
    first = load_dataset("digits")
    second = load_dataset("digits", str(tmp_path / "ignored"))

    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field))
