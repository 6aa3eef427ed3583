"""A trained and tested class in use: score new image files (--phase predict) and export it as a
TensorFlow SavedModel (--phase export).

Both read the class's checkpoint folder only (its checkpoint, config.json and detector.json), never
the dataset: the normalisation range, the threshold and what a score fitted on the training images
were stored by the test phase. An image's score therefore depends on that image alone.
"""

import dataclasses
import datetime
import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from data.pipeline import scaled_pixel_values, to_model_geometry, to_model_images, to_source_geometry
from data.sources import decode_image_bytes, find_image_files, read_images, to_source_image
from models.method import ScoringImages
from models.registry import get_method
from models.settings import SCORING
from utils.reporting.files import safe_file_name, write_text_atomically
from utils.reporting.plots import plot_anomaly_maps
from utils.reporting.reports import columns_csv
from utils.running.config import Config, load_config_dict, save_config
from utils.running.detector import DETECTOR_FILE, DetectorState, load_detector_state
from utils.running.experiment import ExperimentError, build_model, existing_runs_note
from utils.running.training import Checkpoints, NoReadableCheckpoint, tensorflow_message
from utils.scoring.maps import MapPass, anomaly_maps
from utils.scoring.thresholds import Threshold

EXPORT_FOLDER = "export"
# How many of the most anomalous images the summary of a prediction names.
NAMED_IN_SUMMARY = 3


class InferenceError(Exception):
    """A trained class cannot be used as asked; the message says why and what to do."""


def tested_class_folder(config: Config, requested: str | None) -> Path:
    """The checkpoint folder of the tested class that `requested` names (an index or a class name), or of the
    only tested class of the run when it is None."""
    run = config.checkpoint_folder()
    tested = sorted(folder for folder in run.glob("*") if (folder / DETECTOR_FILE).exists()) if run.is_dir() else []
    if not tested:
        trained = sorted(folder.name for folder in run.glob("*") if folder.is_dir()) if run.is_dir() else []
        if not trained and existing_runs_note(config):
            raise InferenceError(f"no class of the run {run.name} was trained in {run.parent}. "
                                 f"{existing_runs_note(config)}")
        what = (f"its classes {', '.join(trained)} are trained but not tested" if trained
                else "it holds no trained class")
        raise InferenceError(f"{run} cannot score new images: {what}. Test it first with the same flags and "
                             f"--phase test (or train and test: --phase both)")
    if requested is None:
        if len(tested) == 1:
            return tested[0]
        raise InferenceError(f"{run} holds {len(tested)} tested classes ({', '.join(f.name for f in tested)}); "
                             "choose one with --test_object (an index or a name)")
    for folder in tested:
        index, name = folder.name.split("_", 1)
        if requested in (index, name, folder.name):
            return folder
    raise InferenceError(f"--test_object {requested} is not a tested class of {run}; tested classes: "
                         f"{', '.join(folder.name for folder in tested)}")


class TrainedDetector:
    """The model of one tested class, restored from its latest checkpoint, with its stored scoring state."""

    def __init__(self, config: Config, folder: Path):
        self.config = config
        self.folder = folder
        try:
            self.state: DetectorState = load_detector_state(folder)
        except (ValueError, KeyError, TypeError) as error:
            raise InferenceError(f"{folder / DETECTOR_FILE} is damaged ({type(error).__name__}: {error}); run "
                                 "--phase test again to write it anew") from error
        saved = load_config_dict(folder)
        if saved is not None and config.training_differences(saved):
            raise InferenceError(f"{folder} holds a run trained with other settings "
                                 f"({'; '.join(config.training_differences(saved))}); pass the settings it was "
                                 "trained with")
        untested = [score for score in config.scores if score not in self.state.scores]
        if untested:
            raise InferenceError(f"{folder} was not tested with {', '.join('s_' + s for s in untested)}; run "
                                 f"--phase test with --score {config.score} first (tested: "
                                 f"{', '.join('s_' + s for s in self.state.scores)})")
        for score in config.scores:
            stored = self.state.scores[score].scoring_settings
            method_fields = config.settings.names(SCORING)
            changed = [f"{name}: tested with {stored.get(name)!r}, now {getattr(config, name)!r}"
                       for name in method_fields if stored.get(name) != getattr(config, name)]
            if changed:
                raise InferenceError(f"s_{score} of {folder} was tested with other scoring settings "
                                     f"({'; '.join(changed)}); pass those, or run --phase test with these first")
        try:
            self.model = build_model(config, self.state.image_shape)
        except ExperimentError as error:
            raise InferenceError(str(error)) from error
        try:
            self.trained_iterations = Checkpoints(self.model, folder).restore_latest()
        except NoReadableCheckpoint as error:
            raise InferenceError(str(error)) from error
        if self.trained_iterations != self.state.trained_iterations:
            raise InferenceError(f"the checkpoint of {folder} is at iteration {self.trained_iterations} but it was "
                                 f"tested at iteration {self.state.trained_iterations}; run --phase test again")
        self.scorer = get_method(config.method).scorer(self.model, config)

    def threshold(self, score: str) -> Threshold:
        """The stored threshold of `score`, or the one --threshold gives (on the normalised scale)."""
        stored = self.state.scores[score]
        if self.config.threshold is None:
            return stored.threshold
        return Threshold.given(stored.normalisation, self.config.threshold)

    def model_images(self, source_images: np.ndarray) -> tf.Tensor:
        return to_model_images(source_images, self.config.image_size)

    def raw_scores(self, model_images) -> dict[str, np.ndarray]:
        """{score: raw anomaly scores}, from the same compiled passes as the test phase."""
        images = ScoringImages(model_images, _no_training_images, np.ones(int(model_images.shape[0]), bool))
        fitted = {score: state.fitted for score, state in self.state.scores.items()}
        return {score: result.anomaly_scores
                for score, result in self.scorer.score(images, self.config.scores, fitted).items()}


