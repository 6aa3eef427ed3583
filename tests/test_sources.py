"""Tests for data/sources.py on tiny files written to tmp_path; nothing is downloaded."""

import pickle

import numpy as np
import pytest
from PIL import Image

from data.sources import cats_vs_dogs, downloads
from data.sources import (
    DATASET_NAMES,
    DatasetError,
    ImageDataset,
    load_dataset,
    mvtec_category_index,
)

def _error_message(name: str, data_dir=None, image_size=None) -> str:
    with pytest.raises(DatasetError) as caught:
        load_dataset(name, data_dir, image_size)
    return str(caught.value)


# ---------------------------------------------------------------- CIFAR-10 (files: conftest.py, cifar_files)

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

    message = _error_message("cifar10", str(folder))

    assert "data_batch_3" in message and "test_batch" in message and "data_batch_2" not in message
    assert str(folder) in message
    assert "--data_dir" in message


def test_cifar10_missing_folder_is_named(tmp_path):
    message = _error_message("cifar10", str(tmp_path / "nowhere"))

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

    message = _error_message("cifar10", str(folder))

    assert "data_batch_1" in message and "b'data'" in message


# ---------------------------------------------------------------- MNIST (files: conftest.py, mnist_files)

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

    message = _error_message("mnist", str(folder))

    assert "t10k-labels-idx1-ubyte" in message and "train-images-idx3-ubyte (" not in message
    assert str(folder) in message


def test_mnist_wrong_magic_names_file_and_numbers(tmp_path, mnist_files):
    folder = mnist_files.write(tmp_path / "mnist", gzipped=False)
    (folder / "train-images-idx3-ubyte").write_bytes(mnist_files.idx_bytes(mnist_files.train_labels, 0x801))

    message = _error_message("mnist", str(folder))

    assert "train-images-idx3-ubyte" in message
    assert "magic" in message and "0x00000801" in message and "0x00000803" in message


@pytest.mark.parametrize("gzipped", [True, False])
def test_mnist_truncated_file_names_file(tmp_path, gzipped, mnist_files):
    full_bytes = mnist_files.idx_bytes(mnist_files.test_images, 0x803)
    folder = mnist_files.write(tmp_path / "mnist", gzipped=gzipped)
    mnist_files.write_idx_file(folder, "t10k-images-idx3-ubyte", full_bytes[:-10], gzipped)

    message = _error_message("mnist", str(folder))

    assert "t10k-images-idx3-ubyte" in message and "truncated" in message
    assert str(4 * 28 * 28) in message and str(4 * 28 * 28 - 10) in message


