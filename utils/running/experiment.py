"""One experiment per class: train it, test it, and summarise the classes of one invocation.

This is the only module that knows all the parts (data, model, training, scores, reports); each
part knows nothing of the others.
"""

import os
import platform
import re
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from data.pipeline import one_class_split, to_model_images, training_batches
from data.sources import ImageDataset
from models.method import Schedule, ScoringImages
from models.registry import get_method
from utils.reporting.reports import read_class_metrics, write_class_results, write_summary
from utils.running.config import Config, load_config_dict, save_config
from utils.running.run_lock import RunLock, RunLocked
from utils.running.training import Checkpoints, NoReadableCheckpoint, train_for_iterations
from utils.scoring.normalise import min_max_normalise


class ExperimentError(Exception):
    """A run cannot go ahead as asked; the message says why and what to do."""


def build_model(config: Config, image_shape: tuple[int, int, int]) -> keras.Model:
    """The compiled model of config.method, as every run builds it; initialisation is fixed by config.seed."""
    method = get_method(config.method)
    try:
        method.check_image_shape(image_shape)
    except ValueError as error:
        raise ExperimentError(str(error)) from error
    return method.build(config, image_shape)


class FreshModels:
    """Hands out the model in its just-initialised state, building and compiling it only once.

    Tracing and XLA-compiling the training step takes about half a minute on a CPU; every class
    starts from the same seeded initialisation, so one model reset to its initial variables
    (weights and optimiser state) serves every class of an invocation.
    """

    def __init__(self, config: Config, image_shape: tuple[int, int, int]):
        self.model = build_model(config, image_shape)
        optimizers = [value for value in self.model.checkpoint_objects().values()
                      if isinstance(value, keras.optimizers.Optimizer)]
        self.variables = self.model.variables + [variable for optimizer in optimizers
                                                 for variable in optimizer.variables]
        self.initial_values = [variable.numpy() for variable in self.variables]

    def fresh(self) -> keras.Model:
        for variable, value in zip(self.variables, self.initial_values):
            variable.assign(value)
        return self.model


def class_folder_name(dataset: ImageDataset, class_index: int) -> str:
    return f"{class_index}_" + re.sub(r"[^A-Za-z0-9_.-]+", "_", dataset.class_names[class_index])


def software_and_machine() -> dict:
    """What a result's last digits depend on besides the seed: the same seed repeats bit for bit only with
    the same TensorFlow, processor (its kernels round differently) and core count (the thread pools split
    sums by it)."""
    processor, vector_instructions = platform.machine(), []
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        fields = {key.strip(): value.strip() for key, value in
                  (line.split(":", 1) for line in cpuinfo.read_text().splitlines() if ":" in line)}
        processor = fields.get("model name", processor)
        vector_instructions = sorted(flag for flag in fields.get("flags", "").split()
                                     if flag.startswith(("avx", "amx")))
    return {"tensorflow": tf.__version__, "keras": keras.__version__, "processor": processor,
            "vector_instructions": vector_instructions, "cores": os.cpu_count()}


def missing_model_message(config: Config, class_index: int, folder: Path) -> str:
    message = f"no trained model for class {class_index} in {folder}. "
    runs = sorted(path.name for path in folder.parent.parent.glob("*") if path.is_dir())
    if runs:
        message += f"Runs that exist for {config.dataset}: {', '.join(runs)} (pass the flags they were trained with). "
    return message + (f"Train it first: python main.py --method {config.method} --dataset {config.dataset} "
                      f"--train_object {class_index} with the same {get_method(config.method).run_flags}")


