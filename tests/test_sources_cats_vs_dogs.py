"""Tests for data/sources/cats_vs_dogs.py on tiny PetImages folders written to tmp_path, and on its
tensorflow-datasets path with tfds replaced; nothing is downloaded."""

import numpy as np

from data.sources import cats_vs_dogs, load_dataset
from sources_helpers import RED, error_message, save_image


def _write_pet_images(root):
    """Cat/ (red-ish JPEGs, one empty file as in the real PetImages) and dog/ (blue-ish)."""
    for index in range(10):
        save_image(root / "Cat" / f"{index}.jpg", (30 + index, 20), (200, 10 * index, 0))
    (root / "Cat" / "666.jpg").write_bytes(b"")
    (root / "Cat" / "Thumbs.db").write_bytes(b"windows thumbnail cache")
    for index in range(15):
        save_image(root / "dog" / f"{index}.jpg", (20, 25 + index), (0, 10 * index, 200))
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
    save_image(root / "Cat" / "0.jpg", (4, 4), RED)

    message = error_message("cats_vs_dogs", str(root))

    assert str(root) in message and "dog/ (or Dog/)" in message
    assert "https://www.microsoft.com/en-us/download/details.aspx?id=54765" in message


# ---------------------------------------------------------------- tensorflow-datasets path

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

    message = error_message("cats_vs_dogs")

    assert "RuntimeError: checksum mismatch" in message
    assert "https://www.microsoft.com/en-us/download/details.aspx?id=54765" in message
    assert "--data_dir path/to/PetImages" in message
