"""Tests for data/sources/folder.py (and the one-class layout it shares with mvtec,
data/sources/one_class_folders.py) on tiny image folders written to tmp_path."""

import numpy as np

from data.sources import load_dataset
from sources_helpers import BLUE, GREEN, RED, error_message, save_image


def _write_mixed_folder(root):
    """Grayscale PNG, RGB JPEG, RGBA PNG (nested) and BMP, with files that must be ignored."""
    train = root / "train"
    save_image(train / "a_gray.png", (12, 12), 128, "L")
    save_image(train / "b_red.JPG", (20, 10), RED, image_format="JPEG")
    save_image(train / "nested" / "deeper" / "c_rgba.png", (8, 8), (0, 255, 0, 0), "RGBA")
    (train / "notes.txt").write_text("not an image")
    (train / ".DS_Store").write_bytes(b"\x00\x01junk")
    (train / "._a_gray.png").write_bytes(b"macOS metadata, not a PNG")
    save_image(root / "test" / "good" / "d_blue.bmp", (9, 9), BLUE)
    save_image(root / "test" / "scratch" / "e_gray.PNG", (5, 7), 40, "L")
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
    save_image(root / "train" / "000.png", (40, 30), 70, "L")
    save_image(root / "train" / "001.bmp", (28, 28), 90, "L")
    save_image(root / "test" / "good" / "000.jpeg", (16, 16), 70, "L", image_format="JPEG")
    save_image(root / "test" / "dent" / "000.png", (16, 16), 0, "L")

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

    message = error_message("folder", str(root))

    assert f"{root / 'train'} holds no PNG, JPEG or BMP images (only 1 other file: readme.txt)" in message
    assert "normal training images" in message


def test_folder_without_test_is_named(tmp_path):
    root = tmp_path / "parts"
    save_image(root / "train" / "000.png", (4, 4), 1, "L")

    message = error_message("folder", str(root))

    assert str(root / "test") in message and "does not exist" in message


def test_folder_image_directly_in_test_is_named(tmp_path):
    root = _write_mixed_folder(tmp_path / "parts")
    loose = save_image(root / "test" / "unsorted.png", (4, 4), 1, "L")

    message = error_message("folder", str(root))

    assert str(loose) in message and "good/" in message


def test_folder_corrupt_image_is_named(tmp_path):
    root = _write_mixed_folder(tmp_path / "parts")
    corrupt = root / "test" / "scratch" / "f_broken.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")

    message = error_message("folder", str(root), image_size=4)

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


def test_folder_needs_data_dir():
    message = error_message("folder")

    assert "--data_dir FOLDER" in message and "FOLDER/test/good/" in message
