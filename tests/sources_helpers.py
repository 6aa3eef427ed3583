"""What the tests of data/sources/ (tests/test_sources_*.py) share: the DatasetError message of a load
that must fail, and uniform image files in the colours they check."""

import pytest
from PIL import Image

from data.sources import DatasetError, load_dataset


def error_message(name: str, data_dir=None, image_size=None) -> str:
    """The message of the DatasetError that load_dataset(name, data_dir, image_size) must raise."""
    with pytest.raises(DatasetError) as caught:
        load_dataset(name, data_dir, image_size)
    return str(caught.value)


RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def save_image(path, size, value, mode="RGB", image_format=None):
    """A uniform image; size is (width, height), value a gray level or a colour tuple."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value).save(path, format=image_format)
    return path