def _no_training_images():
    raise AssertionError("a stored score read the training images; its fitted state should have been used")


# Predict's alarm-rate check: the fewest images it judges, and the p-value below which it warns.
ALARM_CHECK_IMAGES = 20
ALARM_P_VALUE = 0.01


def predict(detector: TrainedDetector, images_spec: str, save_maps: bool) -> Path:
    """Score the image files `images_spec` names (a file, a folder or a glob); write predictions.csv (and with
    save_maps an overlay per image) into a new folder of the run's predictions; print a summary; return the CSV."""
    config, state = detector.config, detector.state
    paths = find_image_files(images_spec)
    height, width, channels = state.source_shape
    source_images, original_sizes = read_images(paths, height, width, channels)
    model_images = detector.model_images(source_images)
    raw = detector.raw_scores(model_images)
    # To the microsecond: two calls in one second must not write into one folder.
    folder = config.predictions_folder() / detector.folder.name / datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    columns = {"path": [str(path) for path in paths]}
    print(f"scored {len(paths)} images with the model of class {state.class_name} "
          f"({config.checkpoint_folder().name})")
    for score, raw_scores in raw.items():
        threshold = detector.threshold(score)
        normalised = state.scores[score].normalisation(raw_scores)
        flags = threshold.flags(raw_scores)
        columns |= {f"raw_score_{score}": raw_scores, f"normalised_score_{score}": normalised,
                    f"anomalous_{score}": np.where(flags, "yes", "no")}
        highest = np.argsort(-raw_scores, kind="stable")[:NAMED_IN_SUMMARY]
        print(f"s_{score}: {int(flags.sum())} of {len(flags)} anomalous at threshold {threshold.normalised:.3f} "
              f"(normalised; {threshold.chosen_by}); highest: "
              + ", ".join(f"{paths[index].name} {normalised[index]:.3f}" for index in highest))
        if config.threshold is None:
            warning = alarm_rate_warning(score, int(flags.sum()), len(flags),
                                         state.scores[score].expected_false_positive_rate)
            if warning:
                print(warning)
    write_text_atomically(folder / "predictions.csv", columns_csv(columns))
    save_config(config, folder)
    if save_maps:
        save_prediction_maps(detector, paths, source_images, model_images, original_sizes, raw, folder / "maps")
        print(f"anomaly maps in {folder / 'maps'}")
    print(f"predictions in {folder / 'predictions.csv'}")
    return folder / "predictions.csv"


def alarm_rate_warning(score: str, flagged: int, total: int, expected_rate: float | None) -> str | None:
    """A warning when far more of `total` images are flagged than the stored threshold flags of held-out normal
    images (a one-sided binomial test at ALARM_P_VALUE), or None; too few images, or no expected rate, warn of
    nothing."""
    from scipy.stats import binomtest

    if expected_rate is None or total < ALARM_CHECK_IMAGES:
        return None
    p_value = float(binomtest(flagged, total, expected_rate, alternative="greater").pvalue)
    if p_value >= ALARM_P_VALUE:
        return None
    return (f"warning: s_{score} flagged {flagged} of {total} images ({flagged / total:.0%}), far more than the "
            f"{expected_rate:.1%} of held-out normal images its threshold flags (binomial test p = {p_value:.2g}): "
            "these images hold many anomalies, or differ from the training images (another camera, lighting, "
            "size), or the threshold is stale; if they are normal, retrain or test again on images like them")


