"""Tests for data/sources/npz.py on tiny files written to tmp_path."""

import numpy as np
import pytest

from data.sources import DatasetError, load_dataset
from sources_helpers import error_message


def _valid_npz_arrays() -> dict[str, np.ndarray]:
    return {
        "x_train": np.arange(4 * 5 * 6, dtype=np.uint8).reshape(4, 5, 6),
        "y_train": np.array([0, 2, 2, 0]),
        "x_test": np.full((3, 5, 6), 7, dtype=np.uint8),
        "y_test": np.array([1, 4, 0], dtype=np.int32),
    }


def _write_npz(tmp_path, **overrides):
    arrays = {**_valid_npz_arrays(), **overrides}
    path = tmp_path / "data.npz"
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return str(path)


def test_npz_grayscale_gets_channel_axis_and_class_names_up_to_max_label(tmp_path):
    dataset = load_dataset("npz", _write_npz(tmp_path))

    assert dataset.name == "npz"
    assert dataset.x_train.shape == (4, 5, 6, 1) and dataset.x_test.shape == (3, 5, 6, 1)
    assert dataset.x_train.dtype == np.uint8
    assert dataset.x_train[1, 0, 0, 0] == 30 and dataset.x_train[0, 1, 2, 0] == 8
    assert (dataset.x_test == 7).all()
    assert dataset.y_train.dtype == np.int64 and dataset.y_test.dtype == np.int64
    assert dataset.y_train.tolist() == [0, 2, 2, 0] and dataset.y_test.tolist() == [1, 4, 0]
    assert dataset.class_names == ("0", "1", "2", "3", "4")


def test_npz_rgb_images_pass_through(tmp_path):
    rgb = np.zeros((4, 5, 6, 3), dtype=np.uint8)
    rgb[..., 2] = 200

    dataset = load_dataset("npz", _write_npz(tmp_path, x_train=rgb, x_test=rgb[:3]))

    assert dataset.x_train.shape == (4, 5, 6, 3)
    assert (dataset.x_train[..., 2] == 200).all() and (dataset.x_train[..., :2] == 0).all()


def test_npz_needs_data_dir():
    message = error_message("npz")

    assert "--dataset npz" in message and "--data_dir" in message


def test_npz_missing_file_is_named(tmp_path):
    message = error_message("npz", str(tmp_path / "absent.npz"))

    assert "absent.npz" in message and "does not exist" in message


def test_npz_file_that_is_not_npz(tmp_path):
    path = tmp_path / "text.npz"
    path.write_text("hello")

    with pytest.raises(DatasetError) as caught:
        load_dataset("npz", str(path))

    assert "text.npz" in str(caught.value) and "not a valid .npz" in str(caught.value)
    assert caught.value.__cause__ is not None


def test_npz_single_npy_array_is_rejected(tmp_path):
    path = tmp_path / "single.npy"
    np.save(path, np.zeros(3, dtype=np.uint8))

    message = error_message("npz", str(path))

    assert "single.npy" in message and "not an .npz archive" in message


def test_npz_missing_key_lists_keys_present(tmp_path):
    message = error_message("npz", _write_npz(tmp_path, y_test=None))

    assert "has no y_test" in message
    assert "keys present: x_train, y_train, x_test" in message


def test_npz_float_images_are_rejected_with_conversion_hint(tmp_path):
    float_images = np.zeros((3, 5, 6), dtype=np.float32)

    message = error_message("npz", _write_npz(tmp_path, x_test=float_images))

    assert "x_test" in message and "float32" in message
    assert "uint8" in message and "0-255" in message


@pytest.mark.parametrize("bad_shape", [(4, 30), (4, 5, 6, 2), (4, 5, 6, 1, 1)])
def test_npz_wrong_image_shape_is_rejected(tmp_path, bad_shape):
    bad_images = np.zeros(bad_shape, dtype=np.uint8)

    message = error_message("npz", _write_npz(tmp_path, x_train=bad_images))

    assert "x_train" in message and str(bad_shape) in message and "C = 1 or 3" in message


def test_npz_float_labels_are_rejected(tmp_path):
    message = error_message("npz", _write_npz(tmp_path, y_train=np.array([0.0, 1.0, 1.0, 0.0])))

    assert "y_train" in message and "float64" in message and "integers" in message


def test_npz_label_count_must_match_images(tmp_path):
    message = error_message("npz", _write_npz(tmp_path, y_test=np.array([1, 2])))

    assert "y_test" in message and "(2,)" in message and "(3,)" in message


def test_npz_negative_labels_are_rejected(tmp_path):
    message = error_message("npz", _write_npz(tmp_path, y_train=np.array([0, -1, 2, 0])))

    assert "y_train" in message and "negative label -1" in message


def test_npz_train_and_test_must_have_the_same_channel_count(tmp_path):
    arrays = _valid_npz_arrays()
    arrays["x_test"] = np.repeat(arrays["x_test"][..., None], 3, axis=-1)
    path = tmp_path / "mixed.npz"
    np.savez(path, **arrays)
    with pytest.raises(DatasetError, match="x_train has 1 channel\\(s\\) but x_test has 3"):
        load_dataset("npz", str(path))
