"""Image folders with exactly known defect masks, made offline from scikit-learn's two sample photos
(china.jpg, flower.jpg, 427x640 RGB), and odd image files in every mode the loaders decode.

Plain functions, so that conftest.py can wrap them in fixtures and a test can call them directly.
"""

import functools
from pathlib import Path

import numpy as np
from PIL import Image

LAYOUTS = ("folder", "mvtec")
MVTEC_CATEGORY = "photo"
DEFECT_FOLDER = "patch"
# The side of a pasted patch, as a fraction of the tile: 8 to 14 pixels of a 32-pixel tile.
PATCH_SIDE_FRACTIONS = (1 / 4, 7 / 16)
# (width, height) of the odd files, all different, so that a mix-up of sizes shows.
ODD_IMAGE_SIZES = {
    "gray": (53, 37), "gray_alpha": (41, 29), "rgba": (37, 53),
    "palette": (45, 31), "jpeg": (39, 47), "bmp": (33, 51),
}


@functools.lru_cache(maxsize=1)
def sample_photos() -> tuple[np.ndarray, np.ndarray]:
    """(china, flower): scikit-learn's bundled sample photos, uint8 (427, 640, 3); read-only."""
    from sklearn.datasets import load_sample_images

    photos = load_sample_images()
    by_name = {Path(name).name: image for name, image in zip(photos.filenames, photos.images)}
    china, flower = by_name["china.jpg"], by_name["flower.jpg"]
    china.flags.writeable = flower.flags.writeable = False
    return china, flower


