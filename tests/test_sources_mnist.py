"""Tests for data/sources/mnist.py (MNIST and Fashion-MNIST) on tiny files written to tmp_path
(conftest.py's mnist_files); nothing is downloaded."""

import numpy as np
import pytest

from data.sources import DatasetError, ImageDataset, downloads, load_dataset
from sources_helpers import error_message


@pytest.mark.parametrize("gzipped", [True, False])
def test_mnist_idx_files_gzipped_or_raw(tmp_path, gzipped, mnist_files):
    folder = mnist_files.write(tmp_path / "mnist", gzipped=gzipped)

    dataset = load_dataset("mnist", str(folder))

    assert dataset.name == "mnist"
    assert dataset.x_train.shape == (6, 28, 28, 1) and dataset.x_test.shape == (4, 28, 28, 1)
    assert dataset.x_train.dtype == np.uint8
    assert dataset.x_train[0, 0, 5, 0] == 5 and dataset.x_train[0, 1, 0, 0] == 28
    assert dataset.x_train[2, 0, 0, 0] == 2 and dataset.x_test[0, 0, 0, 0] == 100
    np.testing.assert_array_equal(dataset.x_train[..., 0], mnist_files.train_images)
    np.testing.assert_array_equal(dataset.x_test[..., 0], mnist_files.test_images)
    assert dataset.y_train.dtype == np.int64
    assert dataset.y_train.tolist() == [3, 1, 4, 1, 5, 9]
    assert dataset.y_test.tolist() == [2, 7, 1, 8]
    assert dataset.class_names == tuple("0123456789")


@pytest.mark.parametrize("gzipped", [True, False])
def test_mnist_accepts_dotted_file_names(tmp_path, gzipped, mnist_files):
    folder = mnist_files.write(tmp_path / "mnist", gzipped=gzipped, dotted=True)
    assert (folder / ("train-images.idx3-ubyte" + (".gz" if gzipped else ""))).is_file()

    dataset = load_dataset("mnist", str(folder))

    assert dataset.y_test.tolist() == [2, 7, 1, 8]


def test_mnist_arrays_are_writable(tmp_path, mnist_files):
    dataset = load_dataset("mnist", str(mnist_files.write(tmp_path / "mnist", gzipped=False)))

    dataset.x_train[0, 0, 0, 0] = 42

    assert dataset.x_train[0, 0, 0, 0] == 42


def test_mnist_missing_file_is_named(tmp_path, mnist_files):
    folder = mnist_files.write(tmp_path / "mnist", gzipped=True)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()

    message = error_message("mnist", str(folder))

    assert "t10k-labels-idx1-ubyte" in message and "train-images-idx3-ubyte (" not in message
    assert str(folder) in message


def test_mnist_wrong_magic_names_file_and_numbers(tmp_path, mnist_files):
    folder = mnist_files.write(tmp_path / "mnist", gzipped=False)
    (folder / "train-images-idx3-ubyte").write_bytes(mnist_files.idx_bytes(mnist_files.train_labels, 0x801))

    message = error_message("mnist", str(folder))

    assert "train-images-idx3-ubyte" in message
    assert "magic" in message and "0x00000801" in message and "0x00000803" in message


@pytest.mark.parametrize("gzipped", [True, False])
def test_mnist_truncated_file_names_file(tmp_path, gzipped, mnist_files):
    full_bytes = mnist_files.idx_bytes(mnist_files.test_images, 0x803)
    folder = mnist_files.write(tmp_path / "mnist", gzipped=gzipped)
    mnist_files.write_idx_file(folder, "t10k-images-idx3-ubyte", full_bytes[:-10], gzipped)

    message = error_message("mnist", str(folder))

    assert "t10k-images-idx3-ubyte" in message and "truncated" in message
    assert str(4 * 28 * 28) in message and str(4 * 28 * 28 - 10) in message


def test_mnist_file_shorter_than_header_is_truncated(tmp_path, mnist_files):
    folder = mnist_files.write(tmp_path / "mnist", gzipped=False)
    (folder / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00")

    message = error_message("mnist", str(folder))

    assert "train-labels-idx1-ubyte" in message and "truncated" in message


def test_mnist_image_and_label_counts_must_match(tmp_path, mnist_files):
    folder = mnist_files.write(tmp_path / "mnist", gzipped=False)
    five_labels = mnist_files.idx_bytes(mnist_files.train_labels[:5], 0x801)
    mnist_files.write_idx_file(folder, "train-labels-idx1-ubyte", five_labels, False)

    message = error_message("mnist", str(folder))

    assert "6 images" in message and "5 labels" in message
    assert "train-images-idx3-ubyte" in message and "train-labels-idx1-ubyte" in message


def test_mnist_bad_gzip_is_a_dataset_error(tmp_path, mnist_files):
    folder = mnist_files.write(tmp_path / "mnist", gzipped=True)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")

    with pytest.raises(DatasetError) as caught:
        load_dataset("mnist", str(folder))

    assert "train-images-idx3-ubyte.gz" in str(caught.value)
    assert caught.value.__cause__ is not None


# ---------------------------------------------------------------- Fashion-MNIST

FASHION_MNIST_CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)


