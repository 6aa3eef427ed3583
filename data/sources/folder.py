"""The folder dataset: a practitioner's own images of one class, as FOLDER/train/ and
FOLDER/test/<good or anomaly type>/, with defect masks in FOLDER/masks/ if it exists."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .dataset import DatasetError, ImageDataset, _require_folder
from .image_files import _decode_train_and_test
from .one_class_folders import _mask_files, _one_class_files, _read_masks

FOLDER_FIX = (
    "Arrange your images as FOLDER/train/ (normal images only, sub-folders allowed), "
    "FOLDER/test/good/ (normal test images) and FOLDER/test/<anomaly type>/ (anomalous test "
    "images), as PNG, JPEG or BMP files."
)
# Where the folder layout keeps its defect masks; the folder mirrors test/.
FOLDER_MASKS_FOLDER = "masks"
FOLDER_MASKS_FIX = (
    "FOLDER/masks/ mirrors FOLDER/test/: the mask of test/<anomaly type>/<name>.png is "
    "masks/<anomaly type>/<name>.png or <name>_mask.png (PNG, JPEG or BMP, white on the defective "
    "pixels); images in test/good/ need none. Add the missing masks, or remove FOLDER/masks/ to "
    "load the images without masks."
)


def _load_folder(data_dir: Path | None, image_size: int) -> ImageDataset:
    """A practitioner's own images: one class, named after the folder; test_masks from
    FOLDER/masks/ if it exists."""
    if data_dir is None:
        raise DatasetError(f"--dataset folder needs --data_dir FOLDER. {FOLDER_FIX}")
    _require_folder(data_dir, "Image", FOLDER_FIX)
    files = _one_class_files(data_dir, FOLDER_FIX)
    x_train, x_test = _decode_train_and_test(files.train, files.test, image_size)
    mask_files = _mask_files(data_dir, files, FOLDER_MASKS_FOLDER, FOLDER_MASKS_FIX)
    return ImageDataset(
        "folder",
        x_train,
        np.zeros(len(x_train), dtype=np.int64),
        x_test,
        np.zeros(len(x_test), dtype=np.int64),
        (data_dir.resolve().name,),
        files.test_is_anomalous,
        tuple(str(path) for path in files.test),
        None if mask_files is None else _read_masks(mask_files, image_size),
        tuple(files.test_kinds),
    )
