"""Defect masks and test-image paths of the datasets read from files, one-class splits carrying them, and
finding and reading new image files for prediction. Folders are written to tmp_path (photo_folders.py)."""

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data.pipeline import one_class_split
from data.sources import DatasetError, ImageDataset, find_image_files, load_dataset, read_images
from photo_folders import ODD_IMAGE_SIZES, make_odd_images, make_photo_folder


def _save_gray(path, pixels):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels, np.uint8), "L").save(path)
    return path


# ---------------------------------------------------------------- folder masks

def test_folder_masks_are_the_pasted_rectangles_and_good_images_have_none(tmp_path):
    made = make_photo_folder(tmp_path / "photos")

    dataset = load_dataset("folder", str(made["data_dir"]), image_size=32)

    assert dataset.x_test.shape == (24, 32, 32, 3)
    assert dataset.test_masks.dtype == np.uint8 and dataset.test_masks.shape == (24, 32, 32)
    assert dataset.test_is_anomalous.tolist() == made["test_is_anomalous"]
    np.testing.assert_array_equal(dataset.test_masks, made["test_masks"])
    assert not dataset.test_masks[~dataset.test_is_anomalous].any()
    assert dataset.test_masks[dataset.test_is_anomalous].any(axis=(1, 2)).all()


def test_resized_masks_cover_the_resized_rectangles(tmp_path):
    made = make_photo_folder(tmp_path / "photos")

    masks = load_dataset("folder", str(made["data_dir"]), image_size=16).test_masks

    # Halved: an output pixel is defective if its 2x2 block of tile pixels lies inside the rectangle,
    # normal if the block lies outside; a block on the edge may go either way.
    blocks = made["test_masks"].reshape(-1, 16, 2, 16, 2).sum(axis=(2, 4))
    assert (masks[blocks == 4] == 1).all() and (masks[blocks == 0] == 0).all()
    assert masks.shape == (24, 16, 16) and set(np.unique(masks)) == {0, 1}


def test_a_mask_lines_up_with_its_image_at_any_size(tmp_path):
    """Each defective image is its own mask (a white rectangle on black, 53x37): resized, the two agree."""
    root = tmp_path / "parts"
    _save_gray(root / "train" / "0.png", np.zeros((37, 53)))
    _save_gray(root / "test" / "good" / "0.png", np.zeros((37, 53)))
    for index, (top, left, bottom, right) in enumerate([(3, 5, 20, 30), (10, 1, 36, 9), (0, 40, 7, 53)]):
        pixels = np.zeros((37, 53))
        pixels[top:bottom, left:right] = 255
        _save_gray(root / "test" / "dent" / f"{index}.png", pixels)
        _save_gray(root / "masks" / "dent" / f"{index}.png", pixels)

    dataset = load_dataset("folder", str(root), image_size=16)

    np.testing.assert_array_equal(dataset.test_masks, (dataset.x_test[..., 0] > 127).astype(np.uint8))
    assert dataset.test_masks.any(axis=(1, 2)).tolist() == dataset.test_is_anomalous.tolist() == [True] * 3 + [False]


def test_masks_may_be_named_stem_or_stem_mask_as_any_image_type(tmp_path):
    made = make_photo_folder(tmp_path / "photos", test_defect=3)
    first, second, _ = made["mask_files"]
    Image.open(first).save(first.with_name("000_mask.bmp"))
    first.unlink()
    second.rename(second.with_name("001_mask.PNG"))

    dataset = load_dataset("folder", str(made["data_dir"]), image_size=32)

    np.testing.assert_array_equal(dataset.test_masks, made["test_masks"])


def test_a_missing_mask_names_the_image_and_the_mask_files_looked_for(tmp_path):
    made = make_photo_folder(tmp_path / "photos")
    made["mask_files"][3].unlink()
    root = made["data_dir"]

    with pytest.raises(DatasetError) as caught:
        load_dataset("folder", str(root))

    message = str(caught.value)
    assert message.startswith(f"1 anomalous test image in {root / 'test'} has no mask in {root / 'masks'}: "
                              "patch/003.png.")
    assert (f"looked for: {root / 'masks' / 'patch' / '003'}.png or {root / 'masks' / 'patch' / '003'}_mask.png "
            "(either also as .jpg, .jpeg or .bmp)") in message
    assert "remove FOLDER/masks/ to load the images without masks" in message