def test_fashion_mnist_reads_the_same_idx_files_with_its_own_class_names(tmp_path, mnist_files):
    folder = mnist_files.write(tmp_path / "fashion", gzipped=True)

    dataset = load_dataset("fashion_mnist", str(folder))

    assert dataset.name == "fashion_mnist"
    assert dataset.x_train.shape == (6, 28, 28, 1) and dataset.x_test.shape == (4, 28, 28, 1)
    np.testing.assert_array_equal(dataset.x_train[..., 0], mnist_files.train_images)
    np.testing.assert_array_equal(dataset.x_test[..., 0], mnist_files.test_images)
    assert dataset.y_train.tolist() == [3, 1, 4, 1, 5, 9] and dataset.y_train.dtype == np.int64
    assert dataset.class_names == FASHION_MNIST_CLASS_NAMES
    assert dataset.class_names[9] == "Ankle boot"
    assert dataset.test_is_anomalous is None


def test_fashion_mnist_errors_name_fashion_mnist_not_mnist(tmp_path, mnist_files):
    folder = mnist_files.write(tmp_path / "fashion", gzipped=True)
    (folder / "train-labels-idx1-ubyte.gz").unlink()

    message = error_message("fashion_mnist", str(folder))

    assert message.startswith("Fashion-MNIST files missing")
    assert "train-labels-idx1-ubyte" in message
    assert "https://github.com/zalandoresearch/fashion-mnist" in message


def test_fashion_mnist_wrong_magic_names_fashion_mnist(tmp_path, mnist_files):
    folder = mnist_files.write(tmp_path / "fashion", gzipped=False)
    (folder / "t10k-images-idx3-ubyte").write_bytes(mnist_files.idx_bytes(mnist_files.test_labels, 0x801))

    message = error_message("fashion_mnist", str(folder))

    assert "not the right Fashion-MNIST file" in message and "fashion-mnist" in message


# ---------------------------------------------------------------- tensorflow-datasets path

def test_tfds_failure_explains_how_to_work_offline_for_mnist(monkeypatch):
    def fail_offline(tfds_name):
        raise RuntimeError("download failed")

    monkeypatch.setattr(downloads, "_download_with_tfds", fail_offline)

    message = error_message("mnist")

    assert "RuntimeError: download failed" in message
    assert "train-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert "--data_dir FOLDER" in message


def test_tfds_success_is_wrapped_in_image_dataset(monkeypatch):
    requested = []

    def fake_download(tfds_name):
        requested.append(tfds_name)
        images = np.ones((2, 28, 28, 1), dtype=np.uint8)
        return images, np.array([7, 3], dtype=np.int64), images[:1], np.array([5], dtype=np.int64)

    monkeypatch.setattr(downloads, "_download_with_tfds", fake_download)

    dataset = load_dataset("mnist")

    assert requested == ["mnist"]
    assert isinstance(dataset, ImageDataset) and dataset.name == "mnist"
    assert dataset.y_train.tolist() == [7, 3] and dataset.y_test.tolist() == [5]
    assert dataset.class_names == tuple("0123456789")


def test_tfds_failure_explains_how_to_work_offline_for_fashion_mnist(monkeypatch):
    def fail_offline(tfds_name):
        raise OSError("no network")

    monkeypatch.setattr(downloads, "_download_with_tfds", fail_offline)

    message = error_message("fashion_mnist")

    assert "Downloading fashion_mnist" in message and "OSError: no network" in message
    assert "Fashion-MNIST IDX files" in message and "t10k-images-idx3-ubyte.gz" in message


def test_tfds_fashion_mnist_uses_its_tfds_name_and_class_names(monkeypatch):
    requested = []

    def fake_download(tfds_name):
        requested.append(tfds_name)
        images = np.zeros((1, 28, 28, 1), dtype=np.uint8)
        return images, np.array([9], dtype=np.int64), images, np.array([0], dtype=np.int64)

    monkeypatch.setattr(downloads, "_download_with_tfds", fake_download)

    dataset = load_dataset("fashion_mnist", image_size=64)

    assert requested == ["fashion_mnist"]
    assert dataset.x_train.shape == (1, 28, 28, 1)
    assert dataset.class_names == FASHION_MNIST_CLASS_NAMES
