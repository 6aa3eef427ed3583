"""Where images come from: one loader per dataset, each returning raw uint8 NHWC arrays.

Scaling, resizing and one-class splitting happen later in the data pipeline; this module only
finds and reads the files. To add a dataset, write one `_load_<name>(data_dir, image_size)`
function and register it in `_LOADERS`.

Datasets whose files have arbitrary sizes (DEFAULT_IMAGE_SIZES) are resized here instead, to
image_size x image_size, so that they fit in memory: bilinear with antialiasing, aspect ratio not
preserved. Their files are decoded in parallel by tf.data. A colour image is one stored with 3 or
4 channels; if any image of a dataset has colour, every image gets 3 channels (grayscale repeated),
else 1. Alpha is dropped, not composited, so a transparent pixel keeps its stored colour.

Datasets whose anomalies are defects rather than other classes (mvtec, folder) set
ImageDataset.test_is_anomalous, and ImageDataset.test_masks when their defect masks are present.
Datasets read from image files record the file of each test image in ImageDataset.test_paths.

find_image_files and read_images read new images for prediction exactly as the loaders read
a dataset's files.

tensorflow, tensorflow_datasets and scikit-learn are imported inside the functions that need
them, so that importing this module stays fast.
"""

from __future__ import annotations

import glob
import gzip
import math
import os
import pickle
import struct
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, NamedTuple

import numpy as np


if TYPE_CHECKING:  # for annotations only; tensorflow is imported where it is used
    import tensorflow as tf


