"""One experiment per class: train it, test it, and summarise the classes of one invocation.

This is the only module that knows all the parts (data, model, training, scores, reports); each
part knows nothing of the others.
"""

import os
import platform
import time
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from data.pipeline import OneClassSplit, hold_out_validation, one_class_split, to_model_images, training_batches
from data.random_streams import PREVIEW_STREAM
from data.sources import ImageDataset
from models.method import Schedule, ScoringImages
from models.registry import get_method
from utils.reporting.files import safe_file_name
from utils.reporting.markdown import interval_cell
from utils.reporting.plots import plot_anomaly_maps
from utils.reporting.reports import (MAPS_FOLDER, PARTIAL_SUMMARY_NAME, SUMMARY_COLUMNS, SUMMARY_NAME,
                                    read_class_metrics, read_resampled, write_class_results, write_summary)
from utils.running import devices
from utils.running.detector import DetectorState, ScoreState, load_detector_state, save_detector_state
from utils.running.evaluation import ClassMaps, decide, overlay_captions, overlay_selection
from utils.running.memorisation import MEMORISATION_RATIO, MONITORED_IMAGES, memorisation
from utils.running.config import Config, load_config_dict, save_config
from utils.running.learning_curve import CURVE_FILE, LearningCurve, curve_point, refusal
from utils.running.run_lock import RunLock, RunLocked
from utils.running.training import Checkpoints, NoReadableCheckpoint, TensorBoardLog, train_for_iterations
from utils.scoring.bootstrap import percentile_interval, resampled_aucs, resampled_pixel_aurocs, summary_intervals
from utils.scoring.floors import FLOOR_METRICS, FLOORS_LEFT_OUT, floor_metrics
from utils.scoring.maps import MapPass, pixel_auroc


# Inside a class's checkpoint folder: `tensorboard --logdir <checkpoint_dir>/<dataset>/<run>` shows every class.
TENSORBOARD_FOLDER = "tensorboard"
# The first images of a class's training set, shown in TensorBoard as the model learns them.
PREVIEW_IMAGES = 8


class ExperimentError(Exception):
    """A run cannot go ahead as asked; the message says why and what to do."""


def build_model(config: Config, image_shape: tuple[int, int, int]) -> keras.Model:
    """The compiled model of config.method, as every run builds it, under config's strategy and precision policy;
    initialisation is fixed by config.seed."""
    method = get_method(config.method)
    try:
        method.check_image_shape(image_shape)
        strategy = devices.start(config)
    except ValueError as error:
        raise ExperimentError(str(error)) from error
    with strategy.scope(), devices.precision_policy(config.precision):
        model = method.build(config, image_shape)
    if config.precision != "float32":
        devices.keep_spectral_norm_in_float32(model)
    return model


