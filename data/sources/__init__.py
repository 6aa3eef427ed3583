"""Where images come from: one loader per dataset, each returning raw uint8 NHWC arrays.

Scaling, resizing and one-class splitting happen later in the data pipeline; this package only
finds and reads the files. Each dataset has its module: cifar10, mnist (MNIST and Fashion-MNIST),
cats_vs_dogs, mvtec, folder, npz and digits. They share dataset (ImageDataset, DatasetError),
downloads (tensorflow-datasets), image_files (finding and decoding image files) and
one_class_folders (the train/ and test/ layout of mvtec and folder); registry names them. To add a
dataset, write its module with one `_load_<name>(data_dir, image_size)` function and register it
in registry._LOADERS.

Datasets whose files have arbitrary sizes (registry.DEFAULT_IMAGE_SIZES) are resized here
instead, to image_size x image_size, so that they fit in memory: bilinear with antialiasing, aspect
ratio not preserved. Their files are decoded in parallel by tf.data. A colour image is one stored
with 3 or 4 channels; if any image of a dataset has colour, every image gets 3 channels (grayscale
repeated), else 1. Alpha is dropped, not composited, so a transparent pixel keeps its stored colour.

Datasets whose anomalies are defects rather than other classes (mvtec, folder) set
ImageDataset.test_is_anomalous, and ImageDataset.test_masks when their defect masks are present.
Datasets read from image files record the file of each test image in ImageDataset.test_paths.

find_image_files and read_images read new images for prediction exactly as the loaders read
a dataset's files; decode_image_bytes and to_source_image are their decoding and resizing, which an
exported model's graph repeats on encoded files.

tensorflow, tensorflow_datasets and scikit-learn are imported inside the functions that need
them, so that importing this package stays fast. The names the rest of the program imports are
re-exported here, so that it imports them from data.sources.
"""

from .dataset import DatasetError, ImageDataset
from .image_files import decode_image_bytes, find_image_files, read_images, to_source_image
from .mvtec import MVTEC_CATEGORIES, mvtec_category_index
from .registry import DATASET_NAMES, DATASETS_WITHOUT_FILES, load_dataset

__all__ = [
    "DATASET_NAMES",
    "DATASETS_WITHOUT_FILES",
    "MVTEC_CATEGORIES",
    "DatasetError",
    "ImageDataset",
    "decode_image_bytes",
    "find_image_files",
    "load_dataset",
    "mvtec_category_index",
    "read_images",
    "to_source_image",
]
