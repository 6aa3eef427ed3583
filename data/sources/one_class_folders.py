"""The one-class layout that MVTec AD's categories and the folder dataset share: normal images in
train/, test images in test/good/ (normal) and test/<anomaly type>/ (anomalous), and the defect masks
in a folder that mirrors test/ (which folder, each layout says)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from .dataset import DatasetError
from .image_files import (
    IMAGE_FILE_EXTENSIONS,
    _count,
    _decode_in_parallel,
    _find_images,
    _first_files,
    _is_image_file,
    _unreadable_message,
    decode_image_bytes,
    to_source_image,
)

NORMAL_TEST_FOLDER = "good"
# Masks are stored as 0 or 255; after resizing, a pixel above half is defective.
MASK_THRESHOLD = 127


class OneClassFiles(NamedTuple):
    """The image files of one class laid out as train/ and test/<good or anomaly type>/."""

    train: list[Path]
    test: list[Path]
    test_is_anomalous: np.ndarray  # bool, one per test file
    test_kinds: list[str]  # the sub-folder of test/ of each test file: good or its anomaly type


def _one_class_files(folder: Path, fix: str) -> OneClassFiles:
    """train/ holds normal images at any depth; test/good/ normal ones and every other
    sub-folder of test/ anomalous ones. Anything else, such as the masks, is not read."""
    train = _find_images(folder / "train", "the normal training images", fix)
    test_folder = folder / "test"
    test = _find_images(
        test_folder,
        f"{NORMAL_TEST_FOLDER}/ with normal test images and one sub-folder per anomaly type",
        fix,
    )
    loose = [path for path in test if path.parent == test_folder]
    if loose:
        raise DatasetError(
            f"{loose[0]} lies directly in {test_folder}, so it is neither normal nor anomalous; "
            f"move it into {NORMAL_TEST_FOLDER}/ or into a sub-folder named after its anomaly."
        )
    kinds = [path.relative_to(test_folder).parts[0] for path in test]
    return OneClassFiles(train, test, np.array([kind != NORMAL_TEST_FOLDER for kind in kinds], dtype=bool), kinds)


def _mask_files(
    folder: Path, files: OneClassFiles, masks_folder_name: str, fix: str
) -> list[Path | None] | None:
    """The mask file of each test file of a one-class folder, None for a normal image; None
    for all if the folder has no masks_folder_name/. That folder mirrors test/: the mask of
    test/<sub...>/<stem>.<ext> is masks/<sub...>/<stem> or <stem>_mask, as any image type."""
    test_folder, masks_folder = folder / "test", folder / masks_folder_name
    if not masks_folder.is_dir():
        return None
    listings: dict[Path, dict[tuple[str, str], Path]] = {}
    masks, missing = [], []
    for path, anomalous in zip(files.test, files.test_is_anomalous):
        if not anomalous:
            masks.append(None)
            continue
        mask_folder = masks_folder / path.relative_to(test_folder).parent
        if mask_folder not in listings:
            # Indexed by (stem, lower-case suffix), so that ".PNG" is found as ".png" is.
            listings[mask_folder] = {
                (file.stem, file.suffix.lower()): file
                for file in (mask_folder.iterdir() if mask_folder.is_dir() else ())
                if _is_image_file(file)
            }
        listing = listings[mask_folder]
        found = [listing[key] for key in _mask_names(path.stem) if key in listing]
        if len(found) > 1:
            raise DatasetError(
                f"{path} has {len(found)} masks ({', '.join(map(str, found))}); keep one of them."
            )
        masks.append(found[0] if found else None)
        if not found:
            missing.append(path)
    if missing:
        first = masks_folder / missing[0].relative_to(test_folder).parent / missing[0].stem
        raise DatasetError(
            f"{_count(missing, 'anomalous test image')} in {test_folder} "
            f"{'has' if len(missing) == 1 else 'have'} no mask in {masks_folder}: "
            f"{_first_files(missing, test_folder)}. For {missing[0]} these were looked for: "
            f"{first}.png or {first}_mask.png (either also as .jpg, .jpeg or .bmp). {fix}"
        )
    return masks


def _mask_names(stem: str) -> list[tuple[str, str]]:
    """The (stem, suffix) a mask of an image named stem may have."""
    return [
        (mask_stem, suffix)
        for mask_stem in (stem, f"{stem}_mask")
        for suffix in IMAGE_FILE_EXTENSIONS
    ]


def _read_masks(mask_paths: list[Path | None], image_size: int) -> np.ndarray:
    """uint8 0/1 masks (N, image_size, image_size), resized as the images are; zeros where the
    path is None (a normal image). Any unreadable mask stops the load."""
    import tensorflow as tf

    masks = np.zeros((len(mask_paths), image_size, image_size), np.uint8)
    present = [index for index, path in enumerate(mask_paths) if path is not None]
    if not present:
        return masks
    files = [mask_paths[index] for index in present]

    def decode(path: tf.Tensor) -> tuple[tf.Tensor]:
        gray = to_source_image(decode_image_bytes(tf.io.read_file(path)), image_size, image_size, 1)[..., 0]
        return (tf.cast(gray > MASK_THRESHOLD, tf.uint8),)

    (decoded,), readable = _decode_in_parallel(files, decode)
    if not readable.all():
        unreadable = [path for path, is_readable in zip(files, readable) if not is_readable]
        raise DatasetError(_unreadable_message(unreadable, len(files)))
    masks[present] = decoded
    return masks
