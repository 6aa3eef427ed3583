"""Tests for data/sources/cifar10.py on tiny files written to tmp_path (conftest.py's cifar_files);
nothing is downloaded."""

import pickle

import numpy as np
import pytest

from data.sources import DatasetError, downloads, load_dataset
from sources_helpers import error_message


def test_cifar10_folder_gives_channels_last_pixels_labels_and_default_names(tmp_path, cifar_files):
    folder = cifar_files.write(tmp_path / "cifar-10-batches-py")

    dataset = load_dataset("cifar10", str(folder))

    assert dataset.name == "cifar10"
    assert dataset.x_train.shape == (25, 32, 32, 3) and dataset.x_test.shape == (5, 32, 32, 3)
    assert dataset.x_train.dtype == np.uint8 and dataset.x_test.dtype == np.uint8
    first = dataset.x_train[0]
    assert (first[..., 0] == 10).all()
    assert (first[..., 1] == 20).all()
    assert (first[..., 2] == 30).all()
    counting = dataset.x_train[1, ..., 0]
    assert counting[0, 5] == 5 and counting[1, 0] == 32 and counting[7, 31] == 255
    assert (dataset.x_train[1, ..., 1:] == 0).all()
    assert (dataset.x_train[5 + 2] == 2).all()  # third image of data_batch_2
    assert dataset.y_train.dtype == np.int64
    assert dataset.y_train.tolist() == sum((cifar_files.labels(index) for index in range(1, 6)), [])
    assert dataset.y_test.tolist() == [0, 1, 2, 3, 4]
    assert dataset.class_names == (
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    )


def test_cifar10_accepts_parent_folder_and_reads_label_names_from_meta(tmp_path, cifar_files):
    names = [f"class{index}".encode() for index in range(10)]
    cifar_files.write(tmp_path / "downloads" / "cifar-10-batches-py", label_names=names)

    dataset = load_dataset("cifar10", str(tmp_path / "downloads"))

    assert dataset.x_train.shape == (25, 32, 32, 3)
    assert dataset.class_names == tuple(f"class{index}" for index in range(10))


def test_cifar10_missing_batch_names_file_and_folder(tmp_path, cifar_files):
    folder = cifar_files.write(tmp_path / "cifar-10-batches-py")
    (folder / "data_batch_3").unlink()
    (folder / "test_batch").unlink()

    message = error_message("cifar10", str(folder))

    assert "data_batch_3" in message and "test_batch" in message and "data_batch_2" not in message
    assert str(folder) in message
    assert "--data_dir" in message


def test_cifar10_missing_folder_is_named(tmp_path):
    message = error_message("cifar10", str(tmp_path / "nowhere"))

    assert str(tmp_path / "nowhere") in message and "does not exist" in message


def test_cifar10_damaged_pickle_is_a_dataset_error(tmp_path, cifar_files):
    folder = cifar_files.write(tmp_path / "cifar-10-batches-py")
    (folder / "test_batch").write_bytes(b"this is not a pickle")

    with pytest.raises(DatasetError) as caught:
        load_dataset("cifar10", str(folder))

    assert "test_batch" in str(caught.value)
    assert caught.value.__cause__ is not None


def test_cifar10_pickle_without_data_key_is_a_dataset_error(tmp_path, cifar_files):
    folder = cifar_files.write(tmp_path / "cifar-10-batches-py")
    (folder / "data_batch_1").write_bytes(pickle.dumps({b"labels": [0]}))

    message = error_message("cifar10", str(folder))

    assert "data_batch_1" in message and "b'data'" in message


def test_tfds_failure_explains_how_to_work_offline_for_cifar10(monkeypatch):
    def fail_offline(tfds_name):
        raise OSError("Network is unreachable\nlong traceback detail")

    monkeypatch.setattr(downloads, "_download_with_tfds", fail_offline)

    with pytest.raises(DatasetError) as caught:
        load_dataset("cifar10")

    message = str(caught.value)
    assert "OSError: Network is unreachable" in message and "long traceback detail" not in message
    assert "cifar-10-python.tar.gz" in message
    assert "https://www.cs.toronto.edu/~kriz/cifar.html" in message
    assert "--data_dir path/to/cifar-10-batches-py" in message
    assert isinstance(caught.value.__cause__, OSError)