def test_two_masks_for_one_image_are_refused(tmp_path):
    made = make_photo_folder(tmp_path / "photos", test_defect=2)
    mask = made["mask_files"][1]
    shutil.copy(mask, mask.with_name("001_mask.png"))

    with pytest.raises(DatasetError, match="001.png has 2 masks .*; keep one of them"):
        load_dataset("folder", str(made["data_dir"]))


def test_an_unreadable_mask_is_named(tmp_path):
    made = make_photo_folder(tmp_path / "photos", test_defect=2)
    made["mask_files"][0].write_bytes(b"\x89PNG not really")

    with pytest.raises(DatasetError) as caught:
        load_dataset("folder", str(made["data_dir"]))

    assert "1 of 2 image files could not be read" in str(caught.value)
    assert str(made["mask_files"][0]) in str(caught.value)


def test_without_a_masks_folder_there_are_no_masks(tmp_path):
    made = make_photo_folder(tmp_path / "photos", masks=False)

    dataset = load_dataset("folder", str(made["data_dir"]))

    assert dataset.test_masks is None
    assert dataset.test_paths == tuple(str(path) for path in made["test_files"])


def test_a_folder_of_normal_test_images_has_zero_masks(tmp_path):
    made = make_photo_folder(tmp_path / "photos", all_normal=True)

    dataset = load_dataset("folder", str(made["data_dir"]), image_size=32)

    assert made["counts"] == {"train": 48, "test_good": 12, "test_defect": 0}
    assert dataset.test_masks.shape == (12, 32, 32) and not dataset.test_masks.any()


# ---------------------------------------------------------------- test paths

def test_test_paths_name_the_file_of_each_test_image(tmp_path):
    made = make_photo_folder(tmp_path / "photos")

    dataset = load_dataset("folder", str(made["data_dir"]), image_size=20)

    assert dataset.test_paths == tuple(str(path) for path in made["test_files"])
    images, sizes = read_images(dataset.test_paths, 20, 20, 3)
    np.testing.assert_array_equal(images, dataset.x_test)
    assert sizes.tolist() == [[32, 32]] * 24


def test_cats_vs_dogs_folder_test_paths_follow_its_split(tmp_path):
    root = tmp_path / "PetImages"
    for index in range(10):
        for class_folder, colour in (("Cat", (200, 10 * index, 0)), ("Dog", (0, 10 * index, 200))):
            path = root / class_folder / f"{index}.jpg"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (20 + index, 15), colour).save(path)

    dataset = load_dataset("cats_vs_dogs", str(root), image_size=8)

    assert len(dataset.test_paths) == 4 and dataset.test_masks is None
    class_folders = [Path(path).parent.name for path in dataset.test_paths]
    assert class_folders == [("Cat", "Dog")[label] for label in dataset.y_test]
    np.testing.assert_array_equal(read_images(dataset.test_paths, 8, 8, 3)[0], dataset.x_test)


def test_datasets_not_read_from_image_files_have_no_paths_or_masks(digits):
    assert digits.test_paths is None and digits.test_masks is None


# ---------------------------------------------------------------- MVTec AD masks

def test_mvtec_masks_come_from_ground_truth(tmp_path):
    made = make_photo_folder(tmp_path / "mvtec", layout="mvtec")

    for data_dir in (made["data_dir"], made["category"]):
        dataset = load_dataset("mvtec", str(data_dir), image_size=32)

        assert dataset.class_names == ("photo",)
        np.testing.assert_array_equal(dataset.test_masks, made["test_masks"])
        assert dataset.test_paths == tuple(str(path) for path in made["test_files"])


def test_mvtec_missing_mask_names_ground_truth(tmp_path):
    made = make_photo_folder(tmp_path / "mvtec", layout="mvtec")
    made["mask_files"][0].unlink()

    with pytest.raises(DatasetError) as caught:
        load_dataset("mvtec", str(made["data_dir"]))

    message = str(caught.value)
    assert f"{made['category'] / 'ground_truth' / 'patch' / '000'}_mask.png" in message
    assert "<category>/ground_truth/<defect>/<name>_mask.png" in message