class ResettableModel:
    """Hands out one model in its just-initialised state, building and compiling it only once.

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
    return f"{class_index}_" + safe_file_name(dataset.class_names[class_index])


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
    runs = existing_runs_note(config)
    if runs:
        message += runs + ". "
    return message + (f"Train it first: python main.py --method {config.method} --dataset {config.dataset} "
                      f"--train_object {class_index} with the same {get_method(config.method).run_flags()}")


def existing_runs_note(config: Config) -> str | None:
    """The runs of config.dataset in its checkpoint folder, and that a run is named by its flags; None if none."""
    dataset_folder = config.checkpoint_folder().parent
    runs = sorted(path.name for path in dataset_folder.glob("*") if path.is_dir() and path.name != config.run_id)
    if not runs:
        return None
    return (f"Runs that exist for {config.dataset} in {dataset_folder}: {', '.join(runs)} (the flags that name a "
            f"run, {get_method(config.method).run_flags()} or --run_name, must be those it was trained with)")


class Experiment:
    """The classes of one dataset under one configuration: train them, test them, summarise them."""

    def __init__(self, config: Config, dataset: ImageDataset):
        self.config = config
        self.dataset = dataset
        self.method = get_method(config.method)
        self._resettable_model = None
        self._scorer = None
        self._map_pass = None
        self._schedules: dict[int, Schedule] = {}
        self._floors: dict[int, dict] = {}
        self._locks: dict[int, RunLock] = {}

    def close(self):
        """Let other processes use the class folders this one held (also done when the process ends)."""
        for lock in self._locks.values():
            lock.release()

    def hold_class_folder(self, class_index: int):
        """Lock one class's checkpoint folder for this process, from when it is first trained or tested on.

        Per class, so that processes sharing a run (the shards of a table) work on its classes at once.
        """
        lock = self._locks.setdefault(class_index, RunLock(self.checkpoint_folder(class_index)))
        try:
            lock.acquire()
        except RunLocked as error:
            raise ExperimentError(str(error)) from error

    def restore(self, checkpoints: Checkpoints) -> int:
        """checkpoints.restore_latest(), with no readable checkpoint as an ExperimentError."""
        try:
            return checkpoints.restore_latest()
        except NoReadableCheckpoint as error:
            raise ExperimentError(str(error)) from error

    def fresh_model(self) -> keras.Model:
        if self._resettable_model is None:
            image_shape = (self.config.image_size, self.config.image_size, self.dataset.x_train.shape[-1])
            self._resettable_model = ResettableModel(self.config, image_shape)
            print(self.method.parameter_summary(self._resettable_model.model))
        return self._resettable_model.fresh()

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

    def split(self, class_index: int) -> OneClassSplit:
        """The class's one-class split, with --val_fraction of its normal training images held out."""
        return hold_out_validation(one_class_split(self.dataset, class_index, self.config.scheme),
                                   self.config.val_fraction, self.config.seed)

    def schedule(self, class_index: int, train_size: int | None = None) -> Schedule:
        """The training length of one class, computed once from its training set size (train_size, or its
        split's) and the same for training, resuming and testing."""
        if class_index not in self._schedules:
            if train_size is None:
                train_size = len(self.split(class_index).train_images)
            self._schedules[class_index] = self.method.schedule(self.config, train_size)
        return self._schedules[class_index]

    def train_class(self, class_index: int) -> Path:
        """Train (or resume training) the model of one class; return its checkpoint folder."""
        config = self.config
        split = self.split(class_index)
        cannot_follow = config.eval_every and refusal(split.test_anomaly_labels, self.describe(class_index))
        if cannot_follow:
            raise ExperimentError(cannot_follow)
        images = to_model_images(split.train_images, config.image_size)
        schedule = self.schedule(class_index, len(images))
        folder = self.checkpoint_folder(class_index)
        self.hold_class_folder(class_index)
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
                                   config.max_zoom, training_inputs=model.training_inputs)
        monitor = self.memorisation_monitor(split, images)
        tensorboard = TensorBoardLog(folder / TENSORBOARD_FOLDER, images[:PREVIEW_IMAGES],
                                     tf.constant([config.seed, PREVIEW_STREAM], tf.int64), start, schedule.iterations,
                                     config.checkpoint_every, monitor=monitor)
        callbacks = [tensorboard]
        if config.eval_every:
            callbacks.append(self.learning_curve(class_index, split, start, schedule.iterations, monitor))
        started = time.perf_counter()
        train_for_iterations(model, batches, checkpoints, schedule.iterations, config.checkpoint_every,
                             callbacks=tuple(callbacks))
        print(f"{self.describe(class_index)}: trained in {time.perf_counter() - started:.0f} s; checkpoint in {folder}")
        return folder

    def memorisation_monitor(self, split: OneClassSplit, train_images) -> Callable[[keras.Model], dict] | None:
        """With a validation split: a function of the model that measures memorisation() on a fixed sample of
        each split, for training's logs; None without one."""
        if split.validation_images is None:
            return None
        validation_images = to_model_images(split.validation_images[:MONITORED_IMAGES], self.config.image_size)
        return lambda model: memorisation(self.map_pass(model), train_images[:MONITORED_IMAGES], validation_images)

    def learning_curve(self, class_index: int, split, start_iteration: int, iterations: int,
                       monitor: Callable[[keras.Model], dict] | None = None) -> LearningCurve:
        """--eval_every's callback for one class: the test split scored with config.scores, beside the floors
        (and the memorisation `monitor` measures, with a validation split)."""
        images = self.scoring_images(split)
        labels = split.test_anomaly_labels
        floors = {name: value for name, value in self.floors(class_index, images, labels).items()
                  if name in FLOOR_METRICS.values()}

        def evaluate(model):
            monitored = {} if monitor is None else {name: value for name, value in monitor(model).items()
                                                    if value is not None}
            return {**curve_point(self.scorer(model).score(images, self.config.scores), labels), **floors,
                    **monitored}
        path = self.config.learning_curve_folder() / class_folder_name(self.dataset, class_index) / CURVE_FILE
        return LearningCurve(evaluate, path, f"{self.describe(class_index)}, {self.method.run_label(self.config)}",
                             start_iteration, iterations, self.config.eval_every)

    def floors(self, class_index: int, images: ScoringImages, anomaly_labels) -> dict:
        """floor_metrics of one class's split, computed once: the learning curve and the test phase share them."""
        if class_index not in self._floors:
            self._floors[class_index] = floor_metrics(images.train, images.test, anomaly_labels)
            if FLOORS_LEFT_OUT in self._floors[class_index]:
                print(f"note: {self.describe(class_index)}: {self._floors[class_index][FLOORS_LEFT_OUT]}")
        return self._floors[class_index]

    def scoring_images(self, split) -> ScoringImages:
        """What the scores of one class read: its model-ready test images, its training images when asked for."""
        return ScoringImages(to_model_images(split.test_images, self.config.image_size),
                             lambda: to_model_images(split.train_images, self.config.image_size),
                             split.test_anomaly_labels == 0)

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
        self.hold_class_folder(class_index)
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

    def finished_classes(self, score: str) -> dict[int, dict]:
        """{class index: its saved metrics} of every class of the run tested with these settings (class_metrics)."""
        metrics = {index: self.class_metrics(index, score) for index in range(len(self.dataset.class_names))}
        return {index: values for index, values in metrics.items() if values is not None}

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
        # Without its detector state, predict could not use the class, so it is tested again.
        if load_detector_state(self.checkpoint_folder(class_index)) is None:
            return None
        return metrics

    def class_resamples(self, class_index: int, score: str) -> dict[str, np.ndarray]:
        """{metrics key: its bootstrap resamples} of a tested class and score; empty where it has none."""
        return read_resampled(self.class_results_folder(class_index, score))

    def test_class(self, class_index: int, scores: tuple[str, ...] | None = None) -> dict[str, dict]:
        """Score the test set with the trained model of one class, for each score (default: config.scores);
        write the results of each score and the state that scores new images (detector.json); return
        {score: its metrics (auc, pixel_auroc, f1, ...)}."""
        config = self.config
        scores = scores or config.scores
        split = self.split(class_index)
        if split.test_anomaly_labels.all():
            raise ExperimentError(f"cannot evaluate {self.describe(class_index)}: its test split has no normal "
                                  "images, so neither an AUC nor a threshold can be found; add normal test images")
        model, checkpoints = self.restored(class_index)
        run = {"trained_iterations": model.iterations_done(), "training_seconds": checkpoints.training_seconds,
               "environment": software_and_machine()}
        images = self.scoring_images(split)
        try:
            run.update(self.floors(class_index, images, split.test_anomaly_labels))
            results = self.scorer(model).score(images, scores)
            validation_results = self.validation_results(model, split, results)
            if split.validation_images is not None:
                run.update(memorisation(self.map_pass(model), images.train,
                                        to_model_images(split.validation_images, config.image_size)))
            maps = ClassMaps(self.map_pass(model), images.test, split.test_images)
            resampled = {}
            if split.test_masks is not None:
                run["pixel_auroc"] = pixel_auroc(maps.all(), split.test_masks)
                if run["pixel_auroc"] is not None:
                    resampled["pixel_auroc"] = resampled_pixel_aurocs(maps.all(), split.test_masks,
                                                                      (config.seed, class_index))
            metrics, states = {}, {}
            for score, result in results.items():
                validation_scores = None if validation_results is None else validation_results[score].anomaly_scores
                decision = decide(result.anomaly_scores, split.test_anomaly_labels, config.threshold,
                                  config.threshold_percentile, validation_scores, config.target_fpr)
                self.write_overlays(class_index, score, split, maps, result.anomaly_scores, decision)
                metrics[score] = self.write_results(class_index, split, score, result, decision, run, resampled)
                states[score] = ScoreState(decision.normalisation, decision.threshold, result.fitted,
                                           {name: getattr(config, name) for name in config.scoring_fields},
                                           decision.expected_false_positive_rate)
        except ValueError as error:
            raise ExperimentError(f"cannot evaluate {self.describe(class_index)}: {error}") from error
        self.store_detector_state(class_index, split, model.iterations_done(), states)
        return metrics

    def validation_results(self, model: keras.Model, split: OneClassSplit, test_results: dict) -> dict | None:
        """{score: ScoreResult} of the class's validation images, scored with what each score fitted for the test
        split; None without a validation split."""
        if split.validation_images is None:
            return None
        images = ScoringImages(to_model_images(split.validation_images, self.config.image_size), None,
                               np.ones(len(split.validation_images), bool))
        return self.scorer(model).score(images, tuple(test_results),
                                        {score: result.fitted for score, result in test_results.items()})

    def map_pass(self, model: keras.Model) -> MapPass:
        if self._map_pass is None:
            self._map_pass = MapPass(model, self.config.batch_size, self.config.jit_compile)
        return self._map_pass

    def write_overlays(self, class_index, score, split, maps, raw_scores, decision):
        """The most and the least anomalous test images beside their reconstructions and anomaly maps."""
        folder = self.class_results_folder(class_index, score) / MAPS_FOLDER
        for name, indices in overlay_selection(raw_scores).items():
            reconstructions, anomaly_maps = maps.of(indices)
            captions = overlay_captions(indices, raw_scores, decision.normalised_scores, decision.flags,
                                        split.test_anomaly_labels, split.test_paths)
            plot_anomaly_maps(split.test_images[indices] / 255.0, reconstructions, anomaly_maps, captions,
                              folder / f"{name}.png", f"{self.describe(class_index)}: {name.replace('_', ' ')} "
                                                      f"test images by s_{score}")

    def store_detector_state(self, class_index, split, trained_iterations: int, states: dict[str, ScoreState]):
        folder = self.checkpoint_folder(class_index)
        saved = load_detector_state(folder)
        if saved is None or saved.trained_iterations != trained_iterations:
            saved = DetectorState(self.dataset.class_names[class_index], tuple(split.test_images.shape[1:]),
                                  (self.config.image_size, self.config.image_size, split.test_images.shape[-1]),
                                  trained_iterations, {})
        save_detector_state(folder, saved.with_scores(states))

    def write_results(self, class_index, split, score, result, decision, run, resampled=None) -> dict:
        """Write one score's results of one class (resampled: the pixel AUROC's bootstrap resamples, if any);
        return its metrics.json."""
        folder = self.class_results_folder(class_index, score)
        save_config(self.config, folder)
        paths = {} if split.test_paths is None else {"path": np.asarray(split.test_paths)}
        columns = {"class_label": split.test_class_labels, **paths, **result.columns, "anomalous": decision.flags}
        metrics = {**result.metrics, **decision.metrics, **run}
        labels = split.test_anomaly_labels
        # No AUC, so no resamples of it, on a test split of normal images only.
        resampled = {**({} if (labels == 0).all() else
                        {"auc": resampled_aucs(labels, decision.normalised_scores, (self.config.seed, class_index))}),
                     **(resampled or {})}
        auc = write_class_results(folder, labels, decision.normalised_scores,
                                  self.dataset.class_names[class_index], extra_columns=columns, metrics=metrics,
                                  resampled=resampled,
                                  intervals={key: percentile_interval(values) for key, values in resampled.items()})
        metrics = read_class_metrics(folder)
        floors = ", ".join([f"{title} {metrics[key]:.4f}" for title, key in FLOOR_METRICS.items()
                            if metrics.get(key) is not None]
                           + ([f"validation / training error {metrics[MEMORISATION_RATIO]:.2f}x"]
                              if metrics.get(MEMORISATION_RATIO) is not None else []))
        auc_text = ("no AUC (normal test images only)" if auc is None
                    else f"AUC {interval_cell(auc, metrics['auc_interval'])}" + (f" ({floors})" if floors else ""))
        pixel = ("" if metrics.get("pixel_auroc") is None
                 else f", pixel AUROC {interval_cell(metrics['pixel_auroc'], metrics.get('pixel_auroc_interval'))}")
        f1 = "" if metrics["f1"] is None else f", F1 {metrics['f1']:.3f} (flagging all: {metrics['f1_flag_all']:.3f})"
        if metrics["flagged_fraction"] == 1.0:
            print(f"warning: {self.describe(class_index)}: s_{score}'s threshold ({decision.threshold.chosen_by}) flags "
                  "every test image: the scores do not separate anomalies well enough to gain F1 over flagging all; "
                  "pass --threshold to choose one")
        measured = ""
        if metrics.get("target_false_positive_rate") is not None:
            rates = [f"false-positive rate {metrics['false_positive_rate']:.3f} on the normal test images (target "
                     f"{metrics['target_false_positive_rate']:g})" if metrics["false_positive_rate"] is not None
                     else None, None if metrics["recall"] is None else f"recall {metrics['recall']:.3f}"]
            measured = "; " + ", ".join(rate for rate in rates if rate) if any(rates) else ""
        print(f"{self.describe(class_index)}: s_{score} {auc_text}{pixel}{f1} at threshold "
              f"{decision.threshold.normalised:.3f} ({decision.threshold.chosen_by}; "
              f"{metrics['flagged_fraction']:.0%} flagged{measured}), {metrics['images_per_second']:.0f} images/s; "
              f"results in {folder}")
        return metrics

    def test_classes(self, classes: list[int]) -> list[Path]:
        """Test each class, then write summary.json / summary.md / summary.html of each score beside its
        per-class folders.

        If a class fails, the classes tested before it are summarised before the error goes on.
        """
        per_class = {score: {} for score in self.config.scores}
        try:
            for index in classes:
                for score, metrics in self.test_class(index).items():
                    per_class[score][index] = metrics
        except Exception:
            if any(per_class.values()):
                print(f"testing failed after {len(next(iter(per_class.values())))} classes; summarising them")
                for score, metrics in per_class.items():
                    self.write_score_summary(score, metrics)
            raise
        return [self.write_score_summary(score, metrics) for score, metrics in per_class.items()]

    def write_score_summary(self, score: str, tested: dict[int, dict]) -> Path:
        """summary.json, summary.md and summary.html of one score over the classes `tested` ({class index: its
        metrics}) and every other class of the run whose results are of these settings; if some class of the run
        has results of other settings, partial_summary.* instead, so that the run's summary is never replaced
        by one of fewer classes."""
        config = self.config
        per_class = {**self.finished_classes(score), **tested}
        others = [index for index in range(len(self.dataset.class_names))
                  if index not in per_class and read_class_metrics(self.class_results_folder(index, score))]
        name = PARTIAL_SUMMARY_NAME if others else SUMMARY_NAME
        if others:
            print(f"note: s_{score}: classes {', '.join(map(str, others))} of this run were tested with other "
                  f"settings (or on a model whose training had not finished), so this summary of "
                  f"{len(per_class)} classes goes to {name}.*, beside the run's {SUMMARY_NAME}.*; test them again "
                  "with these settings for a summary of every class")
        row = self.method.paper_row(config.dataset, config, score)
        paper = None if row is None or row.per_class is None else row.reference()
        names = {index: self.dataset.class_names[index] for index in per_class}
        columns = {title: {names[index]: metrics.get(key) for index, metrics in per_class.items()}
                   for title, key in {**FLOOR_METRICS, **SUMMARY_COLUMNS}.items()
                   if any(metrics.get(key) is not None for metrics in per_class.values())}
        folders = {names[index]: self.class_results_folder(index, score) for index in per_class}
        json_path, markdown_path = write_summary(
            config.results_folder(score), {names[index]: metrics["auc"] for index, metrics in per_class.items()},
            list(self.dataset.class_names), {**config.to_dict(), "score": score, "run_id": config.run_id}, paper,
            per_class_columns=columns, class_folders={name: folders[name] for name in sorted(folders)},
            intervals=summary_intervals(
                {"auc": {names[index]: metrics["auc"] for index, metrics in per_class.items()},
                 **{SUMMARY_COLUMNS[title]: values for title, values in columns.items() if title in SUMMARY_COLUMNS}},
                {name: read_resampled(folder) for name, folder in folders.items()}),
            name=name)
        aucs = [metrics["auc"] for metrics in per_class.values() if metrics["auc"] is not None]
        mean = f"mean AUC over {len(aucs)} classes: {np.mean(aucs):.4f}" if aucs else "no AUC (normal test images only)"
        print(f"s_{score}: {mean}; summary in {markdown_path}, {markdown_path.with_suffix('.html')} and {json_path}")
        return json_path
