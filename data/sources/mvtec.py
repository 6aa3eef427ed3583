"""MVTec AD: one class per category folder, in the DGAD paper's order (MVTEC_CATEGORIES), with the
defect masks of ground_truth/; and mvtec_category_index, which selects a category by name or by its
number in the paper."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .dataset import DatasetError, ImageDataset, _require_folder
from .image_files import _decode_train_and_test
from .one_class_folders import _mask_files, _one_class_files, _read_masks

# DGAD Table 3 numbers the categories 0-14 in this order (its footnote), not alphabetically; a category is
# also selected by that number.
MVTEC_CATEGORIES = (
    "bottle", "hazelnut", "capsule", "metal_nut", "leather", "pill", "wood", "carpet",
    "tile", "grid", "cable", "transistor", "toothbrush", "screw", "zipper",
)
MVTEC_FIX = (
    "Download MVTec AD from https://www.mvtec.com/company/research/datasets/mvtec-ad, extract "
    "it, and pass --data_dir with the folder holding the categories (bottle/, cable/, ...) or "
    "one category folder; each category holds train/good/*.png and test/<good or defect>/*.png."
)
# Where MVTec AD keeps its defect masks; the folder mirrors test/.
MVTEC_MASKS_FOLDER = "ground_truth"
MVTEC_MASKS_FIX = (
    "MVTec AD keeps the mask of <category>/test/<defect>/<name>.png in "
    "<category>/ground_truth/<defect>/<name>_mask.png; restore it from the download, or remove the "
    "category's ground_truth/ to load the images without masks."
)


def mvtec_category_index(name_or_index: str | int, dataset: ImageDataset) -> int:
    """The class index in `dataset` of an MVTec AD category, given by name ("screw") or by its
    number in the DGAD paper's order, MVTEC_CATEGORIES (13 or "13")."""
    if isinstance(name_or_index, str) and not name_or_index.isdigit():
        name = name_or_index
    else:
        paper_index = int(name_or_index)
        in_paper = 0 <= paper_index < len(MVTEC_CATEGORIES)
        name = MVTEC_CATEGORIES[paper_index] if in_paper else None
    if name in dataset.class_names:
        return dataset.class_names.index(name)
    valid = ", ".join(
        f"{category} ({MVTEC_CATEGORIES.index(category)})"
        if category in MVTEC_CATEGORIES else category
        for category in dataset.class_names
    )
    raise DatasetError(
        f"MVTec category {name_or_index!r} is not in this dataset; give a name or a paper index "
        f"(in brackets) of one of the categories loaded: {valid}."
    )


def _load_mvtec(data_dir: Path | None, image_size: int) -> ImageDataset:
    """One class per category, in the DGAD paper's order; test_is_anomalous marks defects, and
    test_masks holds the ground_truth/ masks unless a category has none."""
    if data_dir is None:
        raise DatasetError(
            f"--dataset mvtec needs --data_dir: MVTec AD cannot be downloaded automatically. "
            f"{MVTEC_FIX}"
        )
    _require_folder(data_dir, "MVTec AD", MVTEC_FIX)
    category_folders = _mvtec_category_folders(data_dir)
    categories = [_one_class_files(folder, MVTEC_FIX) for folder in category_folders]
    labels = np.arange(len(categories), dtype=np.int64)
    test_paths = [path for category in categories for path in category.test]
    x_train, x_test = _decode_train_and_test(
        [path for category in categories for path in category.train], test_paths, image_size
    )
    mask_files = [
        _mask_files(folder, category, MVTEC_MASKS_FOLDER, MVTEC_MASKS_FIX)
        for folder, category in zip(category_folders, categories)
    ]
    without_masks = [
        folder.name for folder, masks in zip(category_folders, mask_files) if masks is None
    ]
    if without_masks:
        print(
            f"note: no {MVTEC_MASKS_FOLDER}/ folder in {', '.join(without_masks)}, so the test "
            "images are loaded without defect masks."
        )
        test_masks = None
    else:
        test_masks = _read_masks([mask for masks in mask_files for mask in masks], image_size)
    return ImageDataset(
        "mvtec",
        x_train,
        np.repeat(labels, [len(category.train) for category in categories]),
        x_test,
        np.repeat(labels, [len(category.test) for category in categories]),
        tuple(folder.name for folder in category_folders),
        np.concatenate([category.test_is_anomalous for category in categories]),
        tuple(str(path) for path in test_paths),
        test_masks,
        tuple(kind for category in categories for kind in category.test_kinds),
    )


def _mvtec_category_folders(data_dir: Path) -> list[Path]:
    """The category folders under data_dir in the DGAD paper's order (unknown ones after,
    sorted), or data_dir alone if it is itself a category."""
    if (data_dir / "train").is_dir() or (data_dir / "test").is_dir():
        return [data_dir]
    folders = [
        folder for folder in data_dir.iterdir()
        if folder.is_dir() and not folder.name.startswith(".")
    ]
    if not folders:
        raise DatasetError(f"MVTec AD folder {data_dir} holds no category folders. {MVTEC_FIX}")
    paper_order = {category: index for index, category in enumerate(MVTEC_CATEGORIES)}
    return sorted(
        folders, key=lambda folder: (paper_order.get(folder.name, len(paper_order)), folder.name)
    )