def test_mnist_file_shorter_than_header_is_truncated(tmp_path, mnist_files):
    folder = mnist_files.write(tmp_path / "mnist", gzipped=False)
    (folder / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00")

    message = _error_message("mnist", str(folder))

    assert "train-labels-idx1-ubyte" in message and "truncated" in message


def test_mnist_image_and_label_counts_must_match(tmp_path, mnist_files):
    folder = mnist_files.write(tmp_path / "mnist", gzipped=False)
    five_labels = mnist_files.idx_bytes(mnist_files.train_labels[:5], 0x801)
    mnist_files.write_idx_file(folder, "train-labels-idx1-ubyte", five_labels, False)

    message = _error_message("mnist", str(folder))

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

    message = _error_message("fashion_mnist", str(folder))

    assert message.startswith("Fashion-MNIST files missing")
    assert "train-labels-idx1-ubyte" in message
    assert "https://github.com/zalandoresearch/fashion-mnist" in message


def test_fashion_mnist_wrong_magic_names_fashion_mnist(tmp_path, mnist_files):
    folder = mnist_files.write(tmp_path / "fashion", gzipped=False)
    (folder / "t10k-images-idx3-ubyte").write_bytes(mnist_files.idx_bytes(mnist_files.test_labels, 0x801))

    message = _error_message("fashion_mnist", str(folder))

    assert "not the right Fashion-MNIST file" in message and "fashion-mnist" in message


# ---------------------------------------------------------------- npz

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
    message = _error_message("npz")

    assert "--dataset npz" in message and "--data_dir" in message


def test_npz_missing_file_is_named(tmp_path):
    message = _error_message("npz", str(tmp_path / "absent.npz"))

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

    message = _error_message("npz", str(path))

    assert "single.npy" in message and "not an .npz archive" in message


def test_npz_missing_key_lists_keys_present(tmp_path):
    message = _error_message("npz", _write_npz(tmp_path, y_test=None))

    assert "has no y_test" in message
    assert "keys present: x_train, y_train, x_test" in message


def test_npz_float_images_are_rejected_with_conversion_hint(tmp_path):
    float_images = np.zeros((3, 5, 6), dtype=np.float32)

    message = _error_message("npz", _write_npz(tmp_path, x_test=float_images))

    assert "x_test" in message and "float32" in message
    assert "uint8" in message and "0-255" in message


@pytest.mark.parametrize("bad_shape", [(4, 30), (4, 5, 6, 2), (4, 5, 6, 1, 1)])
def test_npz_wrong_image_shape_is_rejected(tmp_path, bad_shape):
    bad_images = np.zeros(bad_shape, dtype=np.uint8)

    message = _error_message("npz", _write_npz(tmp_path, x_train=bad_images))

    assert "x_train" in message and str(bad_shape) in message and "C = 1 or 3" in message


def test_npz_float_labels_are_rejected(tmp_path):
    message = _error_message("npz", _write_npz(tmp_path, y_train=np.array([0.0, 1.0, 1.0, 0.0])))

    assert "y_train" in message and "float64" in message and "integers" in message


def test_npz_label_count_must_match_images(tmp_path):
    message = _error_message("npz", _write_npz(tmp_path, y_test=np.array([1, 2])))

    assert "y_test" in message and "(2,)" in message and "(3,)" in message


def test_npz_negative_labels_are_rejected(tmp_path):
    message = _error_message("npz", _write_npz(tmp_path, y_train=np.array([0, -1, 2, 0])))

    assert "y_train" in message and "negative label -1" in message


# ---------------------------------------------------------------- digits

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


# ---------------------------------------------------------------- registry and tfds path

def test_dataset_names():
    assert DATASET_NAMES == (
        "cifar10", "mnist", "digits", "npz", "fashion_mnist", "cats_vs_dogs", "mvtec", "folder",
    )


@pytest.mark.parametrize("image_size", [0, -8])
def test_image_size_must_be_positive(tmp_path, image_size):
    message = _error_message("folder", str(tmp_path), image_size)

    assert "image_size" in message and str(image_size) in message


def test_unknown_dataset_lists_valid_names():
    message = _error_message("imagenet")

    assert "'imagenet'" in message
    assert all(name in message for name in DATASET_NAMES)


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


def test_tfds_failure_explains_how_to_work_offline_for_mnist(monkeypatch):
    def fail_offline(tfds_name):
        raise RuntimeError("download failed")

    monkeypatch.setattr(downloads, "_download_with_tfds", fail_offline)

    message = _error_message("mnist")

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

    message = _error_message("fashion_mnist")

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


def test_tfds_cats_vs_dogs_resizes_and_splits_the_single_train_split(monkeypatch):
    """Runs the real tfds path with tfds.load replaced by a tiny dataset of mixed sizes."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    loaded = []
    shapes = [(10, 6, 3), (7, 9, 3)] * 10
    labels = [0] * 10 + [1] * 10
    images = [np.full(shape, 20 + 10 * index, dtype=np.uint8) for index, shape in enumerate(shapes)]

    def fake_load(name, split, as_supervised):
        loaded.append((name, split, as_supervised))
        return tf.data.Dataset.from_generator(
            lambda: zip(images, labels),
            output_signature=(
                tf.TensorSpec((None, None, 3), tf.uint8),
                tf.TensorSpec((), tf.int64),
            ),
        )

    monkeypatch.setattr(tfds, "load", fake_load)

    dataset = load_dataset("cats_vs_dogs")

    assert loaded == [("cats_vs_dogs", "train", True)]
    assert dataset.x_train.shape == (16, 64, 64, 3) and dataset.x_test.shape == (4, 64, 64, 3)
    assert np.bincount(dataset.y_test).tolist() == [2, 2]
    assert dataset.class_names == ("cat", "dog")
    for image, label in zip(dataset.x_test, dataset.y_test):
        index = (int(image[0, 0, 0]) - 20) // 10
        assert (image == 20 + 10 * index).all() and labels[index] == label


def test_tfds_failure_explains_how_to_work_offline_for_cats_vs_dogs(monkeypatch):
    def fail_offline(image_size):
        raise RuntimeError("checksum mismatch")

    monkeypatch.setattr(cats_vs_dogs, "_download_cats_vs_dogs_with_tfds", fail_offline)

    message = _error_message("cats_vs_dogs")

    assert "RuntimeError: checksum mismatch" in message
    assert "https://www.microsoft.com/en-us/download/details.aspx?id=54765" in message
    assert "--data_dir path/to/PetImages" in message


# ---------------------------------------------------------------- image file fixtures

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def _save_image(path, size, value, mode="RGB", image_format=None):
    """A uniform image; size is (width, height), value a gray level or a colour tuple."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value).save(path, format=image_format)
    return path


def _write_mvtec_category(root, name, mode, normal, defects):
    """train/good with two images (the second of another size), test/good, one image per
    defect type, and a ground_truth mask per defect that must not be loaded."""
    folder = root / name
    _save_image(folder / "train" / "good" / "000.png", (10, 10), normal, mode)
    _save_image(folder / "train" / "good" / "001.png", (14, 6), normal, mode)
    _save_image(folder / "test" / "good" / "000.png", (10, 10), normal, mode)
    for defect, value in defects.items():
        _save_image(folder / "test" / defect / "000.png", (10, 10), value, mode)
        _save_image(folder / "ground_truth" / defect / "000_mask.png", (10, 10), 255, "L")
    return folder


def _write_mvtec_root(root):
    # Alphabetically: a_widget, screw, toothbrush; the paper numbers toothbrush 12, screw 13.
    _write_mvtec_category(root, "screw", "L", 128, {"scratch_head": 30, "thread_top": 60})
    _write_mvtec_category(root, "toothbrush", "RGB", RED, {"defective": BLUE})
    _write_mvtec_category(root, "a_widget", "L", 200, {"crack": 90})
    (root / "license.txt").write_text("not a category")
    return root


# ---------------------------------------------------------------- MVTec AD

def test_mvtec_categories_in_paper_order_with_defect_flags(tmp_path):
    root = _write_mvtec_root(tmp_path / "mvtec_anomaly_detection")

    dataset = load_dataset("mvtec", str(root), image_size=8)

    assert dataset.name == "mvtec"
    assert dataset.class_names == ("toothbrush", "screw", "a_widget")
    assert dataset.x_train.shape == (6, 8, 8, 3) and dataset.x_test.shape == (7, 8, 8, 3)
    assert dataset.x_train.dtype == np.uint8
    assert dataset.y_train.dtype == np.int64 and dataset.y_train.tolist() == [0, 0, 1, 1, 2, 2]
    assert dataset.y_test.tolist() == [0, 0, 1, 1, 1, 2, 2]
    # Within a category the test files are sorted: defective/ < good/, crack/ < good/.
    assert dataset.test_is_anomalous.dtype == bool
    assert dataset.test_is_anomalous.tolist() == [True, False, False, True, True, True, False]
    assert (dataset.x_train[:2] == RED).all()  # the 14x6 image too, resized to 8x8
    assert (dataset.x_train[2:4] == 128).all() and (dataset.x_train[4:] == 200).all()
    assert (dataset.x_test[0] == BLUE).all() and (dataset.x_test[1] == RED).all()
    test_gray_levels = [int(image[0, 0, 0]) for image in dataset.x_test[2:]]
    assert test_gray_levels == [128, 30, 60, 90, 200]


def test_mvtec_single_category_folder_defaults_to_128_and_keeps_grayscale(tmp_path):
    root = _write_mvtec_root(tmp_path / "mvtec")

    dataset = load_dataset("mvtec", str(root / "screw"))

    assert dataset.class_names == ("screw",)
    assert dataset.x_train.shape == (2, 128, 128, 1) and dataset.x_test.shape == (3, 128, 128, 1)
    assert dataset.y_train.tolist() == [0, 0] and dataset.y_test.tolist() == [0, 0, 0]
    assert dataset.test_is_anomalous.tolist() == [False, True, True]
    assert (dataset.x_train == 128).all()


def test_mvtec_corrupt_png_is_named(tmp_path):
    root = _write_mvtec_root(tmp_path / "mvtec")
    corrupt = root / "screw" / "test" / "scratch_head" / "001.png"
    corrupt.write_bytes(b"\x89PNG\x00\x13garbage")

    message = _error_message("mvtec", str(root), image_size=8)

    assert "1 of 14 image files could not be read" in message
    assert str(corrupt) in message and "Remove or replace them" in message


def test_mvtec_truncated_png_is_named_with_the_first_five(tmp_path):
    root = _write_mvtec_root(tmp_path / "mvtec")
    good_folder = root / "toothbrush" / "test" / "good"
    valid_bytes = (good_folder / "000.png").read_bytes()
    truncated = [good_folder / f"{index:03d}.png" for index in range(1, 7)]
    for path in truncated:
        path.write_bytes(valid_bytes[: len(valid_bytes) // 2])

    message = _error_message("mvtec", str(root), image_size=8)

    assert "6 of 19 image files" in message
    assert all(str(path) in message for path in truncated[:5])
    assert str(truncated[5]) not in message and message.count(", ...") == 1


def test_mvtec_needs_data_dir_and_says_where_to_get_it():
    message = _error_message("mvtec")

    assert "--data_dir" in message
    assert "https://www.mvtec.com/company/research/datasets/mvtec-ad" in message
    assert "train/good/*.png" in message


def test_mvtec_missing_folder_is_named(tmp_path):
    message = _error_message("mvtec", str(tmp_path / "absent"))

    assert str(tmp_path / "absent") in message and "does not exist" in message


def test_mvtec_root_without_categories(tmp_path):
    (tmp_path / "readme.txt").write_text("empty download")

    message = _error_message("mvtec", str(tmp_path))

    assert str(tmp_path) in message and "no category folders" in message


def test_mvtec_category_without_test_folder_is_named(tmp_path):
    root = _write_mvtec_root(tmp_path / "mvtec")
    for path in sorted((root / "screw" / "test").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (root / "screw" / "test").rmdir()

    message = _error_message("mvtec", str(root))

    assert str(root / "screw" / "test") in message and "does not exist" in message
    assert "good/" in message


def test_mvtec_empty_category_is_named(tmp_path):
    root = _write_mvtec_root(tmp_path / "mvtec")
    for path in (root / "a_widget" / "train" / "good").iterdir():
        path.unlink()

    message = _error_message("mvtec", str(root))

    assert str(root / "a_widget" / "train") in message and "holds no PNG, JPEG or BMP" in message


@pytest.mark.parametrize(
    ("requested", "expected"),
    [("toothbrush", 0), ("screw", 1), ("a_widget", 2), (12, 0), (13, 1), ("13", 1)],
)
def test_mvtec_category_index_by_name_or_paper_index(requested, expected, named_dataset):
    dataset = named_dataset("mvtec", ("toothbrush", "screw", "a_widget"))

    assert mvtec_category_index(requested, dataset) == expected


@pytest.mark.parametrize("requested", ["bottle", 0, "0", 15, -1, "Screw"])
def test_mvtec_category_index_rejects_categories_not_loaded(requested, named_dataset):
    dataset = named_dataset("mvtec", ("toothbrush", "screw", "a_widget"))

    with pytest.raises(DatasetError) as caught:
        mvtec_category_index(requested, dataset)

    message = str(caught.value)
    assert repr(requested) in message
    assert "toothbrush (12), screw (13), a_widget." in message


# ---------------------------------------------------------------- image folder

def _write_mixed_folder(root):
    """Grayscale PNG, RGB JPEG, RGBA PNG (nested) and BMP, with files that must be ignored."""
    train = root / "train"
    _save_image(train / "a_gray.png", (12, 12), 128, "L")
    _save_image(train / "b_red.JPG", (20, 10), RED, image_format="JPEG")
    _save_image(train / "nested" / "deeper" / "c_rgba.png", (8, 8), (0, 255, 0, 0), "RGBA")
    (train / "notes.txt").write_text("not an image")
    (train / ".DS_Store").write_bytes(b"\x00\x01junk")
    (train / "._a_gray.png").write_bytes(b"macOS metadata, not a PNG")
    _save_image(root / "test" / "good" / "d_blue.bmp", (9, 9), BLUE)
    _save_image(root / "test" / "scratch" / "e_gray.PNG", (5, 7), 40, "L")
    return root


def test_folder_mixes_formats_into_rgb_and_marks_anomalies(tmp_path):
    root = _write_mixed_folder(tmp_path / "parts")

    dataset = load_dataset("folder", str(root), image_size=6)

    assert dataset.name == "folder" and dataset.class_names == ("parts",)
    assert dataset.x_train.shape == (3, 6, 6, 3) and dataset.x_test.shape == (2, 6, 6, 3)
    assert dataset.y_train.tolist() == [0, 0, 0] and dataset.y_test.tolist() == [0, 0]
    assert dataset.y_train.dtype == np.int64 and dataset.y_test.dtype == np.int64
    assert dataset.test_is_anomalous.tolist() == [False, True]
    assert (dataset.x_train[0] == 128).all()
    assert np.abs(dataset.x_train[1].astype(int) - RED).max() <= 3  # JPEG is lossy
    assert (dataset.x_train[2] == GREEN).all()  # alpha dropped, not composited on black
    assert (dataset.x_test[0] == BLUE).all() and (dataset.x_test[1] == 40).all()


def test_folder_of_grayscale_images_keeps_one_channel_and_defaults_to_32(tmp_path):
    root = tmp_path / "gray"
    _save_image(root / "train" / "000.png", (40, 30), 70, "L")
    _save_image(root / "train" / "001.bmp", (28, 28), 90, "L")
    _save_image(root / "test" / "good" / "000.jpeg", (16, 16), 70, "L", image_format="JPEG")
    _save_image(root / "test" / "dent" / "000.png", (16, 16), 0, "L")

    dataset = load_dataset("folder", str(root))

    assert dataset.x_train.shape == (2, 32, 32, 1) and dataset.x_test.shape == (2, 32, 32, 1)
    assert (dataset.x_train[0] == 70).all() and (dataset.x_train[1] == 90).all()
    assert dataset.test_is_anomalous.tolist() == [True, False]


def test_folder_class_name_comes_from_the_resolved_folder(tmp_path, monkeypatch):
    root = _write_mixed_folder(tmp_path / "washers")
    monkeypatch.chdir(root)

    dataset = load_dataset("folder", ".", image_size=4)

    assert dataset.class_names == ("washers",)


def test_folder_with_empty_train_is_named(tmp_path):
    root = _write_mixed_folder(tmp_path / "parts")
    for path in sorted((root / "train").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (root / "train" / "readme.txt").write_text("images go here")

    message = _error_message("folder", str(root))

    assert f"{root / 'train'} holds no PNG, JPEG or BMP images (only 1 other file: readme.txt)" in message
    assert "normal training images" in message


def test_folder_without_test_is_named(tmp_path):
    root = tmp_path / "parts"
    _save_image(root / "train" / "000.png", (4, 4), 1, "L")

    message = _error_message("folder", str(root))

    assert str(root / "test") in message and "does not exist" in message


def test_folder_image_directly_in_test_is_named(tmp_path):
    root = _write_mixed_folder(tmp_path / "parts")
    loose = _save_image(root / "test" / "unsorted.png", (4, 4), 1, "L")

    message = _error_message("folder", str(root))

    assert str(loose) in message and "good/" in message


def test_folder_corrupt_image_is_named(tmp_path):
    root = _write_mixed_folder(tmp_path / "parts")
    corrupt = root / "test" / "scratch" / "f_broken.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")

    message = _error_message("folder", str(root), image_size=4)

    assert "1 of 6 image files could not be read" in message and str(corrupt) in message


def test_folder_counts_the_files_that_are_not_images_in_one_note(tmp_path, capsys):
    root = _write_mixed_folder(tmp_path / "parts")
    for name in ("a.csv", "b.json", "c.txt", "d.tif", "e.webp"):
        (root / "train" / "nested" / name).write_text("not read")

    dataset = load_dataset("folder", str(root), image_size=4)

    assert len(dataset.x_train) == 3
    # Hidden files (.DS_Store, ._a_gray.png) are skipped by rule, not counted; at most five are named.
    assert capsys.readouterr().out.splitlines() == [
        f"note: skipped 6 files in {root / 'train'} that are not PNG, JPEG or BMP images (nested/a.csv, "
        "nested/b.json, nested/c.txt, nested/d.tif, nested/e.webp, ...)"]


def _write_folder_with_linked_train(root, target):
    """root/train holds one image and links to target's folder and one of its files."""
    for index in range(2):
        _save_image(target / "images" / f"{index}.png", (4, 4), 100 + index, "L")
    _save_image(root / "train" / "own.png", (4, 4), 50, "L")
    (root / "train" / "linked_folder").symlink_to(target / "images", target_is_directory=True)
    (root / "train" / "linked_file.png").symlink_to(target / "images" / "0.png")
    _save_image(root / "test" / "good" / "0.png", (4, 4), 50, "L")
    _save_image(root / "test" / "dent" / "0.png", (4, 4), 0, "L")
    return root


def test_symlinked_folders_and_files_are_followed(tmp_path, capsys):
    root = _write_folder_with_linked_train(tmp_path / "parts", tmp_path / "elsewhere")

    dataset = load_dataset("folder", str(root), image_size=4)

    # Sorted: linked_file.png, linked_folder/0.png, linked_folder/1.png, own.png.
    assert dataset.x_train[:, 0, 0, 0].tolist() == [100, 100, 101, 50]
    assert capsys.readouterr().out == ""


def test_a_symlink_loop_is_read_once_with_a_note(tmp_path, capsys):
    root = _write_folder_with_linked_train(tmp_path / "parts", tmp_path / "elsewhere")
    (root / "train" / "linked_folder_again").symlink_to(tmp_path / "elsewhere" / "images")
    (tmp_path / "elsewhere" / "images" / "back_to_train").symlink_to(root / "train", target_is_directory=True)

    dataset = load_dataset("folder", str(root), image_size=4)

    assert dataset.x_train[:, 0, 0, 0].tolist() == [100, 100, 101, 50]
    note = capsys.readouterr().out.strip()
    assert note == (f"note: {root / 'train'} reaches 2 folders a second time through a symlink (a loop or a "
                    "second link); their images are read once: linked_folder/back_to_train, linked_folder_again")


def test_a_broken_symlink_is_named(tmp_path):
    root = _write_folder_with_linked_train(tmp_path / "parts", tmp_path / "elsewhere")
    broken = root / "train" / "moved.png"
    broken.symlink_to(tmp_path / "gone.png")

    message = _error_message("folder", str(root))

    assert message == (f"{broken} is a broken symbolic link (to {tmp_path / 'gone.png'}, which does not exist); "
                       "remove it or point it at an existing file or folder.")


def test_folder_needs_data_dir():
    message = _error_message("folder")

    assert "--data_dir FOLDER" in message and "FOLDER/test/good/" in message


# ---------------------------------------------------------------- cats_vs_dogs folder

def _write_pet_images(root):
    """Cat/ (red-ish JPEGs, one empty file as in the real PetImages) and dog/ (blue-ish)."""
    for index in range(10):
        _save_image(root / "Cat" / f"{index}.jpg", (30 + index, 20), (200, 10 * index, 0))
    (root / "Cat" / "666.jpg").write_bytes(b"")
    (root / "Cat" / "Thumbs.db").write_bytes(b"windows thumbnail cache")
    for index in range(15):
        _save_image(root / "dog" / f"{index}.jpg", (20, 25 + index), (0, 10 * index, 200))
    return root


def test_cats_vs_dogs_folder_skips_corrupt_files_with_a_warning(tmp_path, capsys):
    root = _write_pet_images(tmp_path / "PetImages")

    dataset = load_dataset("cats_vs_dogs", str(root), image_size=8)

    note, warning = capsys.readouterr().out.splitlines()
    assert note == f"note: skipped 1 file in {root / 'Cat'} that is not a PNG, JPEG or BMP image (Thumbs.db)"
    assert warning.startswith("warning:") and "skipped 1 of 26" in warning and "666.jpg" in warning
    assert dataset.name == "cats_vs_dogs" and dataset.class_names == ("cat", "dog")
    assert dataset.x_train.shape == (20, 8, 8, 3) and dataset.x_test.shape == (5, 8, 8, 3)
    assert np.bincount(dataset.y_train).tolist() == [8, 12]
    assert np.bincount(dataset.y_test).tolist() == [2, 3]
    assert dataset.test_is_anomalous is None
    for images, labels in ((dataset.x_train, dataset.y_train), (dataset.x_test, dataset.y_test)):
        red, blue = images[..., 0].mean(axis=(1, 2)), images[..., 2].mean(axis=(1, 2))
        assert ((red > blue) == (labels == 0)).all()


def test_cats_vs_dogs_split_is_fixed(tmp_path, capsys):
    root = _write_pet_images(tmp_path / "PetImages")

    first = load_dataset("cats_vs_dogs", str(root), image_size=4)
    second = load_dataset("cats_vs_dogs", str(root), image_size=4)

    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field))


def test_cats_vs_dogs_missing_class_folder_is_named(tmp_path):
    root = tmp_path / "PetImages"
    _save_image(root / "Cat" / "0.jpg", (4, 4), RED)

    message = _error_message("cats_vs_dogs", str(root))

    assert str(root) in message and "dog/ (or Dog/)" in message
    assert "https://www.microsoft.com/en-us/download/details.aspx?id=54765" in message


def test_npz_train_and_test_must_have_the_same_channel_count(tmp_path):
    arrays = _valid_npz_arrays()
    arrays["x_test"] = np.repeat(arrays["x_test"][..., None], 3, axis=-1)
    path = tmp_path / "mixed.npz"
    np.savez(path, **arrays)
    with pytest.raises(DatasetError, match="x_train has 1 channel\\(s\\) but x_test has 3"):
        load_dataset("npz", str(path))
