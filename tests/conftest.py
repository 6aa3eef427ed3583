"""Fixtures shared by the test files: tiny configurations, datasets, image batches and built models.

Configurations and models are made the way the program makes them (config_for_dataset, build_model),
at a CPU size. Building a model traces its networks and its first training step traces train_step
(seconds each), so `fresh_model` builds each configuration once per session and hands it out reset to
its initial weights and optimiser state, as ResettableModel does between classes: a test may train it, and
may replace a part (an optimiser) only through monkeypatch, which puts it back.
"""

import collections.abc
import os

# One TensorFlow thread per pool in each test process (the runner's workers and the programs they start):
# two workers share two cores, and their thread pools would otherwise contend. Four slow test files took
# 191 s and 201 s with it, against 208 s and 210 s without (alternating runs, 2 workers).
# tests/test_distributed.py lifts it for its replicas.
for pool in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
    os.environ.setdefault(pool, "1")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from data.sources import ImageDataset, load_dataset  # noqa: E402
from utils.running.config import config_for_dataset  # noqa: E402
from utils.running.experiment import ResettableModel  # noqa: E402

# The longest test files, longest first (pytest --durations on 2026-12-03: 186 s down to 85 s each). The test
# runner hands whole files to its two workers in collection order (pyproject.toml), so these start first and the
# many short files fill the end, instead of one worker idling beside the last long file.
LONGEST_FILES = ("test_distributed.py", "test_detector_in_use.py", "test_cli.py", "test_checkpoint_recovery.py",
                 "test_datasets_end_to_end.py", "test_tables.py", "test_blank_images.py")


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return LONGEST_FILES.index(name) if name in LONGEST_FILES else len(LONGEST_FILES)
    items.sort(key=rank)


# --- Part A fixtures (configurations, data, models) ---

# A few steps of a narrow network, without XLA: compiling would take longer than the steps.
TINY_SETTINGS = {"width": 4, "batch_size": 8, "iterations": 4, "jit_compile": False}


@pytest.fixture(scope="session")
def tiny_config():
    """tiny_config(method="dgad", **settings): the digits' Config of `method` at TINY_SETTINGS, then `settings`."""
    def make(method="dgad", **settings):
        return config_for_dataset("digits", method=method, **{**TINY_SETTINGS, **settings})
    return make


@pytest.fixture(scope="session")
def fresh_model(tiny_config):
    """fresh_model(image_shape, method="dgad", **settings): the model of tiny_config(method, **settings) for
    images of image_shape, built once per session and reset to its initial state on every call."""
    built = {}

    def fresh(image_shape, method="dgad", **settings):
        # Keyed by the resolved config: variant="gan" and restoration="pixel" share one model.
        key = (tuple(image_shape), tiny_config(method, **settings))
        if key not in built:
            built[key] = ResettableModel(key[1], key[0])
        return built[key].fresh()
    return fresh


@pytest.fixture(scope="module")
def eager_functions():
    """Every tf.function (the training step, the scoring passes) runs eagerly while the module's tests run.

    For tests of a few training steps whose subject is what the program reads and writes: tracing the
    training step takes longer than running a few steps eagerly. The compiled step has tests of its own.
    """
    previous = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(previous)


@pytest.fixture(scope="session")
def random_images():
    """random_images(count, shape=(16, 16, 1), seed=(4, 4)): a seeded batch of uniform images in [-1, 1]."""
    def make(count, shape=(16, 16, 1), seed=(4, 4)):
        return tf.random.stateless_uniform((count, *shape), seed=seed, minval=-1, maxval=1)
    return make


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's digits (8x8x1 uint8, no download), loaded once; copy an array before changing it."""
    return load_dataset("digits")


@pytest.fixture(scope="session")
def named_dataset():
    """named_dataset(name, class_names): an ImageDataset with these class names and no images, for code
    that reads only the names (tables, class selection)."""
    def make(name, class_names):
        empty = np.zeros((0, 4, 4, 1), np.uint8)
        return ImageDataset(name, empty, np.zeros(0, np.int64), empty, np.zeros(0, np.int64), tuple(class_names))
    return make


def _sublayers(layer) -> list:
    """Every layer inside `layer` (not itself), found through public attributes: a Model's `layers`, and
    attributes holding a layer or a list of layers (a wrapper's `layer`, a network's blocks)."""
    found, pending = {}, [layer]
    while pending:
        current = pending.pop()
        children = list(current.layers) if isinstance(current, keras.Model) else []
        for name, value in vars(current).items():
            if not name.startswith("_"):
                several = isinstance(value, collections.abc.Sequence) and not isinstance(value, str)
                values = value if several else [value]
                children += [child for child in values if isinstance(child, keras.layers.Layer)]
        for child in children:
            if id(child) not in found and child is not layer:
                found[id(child)] = child
                pending.append(child)
    return list(found.values())


@pytest.fixture(scope="session")
def sublayers():
    """sublayers(layer): every layer nested in `layer`, by public attributes (Keras' own walk is private)."""
    return _sublayers

# --- end of part A fixtures ---


# --- Part B fixtures (run folders, command lines, dataset files) ---

import gzip  # noqa: E402  (imports of part B's fixtures, kept in its block)
import pickle  # noqa: E402
import shutil  # noqa: E402
import struct  # noqa: E402

