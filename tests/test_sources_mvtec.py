"""Tests for data/sources/mvtec.py on tiny MVTec AD folders written to tmp_path."""

import numpy as np
import pytest

from data.sources import DatasetError, load_dataset, mvtec_category_index
from sources_helpers import BLUE, RED, error_message, save_image


def _write_mvtec_category(root, name, mode, normal, defects):
    """train/good with two images (the second of another size), test/good, one image per
    defect type, and a ground_truth mask per defect that must not be loaded."""
    folder = root / name
    save_image(folder / "train" / "good" / "000.png", (10, 10), normal, mode)
    save_image(folder / "train" / "good" / "001.png", (14, 6), normal, mode)
    save_image(folder / "test" / "good" / "000.png", (10, 10), normal, mode)
    for defect, value in defects.items():
        save_image(folder / "test" / defect / "000.png", (10, 10), value, mode)
        save_image(folder / "ground_truth" / defect / "000_mask.png", (10, 10), 255, "L")
    return folder


def _write_mvtec_root(root):
    # Alphabetically: a_widget, screw, toothbrush; the paper numbers toothbrush 12, screw 13.
    _write_mvtec_category(root, "screw", "L", 128, {"scratch_head": 30, "thread_top": 60})
    _write_mvtec_category(root, "toothbrush", "RGB", RED, {"defective": BLUE})
    _write_mvtec_category(root, "a_widget", "L", 200, {"crack": 90})
    (root / "license.txt").write_text("not a category")
    return root


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

    message = error_message("mvtec", str(root), image_size=8)

    assert "1 of 14 image files could not be read" in message
    assert str(corrupt) in message and "Remove or replace them" in message


def test_mvtec_truncated_png_is_named_with_the_first_five(tmp_path):
    root = _write_mvtec_root(tmp_path / "mvtec")
    good_folder = root / "toothbrush" / "test" / "good"
    valid_bytes = (good_folder / "000.png").read_bytes()
    truncated = [good_folder / f"{index:03d}.png" for index in range(1, 7)]
    for path in truncated:
        path.write_bytes(valid_bytes[: len(valid_bytes) // 2])

    message = error_message("mvtec", str(root), image_size=8)

    assert "6 of 19 image files" in message
    assert all(str(path) in message for path in truncated[:5])
    assert str(truncated[5]) not in message and message.count(", ...") == 1


def test_mvtec_needs_data_dir_and_says_where_to_get_it():
    message = error_message("mvtec")

    assert "--data_dir" in message
    assert "https://www.mvtec.com/company/research/datasets/mvtec-ad" in message
    assert "train/good/*.png" in message


def test_mvtec_missing_folder_is_named(tmp_path):
    message = error_message("mvtec", str(tmp_path / "absent"))

    assert str(tmp_path / "absent") in message and "does not exist" in message


def test_mvtec_root_without_categories(tmp_path):
    (tmp_path / "readme.txt").write_text("empty download")

    message = error_message("mvtec", str(tmp_path))

    assert str(tmp_path) in message and "no category folders" in message


def test_mvtec_category_without_test_folder_is_named(tmp_path):
    root = _write_mvtec_root(tmp_path / "mvtec")
    for path in sorted((root / "screw" / "test").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (root / "screw" / "test").rmdir()

    message = error_message("mvtec", str(root))

    assert str(root / "screw" / "test") in message and "does not exist" in message
    assert "good/" in message


def test_mvtec_empty_category_is_named(tmp_path):
    root = _write_mvtec_root(tmp_path / "mvtec")
    for path in (root / "a_widget" / "train" / "good").iterdir():
        path.unlink()

    message = error_message("mvtec", str(root))

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
