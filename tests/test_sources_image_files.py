"""Tests for data/sources/image_files.py: how the images of a dataset are found (symbolic links
followed, read once), through the folder dataset on files written to tmp_path. Finding and reading new
images for prediction is tested in test_masks_and_paths.py."""

from data.sources import load_dataset
from sources_helpers import error_message, save_image


def _write_folder_with_linked_train(root, target):
    """root/train holds one image and links to target's folder and one of its files."""
    for index in range(2):
        save_image(target / "images" / f"{index}.png", (4, 4), 100 + index, "L")
    save_image(root / "train" / "own.png", (4, 4), 50, "L")
    (root / "train" / "linked_folder").symlink_to(target / "images", target_is_directory=True)
    (root / "train" / "linked_file.png").symlink_to(target / "images" / "0.png")
    save_image(root / "test" / "good" / "0.png", (4, 4), 50, "L")
    save_image(root / "test" / "dent" / "0.png", (4, 4), 0, "L")
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

    message = error_message("folder", str(root))

    assert message == (f"{broken} is a broken symbolic link (to {tmp_path / 'gone.png'}, which does not exist); "
                       "remove it or point it at an existing file or folder.")