def _two_categories(tmp_path, second_has_masks=True):
    made = make_photo_folder(tmp_path / "mvtec", layout="mvtec", test_defect=4)
    second = made["data_dir"] / "second"
    shutil.copytree(made["category"], second)
    if not second_has_masks:
        shutil.rmtree(second / "ground_truth")
    return made, second


def test_mvtec_category_without_ground_truth_means_no_masks_with_a_note(tmp_path, capsys):
    made, _ = _two_categories(tmp_path, second_has_masks=False)

    dataset = load_dataset("mvtec", str(made["data_dir"]), image_size=8)

    assert dataset.test_masks is None and len(dataset.test_paths) == 32
    assert capsys.readouterr().out == (
        "note: no ground_truth/ folder in second, so the test images are loaded without defect masks.\n")


# ---------------------------------------------------------------- one-class splits

def test_defect_split_keeps_the_paths_and_masks_of_the_class(tmp_path):
    made, second = _two_categories(tmp_path)
    dataset = load_dataset("mvtec", str(made["data_dir"]), image_size=32)

    split = one_class_split(dataset, 1)

    assert dataset.class_names == ("photo", "second")
    assert split.test_paths.tolist() == [path.replace(str(made["category"]), str(second))
                                         for path in dataset.test_paths[:16]]
    np.testing.assert_array_equal(split.test_masks, made["test_masks"])
    np.testing.assert_array_equal(split.test_images, dataset.x_test[16:])


def test_class_splits_keep_the_whole_test_set_with_its_paths_and_masks():
    images = np.arange(4, dtype=np.uint8).reshape(4, 1, 1, 1)
    masks = np.arange(4, dtype=np.uint8).reshape(4, 1, 1)
    dataset = ImageDataset("tiny", images, np.array([0, 1, 0, 1]), images, np.array([1, 0, 1, 0]), ("a", "b"),
                           test_paths=("w.png", "x.png", "y.png", "z.png"), test_masks=masks)

    split = one_class_split(dataset, 0)

    assert split.test_paths.dtype.kind == "U" and split.test_paths.tolist() == ["w.png", "x.png", "y.png", "z.png"]
    assert split.test_masks is masks


def test_splits_of_datasets_without_paths_have_none(digits):
    split = one_class_split(digits, 3)

    assert split.test_paths is None and split.test_masks is None


# ---------------------------------------------------------------- find_image_files