def save_prediction_maps(detector, paths, source_images, model_images, original_sizes, raw, folder: Path):
    """One overlay per image at the size of its file: the image, its reconstruction and its anomaly map."""
    height, width, channels = detector.state.source_shape
    reconstructions, maps = MapPass(detector.model, detector.config.batch_size, detector.config.jit_compile)(
        model_images)
    reconstructions = to_source_geometry((reconstructions + 1.0) / 2.0, height, width)
    maps = to_source_geometry(maps, height, width)
    used = set()
    for index, path in enumerate(paths):
        file_height, file_width = (int(size) for size in original_sizes[index])
        image = read_images([path], file_height, file_width, channels)[0][0] / 255.0
        at_file_size = [tf.image.resize(values[index][None, ..., None] if values.ndim == 3 else values[index][None],
                                        (file_height, file_width), antialias=True).numpy()[0]
                        for values in (reconstructions, maps)]
        caption = ", ".join(f"s_{score} {raw[score][index]:.4g}" for score in raw)
        name = _unique_name(path, used)
        plot_anomaly_maps(image[None], np.clip(at_file_size[0], 0, 1)[None], at_file_size[1][None, ..., 0],
                          [f"{path.name}: {caption}"], folder / f"{name}.png", path.name)


def _unique_name(path: Path, used: set) -> str:
    """A file name for the overlay of `path`: its stem, numbered when two images share one."""
    base = safe_file_name(path.stem)
    name, number = base, 1
    while name in used:
        number += 1
        name = f"{base}_{number}"
    used.add(name)
    return name


def export(detector: TrainedDetector) -> Path:
    """Write the class's model as a SavedModel with two signatures that return, per score s, score_s (raw),
    normalised_score_s and anomalous_s, and anomaly_map: `serve_bytes` takes encoded image files and reads them
    exactly as predict does, `serve` takes uint8 images at the model's size. config.json and detector.json go
    into the same folder."""
    config, state = detector.config, detector.state
    raw_scores = detector.scorer.serving_scores(config.scores, {score: state.scores[score].fitted
                                                                for score in config.scores})
    model = detector.model
    decisions = {score: (state.scores[score].normalisation, detector.threshold(score)) for score in config.scores}
    height, width, channels = state.source_shape
    pixel_values = scaled_pixel_values()

    def scaled(images):
        return tf.gather(pixel_values, tf.cast(images, tf.int32))

    def scored(model_images):
        outputs = {"anomaly_map": anomaly_maps(model_images, model.reconstruction(model_images))}
        for score, raw in raw_scores(model_images).items():
            normalisation, threshold = decisions[score]
            outputs[f"score_{score}"] = raw
            outputs[f"normalised_score_{score}"] = normalisation.scale(raw)
            outputs[f"anomalous_{score}"] = raw >= threshold.raw
        return outputs

    def serve(images):
        return scored(scaled(images))

    def serve_bytes(encoded_files):
        # File by file: files of different sizes and modes become one batch of the dataset's geometry, as
        # read_images makes it; then predict's steps (detector.model_images).
        source_images = tf.map_fn(
            lambda encoded: to_source_image(decode_image_bytes(encoded), height, width, channels), encoded_files,
            fn_output_signature=tf.TensorSpec((height, width, channels), tf.uint8))
        return scored(to_model_geometry(scaled(source_images), config.image_size))

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", serve, input_signature=[tf.TensorSpec((None, *state.image_shape), tf.uint8)])
    archive.add_endpoint("serve_bytes", serve_bytes, input_signature=[tf.TensorSpec((None,), tf.string)])
    folder = detector.folder / EXPORT_FOLDER
    if folder.exists():
        print(f"note: replacing the export in {folder}")
    try:
        archive.write_out(str(folder), verbose=False)
    except tf.errors.OpError as error:
        raise OSError(f"cannot write the SavedModel to {folder}: {tensorflow_message(error)}") from error
    save_config(config, folder)
    exported = dataclasses.replace(state, scores={score: dataclasses.replace(
        state.scores[score], threshold=detector.threshold(score)) for score in config.scores})
    write_text_atomically(folder / DETECTOR_FILE, json.dumps(exported.to_dict(), indent=2) + "\n")
    outputs = ", ".join(f"score_{s}, normalised_score_{s}, anomalous_{s}" for s in config.scores)
    print(f"exported the model of class {state.class_name} to {folder}: its `serve_bytes` signature takes encoded "
          f"PNG, JPEG or BMP files (a 1-D string tensor, any size and mode), its `serve` signature uint8 images of "
          f"shape [batch, {', '.join(map(str, state.image_shape))}]; both return {outputs} and anomaly_map")
    return folder
