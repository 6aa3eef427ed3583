"""The datasets by --dataset name: DATASET_NAMES, the loader of each, the default image size of those
whose files have arbitrary sizes, and load_dataset, which every program loads a dataset through."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .cats_vs_dogs import _load_cats_vs_dogs
from .cifar10 import _load_cifar10
from .dataset import DatasetError, ImageDataset
from .digits import _load_digits
from .folder import _load_folder
from .mnist import _load_fashion_mnist, _load_mnist
from .mvtec import _load_mvtec
from .npz import _load_npz

# The sizes the papers train at: AD-CGAN uses 64x64 cats and dogs, DGAD 128x128 MVTec AD.
DEFAULT_IMAGE_SIZES = {"cats_vs_dogs": 64, "mvtec": 128, "folder": 32}


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