@dataclass(frozen=True)
class ImageDataset:
    """Raw train and test images (uint8, NHWC) with int64 labels; class_names[label] names it.

    test_is_anomalous is None when the anomalies of a class are the other classes; datasets
    whose anomalies are defects within a class (mvtec, folder) mark each test image instead.
    test_paths names the file of each test image, for datasets read from image files.
    test_masks, when the dataset ships defect masks, is uint8 (N_test, H, W) at x_test's size:
    1 on a defective pixel, all 0 for a normal image. test_kinds, for the datasets that mark
    defects, is the sub-folder of test/ each test image lies in: good or its anomaly type.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    test_is_anomalous: np.ndarray | None = None
    test_paths: tuple[str, ...] | None = None
    test_masks: np.ndarray | None = None
    test_kinds: tuple[str, ...] | None = None


class DatasetError(Exception):
    """A dataset could not be found or read; the message says what was looked for, where, and
    how to fix it."""


DIGIT_CLASS_NAMES = tuple(str(digit) for digit in range(10))

CIFAR10_CLASS_NAMES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
CIFAR10_FOLDER_NAME = "cifar-10-batches-py"
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{index}" for index in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"
CIFAR10_META_FILE = "batches.meta"
CIFAR10_IMAGE_SHAPE_CHW = (3, 32, 32)
CIFAR10_FIX = (
    "Download cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, "
    f"extract it, and pass --data_dir path/to/{CIFAR10_FOLDER_NAME}."
)

# Fashion-MNIST ships under the same four file names.
MNIST_TRAIN_IMAGES = "train-images-idx3-ubyte"
MNIST_TRAIN_LABELS = "train-labels-idx1-ubyte"
MNIST_TEST_IMAGES = "t10k-images-idx3-ubyte"
MNIST_TEST_LABELS = "t10k-labels-idx1-ubyte"
MNIST_FILES = (MNIST_TRAIN_IMAGES, MNIST_TRAIN_LABELS, MNIST_TEST_IMAGES, MNIST_TEST_LABELS)
MNIST_FIX = (
    "Put the four MNIST IDX files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (gzipped or not) in a folder "
    "and pass --data_dir FOLDER."
)
FASHION_MNIST_CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
FASHION_MNIST_FIX = (
    "Download the four Fashion-MNIST IDX files train-images-idx3-ubyte.gz, "
    "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from "
    "https://github.com/zalandoresearch/fashion-mnist, put them (gzipped or not) in a folder and "
    "pass --data_dir FOLDER."
)


class IdxDataset(NamedTuple):
    """A dataset shipped as four MNIST-style IDX files."""

    name: str  # also its tensorflow-datasets name
    title: str  # how messages spell it
    class_names: tuple[str, ...]
    offline_fix: str


MNIST_IDX = IdxDataset("mnist", "MNIST", DIGIT_CLASS_NAMES, MNIST_FIX)
FASHION_MNIST_IDX = IdxDataset(
    "fashion_mnist", "Fashion-MNIST", FASHION_MNIST_CLASS_NAMES, FASHION_MNIST_FIX
)

# IDX magic numbers: 0x08 says unsigned bytes, the last byte is the number of dimensions.
IDX_IMAGES_MAGIC = 0x00000803
IDX_LABELS_MAGIC = 0x00000801

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
NPZ_FIX = "Save it with numpy.savez(FILE, x_train=..., y_train=..., x_test=..., y_test=...)."

# Fixed and independent of any training seed, so the digits test set is identical in every run.
DIGITS_SPLIT_SEED = 0
DIGITS_TEST_FRACTION = 0.4
DIGITS_MAX_PIXEL = 16

# The sizes the papers train at: AD-CGAN uses 64x64 cats and dogs, DGAD 128x128 MVTec AD.
DEFAULT_IMAGE_SIZES = {"cats_vs_dogs": 64, "mvtec": 128, "folder": 32}
IMAGE_FILE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
DECODE_BATCH_SIZE = 256
MAX_FILES_NAMED = 5

CATS_VS_DOGS_CLASS_NAMES = ("cat", "dog")
CATS_VS_DOGS_FIX = (
    "Download the Microsoft Cats and Dogs dataset from "
    "https://www.microsoft.com/en-us/download/details.aspx?id=54765, extract it, and pass "
    "--data_dir path/to/PetImages, the folder holding Cat/ and Dog/."
)
# tfds ships cats_vs_dogs as a single train split. Fixed and independent of any training seed,
# so the test set is identical in every run; the offline folder is split the same way.
CATS_VS_DOGS_SPLIT_SEED = 0
CATS_VS_DOGS_TEST_FRACTION = 0.2

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
FOLDER_FIX = (
    "Arrange your images as FOLDER/train/ (normal images only, sub-folders allowed), "
    "FOLDER/test/good/ (normal test images) and FOLDER/test/<anomaly type>/ (anomalous test "
    "images), as PNG, JPEG or BMP files."
)
NORMAL_TEST_FOLDER = "good"
# Where each layout keeps its defect masks; the folder mirrors test/.
FOLDER_MASKS_FOLDER = "masks"
MVTEC_MASKS_FOLDER = "ground_truth"
FOLDER_MASKS_FIX = (
    "FOLDER/masks/ mirrors FOLDER/test/: the mask of test/<anomaly type>/<name>.png is "
    "masks/<anomaly type>/<name>.png or <name>_mask.png (PNG, JPEG or BMP, white on the defective "
    "pixels); images in test/good/ need none. Add the missing masks, or remove FOLDER/masks/ to "
    "load the images without masks."
)
MVTEC_MASKS_FIX = (
    "MVTec AD keeps the mask of <category>/test/<defect>/<name>.png in "
    "<category>/ground_truth/<defect>/<name>_mask.png; restore it from the download, or remove the "
    "category's ground_truth/ to load the images without masks."
)
# Masks are stored as 0 or 255; after resizing, a pixel above half is defective.
MASK_THRESHOLD = 127
GLOB_CHARACTERS = "*?["
IMAGE_SPEC_FIX = (
    "Give one PNG, JPEG or BMP file, a folder of them (searched at any depth), or a glob pattern "
    "such as 'photos/**/*.png' (quoted, so that the shell leaves it to this program)."
)


def load_dataset(
    name: str, data_dir: str | None = None, image_size: int | None = None
) -> ImageDataset:
    """Load the raw train and test images of dataset `name`, from local files in `data_dir`
    if given.

    image_size is used only by the datasets in DEFAULT_IMAGE_SIZES, whose files have arbitrary
    sizes: every image is resized to image_size x image_size (bilinear with antialiasing, aspect
    ratio not preserved); None means the dataset's default. Fixed-size datasets ignore it.
    """
    loader = _LOADERS.get(name)
    if loader is None:
        valid_names = ", ".join(DATASET_NAMES)
        raise DatasetError(f"Unknown dataset {name!r}. Choose one of: {valid_names}.")
    if image_size is None:
        image_size = DEFAULT_IMAGE_SIZES.get(name)
    elif image_size < 1:
        raise DatasetError(f"image_size must be a positive number of pixels, got {image_size}.")
    return loader(Path(data_dir).expanduser() if data_dir else None, image_size)


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


def find_image_files(spec: str) -> list[Path]:
    """The image files `spec` names: one file, every image under a folder (as the loaders find
    a dataset's images), or the sorted matches of a glob pattern ("**" spans folders)."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return _find_images(path, "the images to score", IMAGE_SPEC_FIX)
    if path.is_file():
        if path.suffix.lower() not in IMAGE_FILE_EXTENSIONS:
            raise DatasetError(f"{path} is not a PNG, JPEG or BMP file. {IMAGE_SPEC_FIX}")
        return [path]
    if not any(character in spec for character in GLOB_CHARACTERS):
        raise DatasetError(f"{path} does not exist. {IMAGE_SPEC_FIX}")
    matches = [Path(match) for match in sorted(glob.glob(str(path), recursive=True))]
    images = [match for match in matches if _is_image_file(match)]
    others = [match for match in matches if match.is_file() and not _is_image_file(match)]
    if not images:
        found = f" (only {_count(others, 'other file')}: {_first_files(others)})" if others else ""
        raise DatasetError(f"No PNG, JPEG or BMP file matches {spec}{found}. {IMAGE_SPEC_FIX}")
    if others:
        print(
            f"note: skipped {_count(others, 'file')} matching {spec} that "
            f"{_not_images_phrase(others)} ({_first_files(others)})"
        )
    return images


def read_images(
    paths: list[Path], height: int, width: int, channels: int
) -> tuple[np.ndarray, np.ndarray]:
    """Decode and resize image files as the loaders do: uint8 (N, height, width, channels) images
    and each file's own (height, width), int64 (N, 2).

    Alpha is dropped. channels 3 repeats a grayscale image; channels 1 keeps a grayscale image
    and turns a colour one into its luminance (tf.image.rgb_to_grayscale). For files whose channel
    count matches, the pixels are those the dataset loaders give.
    """
    import tensorflow as tf

    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels}")
    if not paths:
        return np.zeros((0, height, width, channels), np.uint8), np.zeros((0, 2), np.int64)

    def decode(path: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image = _decode_image(path)
        return _resize(_with_channels(image, channels), height, width), tf.shape(image)[:2]

    (images, sizes), readable = _decode_in_parallel(paths, decode)
    if not readable.all():
        unreadable = [path for path, is_readable in zip(paths, readable) if not is_readable]
        raise DatasetError(_unreadable_message(unreadable, len(paths)))
    return images, sizes.astype(np.int64)


def _load_cifar10(data_dir: Path | None, image_size: int | None) -> ImageDataset:
    if data_dir is None:
        return _load_with_tfds("cifar10", CIFAR10_CLASS_NAMES, CIFAR10_FIX)
    folder = _cifar10_folder(data_dir)
    _require_folder(folder, "CIFAR-10", CIFAR10_FIX)
    needed = (*CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE)
    missing = [name for name in needed if not (folder / name).is_file()]
    if missing:
        raise DatasetError(
            f"CIFAR-10 files missing from {folder}: {', '.join(missing)}. {CIFAR10_FIX}"
        )
    train_batches = [_read_cifar10_batch(folder / name) for name in CIFAR10_TRAIN_FILES]
    x_train = np.concatenate([images for images, _ in train_batches])
    y_train = np.concatenate([labels for _, labels in train_batches])
    x_test, y_test = _read_cifar10_batch(folder / CIFAR10_TEST_FILE)
    class_names = _cifar10_class_names(folder)
    return ImageDataset("cifar10", x_train, y_train, x_test, y_test, class_names)


def _load_mnist(data_dir: Path | None, image_size: int | None) -> ImageDataset:
    return _load_idx_dataset(MNIST_IDX, data_dir)


def _load_fashion_mnist(data_dir: Path | None, image_size: int | None) -> ImageDataset:
    return _load_idx_dataset(FASHION_MNIST_IDX, data_dir)


def _load_idx_dataset(idx_dataset: IdxDataset, data_dir: Path | None) -> ImageDataset:
    if data_dir is None:
        return _load_with_tfds(
            idx_dataset.name, idx_dataset.class_names, idx_dataset.offline_fix
        )
    paths = _find_idx_files(data_dir, idx_dataset)
    x_train, y_train = _read_idx_split(
        paths[MNIST_TRAIN_IMAGES], paths[MNIST_TRAIN_LABELS], idx_dataset
    )
    x_test, y_test = _read_idx_split(
        paths[MNIST_TEST_IMAGES], paths[MNIST_TEST_LABELS], idx_dataset
    )
    return ImageDataset(idx_dataset.name, x_train, y_train, x_test, y_test, idx_dataset.class_names)


def _load_cats_vs_dogs(data_dir: Path | None, image_size: int) -> ImageDataset:
    """Labels 0 cat, 1 dog, as in tfds; split CATS_VS_DOGS_TEST_FRACTION per class into test."""
    from sklearn.model_selection import train_test_split

    if data_dir is None:
        with _explain_tfds_failure("cats_vs_dogs", CATS_VS_DOGS_FIX):
            images, labels = _download_cats_vs_dogs_with_tfds(image_size)
        paths = None
    else:
        images, labels, paths = _read_pet_images(data_dir, image_size)
    train_indices, test_indices = train_test_split(
        np.arange(len(labels)),
        test_size=CATS_VS_DOGS_TEST_FRACTION,
        stratify=labels,
        random_state=CATS_VS_DOGS_SPLIT_SEED,
    )
    return ImageDataset(
        "cats_vs_dogs",
        images[train_indices],
        labels[train_indices],
        images[test_indices],
        labels[test_indices],
        CATS_VS_DOGS_CLASS_NAMES,
        test_paths=None if paths is None else tuple(str(paths[index]) for index in test_indices),
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


def _load_npz(data_dir: Path | None, image_size: int | None) -> ImageDataset:
    if data_dir is None:
        raise DatasetError(
            "--dataset npz needs --data_dir FILE.npz: "
            "a file holding arrays x_train, y_train, x_test, y_test."
        )
    arrays = _read_npz(data_dir)
    x_train, y_train = _check_npz_split(arrays, "train", data_dir)
    x_test, y_test = _check_npz_split(arrays, "test", data_dir)
    if x_train.shape[-1] != x_test.shape[-1]:
        raise DatasetError(
            f"{data_dir}: x_train has {x_train.shape[-1]} channel(s) but x_test has {x_test.shape[-1]}; "
            "convert both to grayscale or both to RGB."
        )
    all_labels = np.concatenate([y_train, y_test])
    num_classes = int(all_labels.max()) + 1 if all_labels.size else 0
    class_names = tuple(str(label) for label in range(num_classes))
    return ImageDataset("npz", x_train, y_train, x_test, y_test, class_names)


def _load_digits(data_dir: Path | None, image_size: int | None) -> ImageDataset:
    """scikit-learn's bundled 8x8 digits: needs no download; data_dir is ignored."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = np.round(digits.images * 255 / DIGITS_MAX_PIXEL).astype(np.uint8)[..., np.newaxis]
    labels = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        images,
        labels,
        test_size=DIGITS_TEST_FRACTION,
        stratify=labels,
        random_state=DIGITS_SPLIT_SEED,
    )
    return ImageDataset("digits", x_train, y_train, x_test, y_test, DIGIT_CLASS_NAMES)


_LOADERS: dict[str, Callable[[Path | None, int | None], ImageDataset]] = {
    "cifar10": _load_cifar10,
    "mnist": _load_mnist,
    "digits": _load_digits,
    "npz": _load_npz,
    "fashion_mnist": _load_fashion_mnist,
    "cats_vs_dogs": _load_cats_vs_dogs,
    "mvtec": _load_mvtec,
    "folder": _load_folder,
}
DATASET_NAMES: tuple[str, ...] = tuple(_LOADERS)
# The datasets that read no local files, so that a --data_dir for them can be refused.
DATASETS_WITHOUT_FILES = ("digits",)


def _download_with_tfds(
    tfds_name: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Download (or reuse the cached copy of) a dataset's train and test splits through
    tensorflow-datasets."""
    import tensorflow_datasets as tfds

    splits = tfds.load(tfds_name, split=["train", "test"], batch_size=-1, as_supervised=True)
    (x_train, y_train), (x_test, y_test) = tfds.as_numpy(splits)
    return x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64)


def _download_cats_vs_dogs_with_tfds(image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """All of tfds's cats_vs_dogs (its only split, "train"), resized as it streams in."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    pairs = tfds.load("cats_vs_dogs", split="train", as_supervised=True)
    resized = pairs.map(
        lambda image, label: (_resize(image, image_size, image_size), label),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    batches = list(resized.batch(DECODE_BATCH_SIZE).as_numpy_iterator())
    images = np.concatenate([images for images, _ in batches])
    labels = np.concatenate([labels for _, labels in batches]).astype(np.int64)
    return images, labels


def _load_with_tfds(
    tfds_name: str, class_names: tuple[str, ...], offline_fix: str
) -> ImageDataset:
    with _explain_tfds_failure(tfds_name, offline_fix):
        x_train, y_train, x_test, y_test = _download_with_tfds(tfds_name)
    return ImageDataset(tfds_name, x_train, y_train, x_test, y_test, class_names)


@contextmanager
def _explain_tfds_failure(tfds_name: str, offline_fix: str) -> Iterator[None]:
    try:
        yield
    except Exception as error:  # tfds reports network, disk and install problems as many types
        raise DatasetError(
            f"Downloading {tfds_name} through tensorflow-datasets failed ({_one_line(error)}). "
            f"To work offline: {offline_fix}"
        ) from error


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def _require_folder(folder: Path, dataset: str, fix: str) -> None:
    if not folder.is_dir():
        raise DatasetError(f"{dataset} folder {folder} does not exist or is not a folder. {fix}")


def _cifar10_folder(data_dir: Path) -> Path:
    """Accept either the extracted cifar-10-batches-py folder or the folder that contains it."""
    nested = data_dir / CIFAR10_FOLDER_NAME
    if not (data_dir / CIFAR10_TEST_FILE).exists() and nested.is_dir():
        return nested
    return data_dir


def _unpickle_cifar10(path: Path) -> object:
    try:
        with open(path, "rb") as file:
            # The official pickles were written by Python 2; "bytes" keeps their keys as bytes.
            return pickle.load(file, encoding="bytes")
    except Exception as error:  # unpickling a damaged file can fail with almost any type
        raise DatasetError(
            f"Could not read {path} as a CIFAR-10 python pickle ({_one_line(error)}). "
            f"{CIFAR10_FIX}"
        ) from error


def _read_cifar10_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch file -> (N, 32, 32, 3) uint8 images and (N,) int64 labels."""
    batch = _unpickle_cifar10(path)
    row_length = math.prod(CIFAR10_IMAGE_SHAPE_CHW)
    try:
        pixels = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (TypeError, KeyError, IndexError, ValueError, OverflowError) as error:
        raise DatasetError(
            f"{path} is not a CIFAR-10 batch: expected a dict with b'data' and b'labels' "
            f"({_one_line(error)}). {CIFAR10_FIX}"
        ) from error
    if pixels.ndim != 2 or pixels.shape[1] != row_length or labels.shape != (len(pixels),):
        raise DatasetError(
            f"{path} is not a CIFAR-10 batch: b'data' has shape {pixels.shape} "
            f"(expected (N, {row_length})) and b'labels' has shape {labels.shape} "
            f"(expected (N,)). {CIFAR10_FIX}"
        )
    # Each row stores the whole R plane, then G, then B; move channels last.
    images = pixels.reshape(-1, *CIFAR10_IMAGE_SHAPE_CHW).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def _cifar10_class_names(folder: Path) -> tuple[str, ...]:
    meta_path = folder / CIFAR10_META_FILE
    if not meta_path.is_file():
        return CIFAR10_CLASS_NAMES
    meta = _unpickle_cifar10(meta_path)
    names = meta.get(b"label_names") if isinstance(meta, dict) else None
    if not isinstance(names, list) or not all(isinstance(name, bytes) for name in names):
        raise DatasetError(
            f"{meta_path} has no list of b'label_names'; delete it or re-extract it. "
            f"{CIFAR10_FIX}"
        )
    return tuple(name.decode("utf-8", errors="replace") for name in names)


def _find_idx_files(folder: Path, idx_dataset: IdxDataset) -> dict[str, Path]:
    """Map each canonical IDX file name to the file present: gzipped or raw, and spelled
    with a dash or a dot before "idx"."""
    _require_folder(folder, idx_dataset.title, idx_dataset.offline_fix)
    found, missing = {}, []
    for name in MNIST_FILES:
        dotted = name.replace("-idx", ".idx")
        spellings = (name, f"{name}.gz", dotted, f"{dotted}.gz")
        present = [folder / spelling for spelling in spellings if (folder / spelling).is_file()]
        if present:
            found[name] = present[0]
        else:
            missing.append(name)
    if missing:
        raise DatasetError(
            f"{idx_dataset.title} files missing from {folder}: {', '.join(missing)} "
            f"(.gz or not). {idx_dataset.offline_fix}"
        )
    return found


def _read_idx_split(
    images_path: Path, labels_path: Path, idx_dataset: IdxDataset
) -> tuple[np.ndarray, np.ndarray]:
    images = _read_idx(images_path, IDX_IMAGES_MAGIC, idx_dataset)[..., np.newaxis]
    labels = _read_idx(labels_path, IDX_LABELS_MAGIC, idx_dataset).astype(np.int64)
    if len(images) != len(labels):
        raise DatasetError(
            f"{images_path} holds {len(images)} images but {labels_path} holds "
            f"{len(labels)} labels; the files do not belong together. {idx_dataset.offline_fix}"
        )
    return images, labels


def _read_idx(path: Path, expected_magic: int, idx_dataset: IdxDataset) -> np.ndarray:
    """Parse an IDX file of unsigned bytes: big-endian magic, one uint32 per dimension, data."""
    fix = idx_dataset.offline_fix
    raw = _read_maybe_gzipped(path, fix)
    if len(raw) < 4:
        raise DatasetError(
            f"{path} is truncated: it holds {len(raw)} bytes, too few for an IDX header. "
            f"{fix}"
        )
    (magic,) = struct.unpack(">I", raw[:4])
    if magic != expected_magic:
        raise DatasetError(
            f"{path} has IDX magic number 0x{magic:08x}, expected 0x{expected_magic:08x}; "
            f"it is not the right {idx_dataset.title} file or it is corrupt. {fix}"
        )
    num_dims = magic & 0xFF
    header_length = 4 + 4 * num_dims
    if len(raw) < header_length:
        raise DatasetError(f"{path} is truncated: its IDX header is incomplete. {fix}")
    shape = struct.unpack(f">{num_dims}I", raw[4:header_length])
    promised_length, data_length = math.prod(shape), len(raw) - header_length
    if data_length != promised_length:
        problem = "truncated" if data_length < promised_length else "corrupt"
        raise DatasetError(
            f"{path} is {problem}: its header promises {promised_length} bytes for shape "
            f"{shape} but the file holds {data_length}. {fix}"
        )
    # Copy because frombuffer over bytes gives a read-only array.
    return np.frombuffer(raw, dtype=np.uint8, offset=header_length).reshape(shape).copy()


def _read_maybe_gzipped(path: Path, fix: str) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as file:
                return file.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as error:
        raise DatasetError(
            f"Could not read {path} ({_one_line(error)}); the file is damaged. {fix}"
        ) from error


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """Read the NPZ_KEYS arrays from an .npz file."""
    if not path.is_file():
        raise DatasetError(
            f"npz file {path} does not exist. Pass --data_dir pointing at an existing .npz file."
        )
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise DatasetError(
            f"{path} is not a valid .npz file ({_one_line(error)}). {NPZ_FIX}"
        ) from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DatasetError(f"{path} holds a single .npy array, not an .npz archive. {NPZ_FIX}")
    with archive:
        missing = [key for key in NPZ_KEYS if key not in archive.files]
        if missing:
            present = ", ".join(archive.files) or "none"
            raise DatasetError(
                f"{path} has no {', '.join(missing)}; keys present: {present}. {NPZ_FIX}"
            )
        try:
            return {key: archive[key] for key in NPZ_KEYS}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
            raise DatasetError(
                f"Could not read the arrays in {path} ({_one_line(error)}). {NPZ_FIX}"
            ) from error


def _check_npz_split(
    arrays: dict[str, np.ndarray], split: str, path: Path
) -> tuple[np.ndarray, np.ndarray]:
    """Validate one split's images and labels; return NHWC uint8 images and int64 labels."""
    images_key, labels_key = f"x_{split}", f"y_{split}"
    images, labels = arrays[images_key], arrays[labels_key]
    where = f"{images_key} in {path}"
    if images.dtype != np.uint8:
        raise DatasetError(
            f"{where} has dtype {images.dtype}; "
            "convert the images to uint8 (values 0-255) before saving."
        )
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise DatasetError(
            f"{where} has shape {arrays[images_key].shape}; "
            "expected (N, H, W) or (N, H, W, C) with C = 1 or 3."
        )
    where = f"{labels_key} in {path}"
    if not np.issubdtype(labels.dtype, np.integer):
        raise DatasetError(
            f"{where} has dtype {labels.dtype}; labels must be integers 0, 1, 2, ..."
        )
    if labels.shape != (len(images),):
        raise DatasetError(
            f"{where} has shape {labels.shape}; "
            f"expected ({len(images)},), one label per image in {images_key}."
        )
    if labels.size and labels.min() < 0:
        raise DatasetError(
            f"{where} contains the negative label {labels.min()}; labels must be 0 or more."
        )
    return images, labels.astype(np.int64)


def _read_pet_images(
    folder: Path, image_size: int
) -> tuple[np.ndarray, np.ndarray, list[Path]]:
    """The images, labels and files of the Microsoft PetImages folder: its few corrupt JPEGs are
    expected, so they are skipped with a warning instead of stopping the load."""
    _require_folder(folder, "cats_vs_dogs", CATS_VS_DOGS_FIX)
    paths, labels = [], []
    for label, class_name in enumerate(CATS_VS_DOGS_CLASS_NAMES):
        class_paths = _find_images(
            _pet_images_class_folder(folder, class_name),
            f"the {class_name} images",
            CATS_VS_DOGS_FIX,
        )
        paths += class_paths
        labels += [label] * len(class_paths)
    images, readable = _decode_image_files(paths, image_size)
    unreadable = [path for path, is_readable in zip(paths, readable) if not is_readable]
    if unreadable:
        print(
            f"warning: skipped {len(unreadable)} of {len(paths)} cats_vs_dogs images that "
            f"could not be read: {_first_files(unreadable, relative_to=folder)}"
        )
    readable_paths = [path for path, is_readable in zip(paths, readable) if is_readable]
    return images, np.array(labels, dtype=np.int64)[readable], readable_paths


def _pet_images_class_folder(folder: Path, class_name: str) -> Path:
    """PetImages spells its folders Cat/ and Dog/; accept lower case too."""
    for spelling in (class_name, class_name.capitalize()):
        if (folder / spelling).is_dir():
            return folder / spelling
    raise DatasetError(
        f"cats_vs_dogs folder {folder} has no {class_name}/ (or {class_name.capitalize()}/) "
        f"sub-folder. {CATS_VS_DOGS_FIX}"
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


def _find_images(folder: Path, what_belongs_there: str, fix: str) -> list[Path]:
    """The PNG, JPEG and BMP files under folder at any depth, sorted so that every machine
    sees the same order. Hidden files and folders are skipped: macOS leaves "._name.png"
    metadata files beside copied images. Symlinked files and folders are followed; a folder
    reached a second time (a symlink loop, or two links to one folder) is read once, with a
    note. Other files are counted in a note, so that nothing is left out without a word."""
    if not folder.is_dir():
        raise DatasetError(
            f"{folder} does not exist; it should hold {what_belongs_there}. {fix}"
        )
    images, others, revisited, seen = [], [], [], set()
    for root, folders, files in os.walk(folder, followlinks=True, onerror=_refuse_unreadable):
        real_root = os.path.realpath(root)
        if real_root in seen:
            revisited.append(Path(root))
            folders.clear()
            continue
        seen.add(real_root)
        # Sorted, so that which of two paths to one folder is read does not depend on the machine.
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        for name in files:
            if name.startswith("."):
                continue
            path = Path(root, name)
            if not path.exists():
                raise DatasetError(
                    f"{path} is a broken symbolic link (to {os.readlink(path)}, which does not "
                    "exist); remove it or point it at an existing file or folder."
                )
            (images if _is_image_file(path) else others).append(path)
    others.sort()
    if not images:
        found = f" (only {_count(others, 'other file')}: {_first_files(others, folder)})" if others else ""
        raise DatasetError(
            f"{folder} holds no PNG, JPEG or BMP images{found}; it should hold "
            f"{what_belongs_there}. {fix}"
        )
    if others:
        print(
            f"note: skipped {_count(others, 'file')} in {folder} that {_not_images_phrase(others)} "
            f"({_first_files(others, folder)})"
        )
    if revisited:
        print(
            f"note: {folder} reaches {_count(revisited, 'folder')} a second time through a symlink "
            f"(a loop or a second link); their images are read once: {_first_files(revisited, folder)}"
        )
    return sorted(images)


def _is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_FILE_EXTENSIONS and path.is_file()


def _not_images_phrase(others: list[Path]) -> str:
    return "is not a PNG, JPEG or BMP image" if len(others) == 1 else "are not PNG, JPEG or BMP images"


def _refuse_unreadable(error: OSError):
    """os.walk would skip a folder it cannot list without a word."""
    raise DatasetError(
        f"cannot read {error.filename} ({error.strerror}); give yourself read permission on it "
        "or move it out of the dataset."
    ) from error


def _count(items: list, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _decode_train_and_test(
    train_paths: list[Path], test_paths: list[Path], image_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Decode both splits in one pass, so that they share one channel count; any unreadable
    file stops the load, because dropping it would silently change the test set."""
    paths = train_paths + test_paths
    images, readable = _decode_image_files(paths, image_size)
    if not readable.all():
        unreadable = [path for path, is_readable in zip(paths, readable) if not is_readable]
        raise DatasetError(_unreadable_message(unreadable, len(paths)))
    return images[: len(train_paths)], images[len(train_paths):]


def _decode_image_files(paths: list[Path], image_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Decode and resize image files in parallel. Returns the images of the readable files in
    the order of `paths`, and a bool mask of which paths were readable."""
    import tensorflow as tf

    def decode(path: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image = _decode_image(path)
        rgb = _with_channels(image, 3)
        return _resize(rgb, image_size, image_size), tf.shape(image)[-1] >= 3

    (images, colour_flags), readable = _decode_in_parallel(paths, decode)
    return (images if colour_flags.any() else images[..., :1]), readable


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
        gray = _resize(_with_channels(_decode_image(path), 1), image_size, image_size)[..., 0]
        return (tf.cast(gray > MASK_THRESHOLD, tf.uint8),)

    (decoded,), readable = _decode_in_parallel(files, decode)
    if not readable.all():
        unreadable = [path for path, is_readable in zip(files, readable) if not is_readable]
        raise DatasetError(_unreadable_message(unreadable, len(files)))
    masks[present] = decoded
    return masks


def _decode_in_parallel(
    paths: list[Path], decode: Callable[[tf.Tensor], tuple[tf.Tensor, ...]]
) -> tuple[list[np.ndarray], np.ndarray]:
    """Map decode(path) -> tensors over the files with tf.data, in parallel. Returns each output
    stacked over the readable files in the order of `paths`, and a bool mask of which paths were
    readable."""
    import tensorflow as tf

    def decode_with_index(index, path):
        return (index, *decode(path))

    decoded = (
        tf.data.Dataset.from_tensor_slices((tf.range(len(paths)), [str(path) for path in paths]))
        .map(
            decode_with_index,
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        # A file that fails to decode is dropped here; its index is missing from the output.
        .ignore_errors()
        .batch(DECODE_BATCH_SIZE)
    )
    batches = list(decoded.as_numpy_iterator())
    if not batches:
        raise DatasetError(_unreadable_message(paths, len(paths)))
    readable = np.zeros(len(paths), dtype=bool)
    readable[np.concatenate([batch[0] for batch in batches])] = True
    outputs = [np.concatenate([batch[k] for batch in batches]) for k in range(1, len(batches[0]))]
    return outputs, readable


def _decode_image(path: tf.Tensor) -> tf.Tensor:
    """The file's pixels as stored: uint8 HWC with 1 (gray), 2 (gray, alpha), 3 (RGB) or 4 (RGBA)
    channels; palette images come out as RGB(A)."""
    import tensorflow as tf

    return tf.io.decode_image(tf.io.read_file(path), expand_animations=False)


def _with_channels(image: tf.Tensor, channels: int) -> tf.Tensor:
    """A decoded image without alpha, with 3 channels (grayscale repeated) or 1 (colour turned
    into its luminance)."""
    import tensorflow as tf

    has_colour = tf.shape(image)[-1] >= 3
    if channels == 3:
        return tf.cond(
            has_colour, lambda: image[..., :3], lambda: tf.tile(image[..., :1], [1, 1, 3])
        )
    return tf.cond(
        has_colour, lambda: tf.image.rgb_to_grayscale(image[..., :3]), lambda: image[..., :1]
    )


def _resize(image: tf.Tensor, height: int, width: int) -> tf.Tensor:
    """uint8 HWC image -> uint8 height x width x C, bilinear with antialiasing, ignoring the
    aspect ratio."""
    import tensorflow as tf

    resized = tf.image.resize(image, (height, width), antialias=True)
    return tf.saturate_cast(tf.round(resized), tf.uint8)


def _unreadable_message(unreadable: list[Path], total: int) -> str:
    return (
        f"{len(unreadable)} of {total} image files could not be read as PNG, JPEG or BMP "
        f"(corrupt, truncated or not an image): {_first_files(unreadable)}. "
        "Remove or replace them."
    )


def _first_files(paths: list[Path], relative_to: Path | None = None) -> str:
    shown = [str(path.relative_to(relative_to) if relative_to else path) for path in paths]
    more = ", ..." if len(paths) > MAX_FILES_NAMED else ""
    return ", ".join(shown[:MAX_FILES_NAMED]) + more