def make_photo_folder(root, tile=32, train=48, test_good=12, test_defect=12, masks=True, seed=0,
                      layout="folder", all_normal=False) -> dict:
    """Write a one-class image folder of tile x tile PNGs cut from china.jpg, each from its own grid cell
    (so train and test tiles are disjoint); a defect is a test tile with a seeded rectangle pasted from
    flower.jpg, and its mask (white on black) is exactly that rectangle.

    layout "folder": root/train/, root/test/good/, root/test/patch/ and root/masks/patch/<stem>.png;
    layout "mvtec": root/photo/{train/good, test/good, test/patch, ground_truth/patch/<stem>_mask.png}.
    masks=False writes no mask folder; all_normal=True no defects (and, with masks, an empty mask folder).

    Returns data_dir (to load), category (the mvtec category folder or None), train_files, test_files
    (in the order the loader reads them: good, then patch), test_is_anomalous, defect_files, mask_files,
    rectangles ((top, left, height, width) per defect), test_masks (uint8 0/1 (N_test, tile, tile), the exact
    masks of test_files) and counts.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    china, flower = sample_photos()
    rng = np.random.default_rng(seed)
    defect_count = 0 if all_normal else test_defect
    tiles = _disjoint_tiles(china, tile, train + test_good + defect_count, rng)
    root = Path(root)
    if layout == "mvtec":
        category = root / MVTEC_CATEGORY
        train_folder, mask_folder, mask_suffix = category / "train" / "good", category / "ground_truth", "_mask"
    else:
        category = root
        train_folder, mask_folder, mask_suffix = root / "train", root / "masks", ""
    test_folder = category / "test"

    train_files = [_save(tile_image, train_folder / f"{index:03d}.png")
                   for index, tile_image in enumerate(tiles[:train])]
    good_files = [_save(tile_image, test_folder / "good" / f"{index:03d}.png")
                  for index, tile_image in enumerate(tiles[train:train + test_good])]
    defect_files, mask_files, rectangles = [], [], []
    for index, tile_image in enumerate(tiles[train + test_good:]):
        defective, rectangle = _paste_patch(tile_image, flower, rng)
        defect_files.append(_save(defective, test_folder / DEFECT_FOLDER / f"{index:03d}.png"))
        rectangles.append(rectangle)
        if masks:
            mask_path = mask_folder / DEFECT_FOLDER / f"{index:03d}{mask_suffix}.png"
            mask_files.append(_save(_rectangle_mask(rectangle, tile) * 255, mask_path))
    if masks:
        mask_folder.mkdir(parents=True, exist_ok=True)

    test_masks = np.zeros((len(good_files) + len(defect_files), tile, tile), np.uint8)
    for index, rectangle in enumerate(rectangles):
        test_masks[len(good_files) + index] = _rectangle_mask(rectangle, tile)
    return {
        "data_dir": root,
        "category": category if layout == "mvtec" else None,
        "train_files": train_files,
        "test_files": good_files + defect_files,
        "test_is_anomalous": [False] * len(good_files) + [True] * len(defect_files),
        "defect_files": defect_files,
        "mask_files": mask_files,
        "rectangles": rectangles,
        "test_masks": test_masks,
        "counts": {"train": len(train_files), "test_good": len(good_files), "test_defect": len(defect_files)},
    }


def make_odd_images(root) -> dict[str, Path]:
    """Write one file per mode the loaders decode, each of its own odd size (ODD_IMAGE_SIZES) and cut from
    china.jpg: gray.png (L), gray_alpha.png (LA), rgba.png (RGBA), palette.png (P), jpeg.jpg and bmp.bmp (RGB).
    Returns {kind: path}."""
    china, _ = sample_photos()
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    paths = {}
    for offset, (kind, (width, height)) in enumerate(ODD_IMAGE_SIZES.items()):
        rgb = Image.fromarray(china[20 * offset:20 * offset + height, 30 * offset:30 * offset + width])
        # A varying alpha, so that a reader compositing it instead of dropping it would differ.
        alpha = Image.fromarray(np.linspace(0, 255, width * height).reshape(height, width).astype(np.uint8))
        if kind == "gray":
            image, name = rgb.convert("L"), "gray.png"
        elif kind == "gray_alpha":
            image, name = Image.merge("LA", (rgb.convert("L"), alpha)), "gray_alpha.png"
        elif kind == "rgba":
            image, name = Image.merge("RGBA", (*rgb.split(), alpha)), "rgba.png"
        elif kind == "palette":
            image, name = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=64), "palette.png"
        elif kind == "jpeg":
            image, name = rgb, "jpeg.jpg"
        else:
            image, name = rgb, "bmp.bmp"
        image.save(root / name)
        paths[kind] = root / name
    return paths


def _disjoint_tiles(photo: np.ndarray, tile: int, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    rows, columns = photo.shape[0] // tile, photo.shape[1] // tile
    if count > rows * columns:
        raise ValueError(f"a {photo.shape[0]}x{photo.shape[1]} photo has only {rows * columns} tiles of "
                         f"{tile} pixels, {count} asked for; use a smaller tile or fewer images")
    cells = [divmod(int(cell), columns) for cell in rng.permutation(rows * columns)[:count]]
    return [photo[row * tile:(row + 1) * tile, column * tile:(column + 1) * tile] for row, column in cells]


def _paste_patch(tile_image: np.ndarray, source: np.ndarray, rng: np.random.Generator):
    """The tile with a seeded rectangle of `source` pasted in, and that rectangle (top, left, height, width)."""
    tile = tile_image.shape[0]
    smallest, largest = (max(1, round(tile * fraction)) for fraction in PATCH_SIDE_FRACTIONS)
    height, width = (int(side) for side in rng.integers(smallest, largest + 1, size=2))
    top, left = int(rng.integers(0, tile - height + 1)), int(rng.integers(0, tile - width + 1))
    source_top = int(rng.integers(0, source.shape[0] - height + 1))
    source_left = int(rng.integers(0, source.shape[1] - width + 1))
    defective = tile_image.copy()
    defective[top:top + height, left:left + width] = source[source_top:source_top + height,
                                                            source_left:source_left + width]
    return defective, (top, left, height, width)


def _rectangle_mask(rectangle: tuple[int, int, int, int], tile: int) -> np.ndarray:
    top, left, height, width = rectangle
    mask = np.zeros((tile, tile), np.uint8)
    mask[top:top + height, left:left + width] = 1
    return mask


def _save(pixels: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(pixels)).save(path)
    return path