from utils.running.run_lock import LOCK_FILE  # noqa: E402


@pytest.fixture
def folders(tmp_path):
    """The test's results and checkpoint folders under tmp_path, as Config settings."""
    return {"results_dir": str(tmp_path / "results"), "checkpoint_dir": str(tmp_path / "checkpoints")}


@pytest.fixture
def copy_checkpoints(folders):
    """copy_checkpoints(trained): the checkpoint folder `trained` (a run trained earlier, e.g. by a module-scoped
    fixture) becomes the test's, without its run lock; the test then resumes or tests that run."""
    return lambda trained: shutil.copytree(trained, folders["checkpoint_dir"], ignore=shutil.ignore_patterns(LOCK_FILE))


def folder_flags(folders: dict) -> list[str]:
    return ["--results_dir", folders["results_dir"], "--checkpoint_dir", folders["checkpoint_dir"]]


@pytest.fixture
def run_main(folders):
    """run_main(arguments): main.main(arguments) writing into the test's folders; returns its exit code."""
    import main

    return lambda arguments: main.main(arguments + folder_flags(folders))


@pytest.fixture
def run_reproduce(folders):
    """run_reproduce(arguments): reproduce.main(arguments) writing into the test's folders; returns its exit code."""
    import reproduce

    return lambda arguments: reproduce.main(arguments + folder_flags(folders))


# Dataset files in the layouts the loaders read (data/sources/), written by the tests that need them.


class MnistFiles:
    """The MNIST idx files (as the website and tfds ship them) of six training and four test images."""

    train_images = np.stack([(np.arange(28 * 28).reshape(28, 28) + index) % 256 for index in range(6)]).astype(np.uint8)
    train_labels = np.array([3, 1, 4, 1, 5, 9], dtype=np.uint8)
    test_images = np.stack([(np.arange(28 * 28).reshape(28, 28) + 100 + index) % 256
                            for index in range(4)]).astype(np.uint8)
    test_labels = np.array([2, 7, 1, 8], dtype=np.uint8)

    @staticmethod
    def idx_bytes(array: np.ndarray, magic: int) -> bytes:
        header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
        return header + array.astype(np.uint8).tobytes()

    @staticmethod
    def write_idx_file(folder, name: str, data: bytes, gzipped: bool, dotted: bool = False):
        file_name = name.replace("-idx", ".idx") if dotted else name
        if gzipped:
            (folder / f"{file_name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / file_name).write_bytes(data)

    def write(self, folder, gzipped: bool = True, dotted: bool = False):
        """The four files in `folder` (created), gzipped or raw, named train-images-idx3-ubyte or (dotted)
        train-images.idx3-ubyte; returns the folder."""
        contents = {
            "train-images-idx3-ubyte": self.idx_bytes(self.train_images, 0x803),
            "train-labels-idx1-ubyte": self.idx_bytes(self.train_labels, 0x801),
            "t10k-images-idx3-ubyte": self.idx_bytes(self.test_images, 0x803),
            "t10k-labels-idx1-ubyte": self.idx_bytes(self.test_labels, 0x801),
        }
        folder.mkdir(parents=True)
        for name, data in contents.items():
            self.write_idx_file(folder, name, data, gzipped, dotted)
        return folder


@pytest.fixture(scope="session")
def mnist_files():
    """mnist_files.write(folder, gzipped=True, dotted=False): MNIST's idx files of mnist_files.train_images,
    .train_labels, .test_images and .test_labels; idx_bytes and write_idx_file write damaged ones."""
    return MnistFiles()


class CifarFiles:
    """The CIFAR-10 python layout (data_batch_1..5, test_batch) of five images per batch: the first of each
    (10, 20, 30) in every pixel, the second counting 0, 1, 2, ... in its red plane, the rest the batch's index
    (0 for test_batch); labels (batch index + position) % 10."""

    images_per_batch = 5

    def labels(self, batch_index: int) -> list[int]:
        return [(batch_index + offset) % 10 for offset in range(self.images_per_batch)]

    def rows(self, batch_index: int) -> np.ndarray:
        """Rows in the file layout: 1024 R values, 1024 G values, 1024 B values per image."""
        rows = np.zeros((self.images_per_batch, 3 * 32 * 32), dtype=np.uint8)
        rows[0, :1024], rows[0, 1024:2048], rows[0, 2048:] = 10, 20, 30
        rows[1, :1024] = np.arange(1024) % 256
        rows[2:, :] = batch_index
        return rows

    def write(self, folder, label_names=None):
        """The batches in `folder` (created), and batches.meta if label_names is given; returns the folder."""
        folder.mkdir(parents=True)
        batch_files = [(f"data_batch_{index}", index) for index in range(1, 6)] + [("test_batch", 0)]
        for file_name, batch_index in batch_files:
            batch = {b"data": self.rows(batch_index), b"labels": self.labels(batch_index)}
            (folder / file_name).write_bytes(pickle.dumps(batch))
        if label_names is not None:
            (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": label_names}))
        return folder


@pytest.fixture(scope="session")
def cifar_files():
    """cifar_files.write(folder, label_names=None): the CIFAR-10 batches CifarFiles describes."""
    return CifarFiles()

# --- end of part B fixtures ---
