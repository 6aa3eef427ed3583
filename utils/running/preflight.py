"""Checks that can fail before any training starts, so that a run at paper scale does not stop
hours in on something that was already known: folders that cannot be written, images the
networks cannot take, classes with nothing to train on, fewer images than one batch (or too few held out
to set a threshold on), or a learning curve (--eval_every) on a test split without both normal and anomalous images.
"""

import math
import tempfile
from pathlib import Path

from data.pipeline import one_class_split, validation_size
from data.sources import DatasetError, ImageDataset
from models.registry import get_method
from utils.running.config import Config
from utils.running.learning_curve import refusal
from utils.scoring.thresholds import MINIMUM_VALIDATION_IMAGES


# A validation split larger than this share of the training images is not suggested: too little would train.
MAXIMUM_SUGGESTED_FRACTION = 0.5


class PreflightError(Exception):
    """A run would fail after it started; the message names the problem and the flag that fixes it."""


def check_writable(folder: str, flag: str):
    """Create folder if absent and write (then remove) a probe file in it."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-probe-") as probe:
            probe.write(b"probe")
            probe.flush()
    except OSError as error:
        raise PreflightError(f"cannot write to {folder} ({error.strerror or error}); pass {flag} with a folder "
                             "you can write to") from error


def check_classes_trainable(config: Config, dataset: ImageDataset, classes: list[int], flag: str):
    """Every class has normal training images under config.scheme, at least one batch of them once
    --val_fraction's share is held out, and enough held-out images to set a threshold on."""
    empty, too_few, too_few_to_validate = [], [], []
    needed = MINIMUM_VALIDATION_IMAGES
    for index in classes:
        name = f"{index} ({dataset.class_names[index]})"
        try:
            split = one_class_split(dataset, index, config.scheme)
        except DatasetError as error:
            if "no normal training images" not in str(error):
                raise PreflightError(str(error)) from error
            empty.append(name)
            continue
        held_out = validation_size(len(split.train_images), config.val_fraction)
        if len(split.train_images) - held_out < config.batch_size:
            too_few.append((name, len(split.train_images) - held_out))
        if 0 < held_out < needed:
            too_few_to_validate.append((name, held_out, len(split.train_images)))
        cannot_follow = config.eval_every and refusal(split.test_anomaly_labels, f"{dataset.name} class {name}")
        if cannot_follow:
            raise PreflightError(cannot_follow)
    if empty:
        raise PreflightError(f"{dataset.name} has nothing to train on under --scheme {config.scheme} for "
                             f"class{'es' if len(empty) > 1 else ''} {', '.join(empty)} (no normal training "
                             f"images); choose the classes to train with {flag}")
    if too_few:
        smallest = min(count for _, count in too_few)
        held_out = f" after --val_fraction {config.val_fraction:g} holds some out" if config.val_fraction else ""
        raise PreflightError(f"fewer training images than the batch size {config.batch_size}{held_out} for "
                             + ", ".join(f"class {name}, which has {count}" for name, count in too_few)
                             + f"; pass --batch_size {max(smallest, 1)} or smaller"
                             + (" (or a smaller --val_fraction)" if config.val_fraction else ""))
    if too_few_to_validate:
        name, held_out, total = min(too_few_to_validate, key=lambda entry: entry[2])
        fraction = math.ceil(needed / total * 100) / 100
        raise PreflightError(f"--val_fraction {config.val_fraction:g} holds out only {held_out} of the {total} normal "
                             f"training images of class {name}, and a threshold needs at least {needed}; pass "
                             + (f"--val_fraction {fraction:g} or more, or " if fraction < MAXIMUM_SUGGESTED_FRACTION
                                else "")
                             + "--val_fraction 0 (thresholds then come from the test split)")


def check_before_run(configs: list[Config], dataset: ImageDataset, train_classes: list[int], flag: str,
                     trains: bool = True, tests: bool = True):
    """Every check of a run with each of configs (one per method) that trains train_classes (selected by
    flag) and tests them. A run that only trains writes no results (but its learning curves); testing writes no
    checkpoints, but takes the run folder's lock file there."""
    for config in configs:
        try:
            get_method(config.method).check_image_shape(
                (config.image_size, config.image_size, dataset.x_train.shape[-1]))
        except ValueError as error:
            raise PreflightError(str(error)) from error
        check_writable(config.checkpoint_dir, "--checkpoint_dir")
        if tests or (trains and config.eval_every):
            check_writable(config.results_dir, "--results_dir")
        if trains:
            check_classes_trainable(config, dataset, train_classes, flag)
