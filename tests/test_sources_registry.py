"""Tests for data/sources/registry.py: the dataset names and what load_dataset checks before a loader
runs."""

import pytest

from data.sources import DATASET_NAMES
from sources_helpers import error_message


def test_dataset_names():
    assert DATASET_NAMES == (
        "cifar10", "mnist", "digits", "npz", "fashion_mnist", "cats_vs_dogs", "mvtec", "folder",
    )


@pytest.mark.parametrize("image_size", [0, -8])
def test_image_size_must_be_positive(tmp_path, image_size):
    message = error_message("folder", str(tmp_path), image_size)

    assert "image_size" in message and str(image_size) in message


def test_unknown_dataset_lists_valid_names():
    message = error_message("imagenet")

    assert "'imagenet'" in message
    assert all(name in message for name in DATASET_NAMES)