def _write_image_tree(root):
    for relative in ("b.png", "a.JPG", "sub/c.bmp", "sub/deeper/d.jpeg", ".hidden/e.png", "._f.png"):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (4, 4)).save(path, format="JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else None)
    (root / "notes.txt").write_text("not an image")
    return root


def test_find_image_files_of_one_file(tmp_path):
    root = _write_image_tree(tmp_path / "photos")

    assert find_image_files(str(root / "b.png")) == [root / "b.png"]
    with pytest.raises(DatasetError, match="notes.txt is not a PNG, JPEG or BMP file"):
        find_image_files(str(root / "notes.txt"))
    with pytest.raises(DatasetError, match="missing.png does not exist"):
        find_image_files(str(root / "missing.png"))


def test_find_image_files_of_a_folder_searches_it_at_any_depth(tmp_path, capsys):
    root = _write_image_tree(tmp_path / "photos")

    found = find_image_files(str(root))

    assert found == [root / "a.JPG", root / "b.png", root / "sub" / "c.bmp", root / "sub" / "deeper" / "d.jpeg"]
    assert capsys.readouterr().out == (
        f"note: skipped 1 file in {root} that is not a PNG, JPEG or BMP image (notes.txt)\n")


def test_find_image_files_of_a_glob_pattern(tmp_path, capsys):
    root = _write_image_tree(tmp_path / "photos")

    assert find_image_files(str(root / "*.png")) == [root / "b.png"]
    assert find_image_files(str(root / "**" / "*.*")) == [
        root / "a.JPG", root / "b.png", root / "sub" / "c.bmp", root / "sub" / "deeper" / "d.jpeg"]
    assert capsys.readouterr().out == (
        f"note: skipped 1 file matching {root / '**' / '*.*'} that is not a PNG, JPEG or BMP image "
        f"({root / 'notes.txt'})\n")


def test_find_image_files_without_a_match(tmp_path):
    root = _write_image_tree(tmp_path / "photos")

    with pytest.raises(DatasetError, match=r"No PNG, JPEG or BMP file matches .*\*\.gif\. Give one"):
        find_image_files(str(root / "*.gif"))
    with pytest.raises(DatasetError, match=r"\*\.txt \(only 1 other file: .*notes\.txt\)"):
        find_image_files(str(root / "*.txt"))
    (root / "empty").mkdir()
    with pytest.raises(DatasetError, match="empty holds no PNG, JPEG or BMP images; it should hold the images"):
        find_image_files(str(root / "empty"))


# ---------------------------------------------------------------- read_images

@pytest.mark.parametrize("channels", [1, 3])
def test_read_images_of_every_mode(tmp_path, channels):
    paths = make_odd_images(tmp_path / "odd")

    images, sizes = read_images(list(paths.values()), 24, 20, channels)

    assert images.dtype == np.uint8 and images.shape == (6, 24, 20, channels)
    assert sizes.dtype == np.int64
    assert sizes.tolist() == [[height, width] for width, height in ODD_IMAGE_SIZES.values()]
    assert [Image.open(path).mode for path in paths.values()] == ["L", "LA", "RGBA", "P", "RGB", "RGB"]


def test_read_images_gives_the_loaders_pixels(tmp_path):
    root = tmp_path / "odd"
    make_odd_images(root / "train")
    paths = make_odd_images(root / "test" / "good")

    dataset = load_dataset("folder", str(root), image_size=24)

    assert dataset.test_paths == tuple(str(path) for path in sorted(paths.values()))
    images, _ = read_images(dataset.test_paths, 24, 24, 3)
    np.testing.assert_array_equal(images, dataset.x_test)


def test_read_images_gives_the_loaders_pixels_of_grayscale_files(tmp_path):
    root = tmp_path / "gray"
    for folder in (root / "train", root / "test" / "good"):
        paths = make_odd_images(folder)
        for kind in ("rgba", "palette", "jpeg", "bmp"):
            paths[kind].unlink()

    dataset = load_dataset("folder", str(root), image_size=24)

    assert dataset.x_test.shape == (2, 24, 24, 1)
    np.testing.assert_array_equal(read_images(dataset.test_paths, 24, 24, 1)[0], dataset.x_test)


def test_read_images_drops_alpha_and_converts_channels(tmp_path):
    paths = make_odd_images(tmp_path / "odd")
    files = list(paths.values())
    width, height = ODD_IMAGE_SIZES["rgba"]

    rgb, _ = read_images(files, 30, 30, 3)
    gray, _ = read_images(files, 30, 30, 1)
    rgba_at_its_size, _ = read_images([paths["rgba"]], height, width, 3)

    np.testing.assert_array_equal(rgba_at_its_size[0], np.asarray(Image.open(paths["rgba"]).convert("RGB")))
    for index in (0, 1):  # grayscale files: repeated into three equal channels
        assert (rgb[index] == gray[index]).all()
    luminance = rgb[2:].astype(float) @ [0.2989, 0.587, 0.114]
    assert np.abs(gray[2:, ..., 0] - luminance).max() <= 2


def test_read_images_names_unreadable_files(tmp_path):
    paths = make_odd_images(tmp_path / "odd")
    broken = tmp_path / "odd" / "broken.png"
    broken.write_bytes(b"\x89PNG truncated")

    with pytest.raises(DatasetError) as caught:
        read_images([paths["gray"], broken], 8, 8, 3)

    assert str(caught.value).startswith(f"1 of 2 image files could not be read as PNG, JPEG or BMP "
                                        f"(corrupt, truncated or not an image): {broken}.")


def test_read_images_of_no_files_and_of_a_wrong_channel_count():
    images, sizes = read_images([], 8, 6, 1)

    assert images.shape == (0, 8, 6, 1) and sizes.shape == (0, 2)
    with pytest.raises(ValueError, match="channels must be 1 .* or 3 .*, got 4"):
        read_images([], 8, 8, 4)
