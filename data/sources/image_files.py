"""Finding and decoding image files, for the datasets read from them (cats_vs_dogs, mvtec, folder),
for prediction's new images (find_image_files, read_images) and for the encoded files an exported
model takes (decode_image_bytes, to_source_image), so that all of them read a file alike.
Files of arbitrary sizes are resized to a square (bilinear with antialiasing, aspect ratio not
preserved) and decoded in parallel by tf.data; a colour image is one stored with 3 or 4 channels,
and if any image of a dataset has colour every image gets 3 channels (grayscale repeated), else 1.
Alpha is dropped, not composited, so a transparent pixel keeps its stored colour."""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from .dataset import DatasetError

if TYPE_CHECKING:  # for annotations only; tensorflow is imported where it is used
    import tensorflow as tf


IMAGE_FILE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
DECODE_BATCH_SIZE = 256
MAX_FILES_NAMED = 5
GLOB_CHARACTERS = "*?["
IMAGE_SPEC_FIX = (
    "Give one PNG, JPEG or BMP file, a folder of them (searched at any depth), or a glob pattern "
    "such as 'photos/**/*.png' (quoted, so that the shell leaves it to this program)."
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
        image = decode_image_bytes(tf.io.read_file(path))
        return to_source_image(image, height, width, channels), tf.shape(image)[:2]

    (images, sizes), readable = _decode_in_parallel(paths, decode)
    if not readable.all():
        unreadable = [path for path, is_readable in zip(paths, readable) if not is_readable]
        raise DatasetError(_unreadable_message(unreadable, len(paths)))
    return images, sizes.astype(np.int64)


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
        image = decode_image_bytes(tf.io.read_file(path))
        rgb = _with_channels(image, 3)
        return _resize(rgb, image_size, image_size), tf.shape(image)[-1] >= 3

    (images, colour_flags), readable = _decode_in_parallel(paths, decode)
    return (images if colour_flags.any() else images[..., :1]), readable


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


def decode_image_bytes(encoded: tf.Tensor) -> tf.Tensor:
    """A file's contents (a scalar tf.string) -> its pixels as stored: uint8 HWC with 1 (gray),
    2 (gray, alpha), 3 (RGB) or 4 (RGBA) channels; palette images come out as RGB(A). TensorFlow's
    decoder, also inside an exported model's graph: another JPEG decoder gives other pixels."""
    import tensorflow as tf

    return tf.io.decode_image(encoded, expand_animations=False)


def to_source_image(image: tf.Tensor, height: int, width: int, channels: int) -> tf.Tensor:
    """A decoded image (decode_image_bytes) as a dataset's loader gives it: uint8 height x width x
    channels, alpha dropped, the channels made 3 or 1 as read_images describes, resized by _resize.
    read_images and the exported model's bytes signature both bring files to a dataset's geometry
    with it, so that they give one image the same pixels."""
    import tensorflow as tf

    resized = _resize(_with_channels(image, channels), height, width)
    return tf.ensure_shape(resized, (height, width, channels))


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