class Experiment:
    """The classes of one dataset under one configuration: train them, test them, summarise them."""

    def __init__(self, config: Config, dataset: ImageDataset):
        self.config = config
        self.dataset = dataset
        self.method = get_method(config.method)
        self._models = None
        self._scorer = None
        self._schedules: dict[int, Schedule] = {}
        self._lock = RunLock(config.checkpoint_folder())

    def close(self):
        """Let other processes use the run folder (also done when the process ends)."""
        self._lock.release()

    def hold_run_folder(self):
        """Lock the run folder for this process, from the first class trained or tested on."""
        try:
            self._lock.acquire()
        except RunLocked as error:
            raise ExperimentError(str(error)) from error

    def restore(self, checkpoints: Checkpoints) -> int:
        """checkpoints.restore_latest(), with no readable checkpoint as an ExperimentError."""
        try:
            return checkpoints.restore_latest()
        except NoReadableCheckpoint as error:
            raise ExperimentError(str(error)) from error

    def fresh_model(self) -> keras.Model:
        if self._models is None:
            image_shape = (self.config.image_size, self.config.image_size, self.dataset.x_train.shape[-1])
            self._models = FreshModels(self.config, image_shape)
            print(self.method.parameter_summary(self._models.model))
        return self._models.fresh()

    def check_trained_with_this_config(self, folder: Path):
        saved = load_config_dict(folder)
        if saved is not None and self.config.training_differences(saved):
            raise ExperimentError(
                f"{folder} holds a run trained with other settings "
                f"({'; '.join(self.config.training_differences(saved))}); pass the settings it was trained "
                "with, or --run_name NAME (or another --checkpoint_dir) for a separate run")

    def describe(self, class_index: int) -> str:
        return f"{self.dataset.name} class {class_index} ({self.dataset.class_names[class_index]})"

    def checkpoint_folder(self, class_index: int) -> Path:
        return self.config.checkpoint_folder() / class_folder_name(self.dataset, class_index)

    def schedule(self, class_index: int, train_size: int | None = None) -> Schedule:
        """The training length of one class, computed once from its training set size (train_size, or its
        split's) and the same for training, resuming and testing."""
        if class_index not in self._schedules:
            if train_size is None:
                train_size = len(one_class_split(self.dataset, class_index, self.config.scheme).train_images)
            self._schedules[class_index] = self.method.schedule(self.config, train_size)
        return self._schedules[class_index]

    def train_class(self, class_index: int) -> Path:
        """Train (or resume training) the model of one class; return its checkpoint folder."""
        config = self.config
        split = one_class_split(self.dataset, class_index, config.scheme)
        images = to_model_images(split.train_images, config.image_size)
        schedule = self.schedule(class_index, len(images))
        folder = self.checkpoint_folder(class_index)
        self.hold_run_folder()
        self.check_trained_with_this_config(folder)
        save_config(config, folder)

        model = self.fresh_model()
        checkpoints = Checkpoints(model, folder)
        start = self.restore(checkpoints)
        if start >= schedule.iterations:
            print(f"{self.describe(class_index)}: already trained ({start} iterations) in {folder}; skipping")
            return folder
        self.method.start_class(model, schedule)
        warmup = f", the first {schedule.warmup_iterations} warm-up" if schedule.warmup_iterations else ""
        print(f"{self.describe(class_index)}: {'resuming at iteration ' + str(start) if start else 'training'} "
              f"on {len(images)} normal images for {schedule.iterations} iterations{warmup}")
        batches = training_batches(images, config.batch_size, config.seed, start, schedule.iterations,
                                   config.max_zoom)
        started = time.perf_counter()
        train_for_iterations(model, batches, checkpoints, schedule.iterations, config.checkpoint_every)
        print(f"{self.describe(class_index)}: trained in {time.perf_counter() - started:.0f} s; checkpoint in {folder}")
        return folder

    def trained_model(self, class_index: int) -> keras.Model:
        """The model of one class with its latest readable checkpoint restored."""
        return self.restored(class_index)[0]

    def restored(self, class_index: int) -> tuple[keras.Model, Checkpoints]:
        """trained_model(), and the checkpoints it was restored from."""
        checkpoint_folder = self.checkpoint_folder(class_index)
        self.check_trained_with_this_config(checkpoint_folder)
        model = self.fresh_model()
        checkpoints = Checkpoints(model, checkpoint_folder)
        if checkpoints.latest is None:
            raise ExperimentError(missing_model_message(self.config, class_index, checkpoint_folder))
        self.hold_run_folder()
        trained_iterations = self.restore(checkpoints)
        iterations = self.schedule(class_index).iterations
        if trained_iterations < iterations:
            print(f"warning: {self.describe(class_index)} was trained for {trained_iterations} of "
                  f"{iterations} iterations (interrupted?); testing that checkpoint")
        return model, checkpoints

    def scorer(self, model: keras.Model):
        """The method's scorer of the experiment's one model (its passes compiled on first use)."""
        if self._scorer is None:
            self._scorer = self.method.scorer(model, self.config)
        return self._scorer

    def class_results_folder(self, class_index: int, score: str) -> Path:
        return self.config.results_folder(score) / class_folder_name(self.dataset, class_index)

    def class_metrics(self, class_index: int, score: str) -> dict | None:
        """The saved metrics of one class and score (AUC, speed, ...), or None if it was not tested yet
        (or was tested with other settings, or on a model whose training had not finished)."""
        folder = self.class_results_folder(class_index, score)
        saved = load_config_dict(folder)
        if saved is None or self.config.training_differences(saved) or self.config.scoring_differences(saved):
            return None
        metrics = read_class_metrics(folder)
        if metrics is None or metrics.get("trained_iterations", 0) < self.schedule(class_index).iterations:
            return None
        return metrics

    def test_class(self, class_index: int, scores: tuple[str, ...] | None = None) -> dict[str, float]:
        """Score the test set with the trained model of one class, for each score (default: config.scores);
        write the results of each score; return {score: AUC}."""
        scores = scores or self.config.scores
        split = one_class_split(self.dataset, class_index, self.config.scheme)
        model, checkpoints = self.restored(class_index)
        run = {"trained_iterations": int(model.iterations), "training_seconds": checkpoints.training_seconds,
               "environment": software_and_machine()}
        images = ScoringImages(to_model_images(split.test_images, self.config.image_size),
                               lambda: to_model_images(split.train_images, self.config.image_size),
                               split.test_anomaly_labels == 0)
        try:
            results = self.scorer(model).score(images, scores)
            return {score: self.write_results(class_index, split, score, min_max_normalise(result.anomaly_scores),
                                              result.columns, {**result.metrics, **run})
                    for score, result in results.items()}
        except ValueError as error:
            raise ExperimentError(f"cannot evaluate {self.describe(class_index)}: {error}") from error

    def write_results(self, class_index, split, score, anomaly_scores, columns, metrics) -> float:
        folder = self.class_results_folder(class_index, score)
        save_config(self.config, folder)
        auc = write_class_results(folder, split.test_anomaly_labels, anomaly_scores,
                                  self.dataset.class_names[class_index],
                                  extra_columns={"class_label": split.test_class_labels, **columns}, metrics=metrics)
        print(f"{self.describe(class_index)}: s_{score} AUC {auc:.4f} ({metrics['images_per_second']:.0f} "
              f"images/s); results in {folder}")
        return auc

    def test_classes(self, classes: list[int]) -> list[Path]:
        """Test each class, then write summary.json / summary.md of each score beside its per-class folders.

        If a class fails, the classes tested before it are summarised before the error goes on.
        """
        per_class_auc = {score: {} for score in self.config.scores}
        try:
            for index in classes:
                for score, auc in self.test_class(index).items():
                    per_class_auc[score][self.dataset.class_names[index]] = auc
        except Exception:
            if any(per_class_auc.values()):
                print(f"testing failed after {len(next(iter(per_class_auc.values())))} classes; summarising them")
                for score, auc in per_class_auc.items():
                    self.write_score_summary(score, auc)
            raise
        return [self.write_score_summary(score, auc) for score, auc in per_class_auc.items()]

    def write_score_summary(self, score: str, per_class_auc: dict[str, float]) -> Path:
        config = self.config
        row = self.method.paper_row(config.dataset, config, score)
        paper = None if row is None or row.per_class is None else row.reference()
        json_path, markdown_path = write_summary(config.results_folder(score), per_class_auc,
                                                 list(self.dataset.class_names), {**config.to_dict(), "score": score}, paper)
        print(f"s_{score}: mean AUC over {len(per_class_auc)} classes: {np.mean(list(per_class_auc.values())):.4f}; "
              f"summary in {markdown_path} and {json_path}")
        return json_path
