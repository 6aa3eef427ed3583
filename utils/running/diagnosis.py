"""--phase diagnose: why a trained class scores what it does, on its own split, beside the classical floors.

Two questions that an AUC under the floors raises:
- Which anomalies does each score miss? The AUC of the normal test images against the anomalous images of
  each kind alone (each other class, or each defect type of test/<type>/), for every score, every part of a
  score and both floors.
- Does the reconstruction generalise? The mean absolute pixel error |x - x^| of the training images, of the
  unseen normal test images and of the anomalous ones, for the model and for the PCA floor. A detector that
  reconstructs its training images far better than unseen normal ones has memorised them (the first ratio);
  one that reconstructs anomalies about as well as unseen normal images cannot tell them apart by
  reconstruction (the second ratio).
"""

import functools
import json
from pathlib import Path

import numpy as np

from utils.running.config import save_config
from utils.running.experiment import ExperimentError, class_folder_name
from utils.reporting.files import write_text_atomically
from utils.reporting.markdown import cell_text
from utils.reporting.reports import roc_auc
from utils.scoring.floors import (FLOOR_METRICS, FLOOR_MIN_TRAINING_IMAGES, fitted_pca, knn_mean_distances,
                                  pca_reconstructions, pca_squared_errors)

DIAGNOSIS_FILES = ("diagnosis.md", "diagnosis.json")


def auc_by_anomaly_kind(anomaly_labels, kinds, scores: dict[str, np.ndarray]) -> dict:
    """{kind: {score name: AUC of all normal test images against the anomalous images of that kind alone}}, for
    each kind that anomalous test images have (their class, or their defect type)."""
    anomaly_labels, kinds = np.asarray(anomaly_labels), np.asarray(kinds)
    is_normal = anomaly_labels == 0
    by_kind = {}
    for kind in np.unique(kinds[~is_normal]).tolist():
        kept = is_normal | ((kinds == kind) & ~is_normal)
        by_kind[kind] = {name: roc_auc(anomaly_labels[kept], np.asarray(values)[kept])
                         for name, values in scores.items()}
    return by_kind


def anomaly_kinds(dataset, split) -> np.ndarray:
    """The kind of each test image: its defect type (the sub-folder of test/) for datasets that mark defects
    within a class, else its class name."""
    if split.test_kinds is not None:
        return split.test_kinds
    return np.asarray(dataset.class_names)[split.test_class_labels]


def mean_absolute_errors(images, reconstructions) -> np.ndarray:
    """The mean of |x - x^| over each image's pixels and channels."""
    differences = np.abs(np.asarray(images, np.float32) - np.asarray(reconstructions, np.float32))
    return differences.reshape(len(differences), -1).mean(axis=1)


def error_generalisation(train_errors, test_errors, anomaly_labels) -> dict[str, float | None]:
    """The mean error of the training, the normal test and the anomalous test images, and the two ratios that
    say whether reconstruction generalises (unseen normal / training) and separates (anomalous / unseen normal);
    a ratio is None where its denominator is 0."""
    test_errors, anomaly_labels = np.asarray(test_errors), np.asarray(anomaly_labels)
    train = float(np.mean(train_errors))
    normal = float(test_errors[anomaly_labels == 0].mean())
    anomalous = float(test_errors[anomaly_labels == 1].mean())
    return {"train": train, "test_normal": normal, "test_anomalous": anomalous,
            "normal_over_train": normal / train if train else None,
            "anomalous_over_normal": anomalous / normal if normal else None}


def diagnose(experiment, class_index: int) -> dict:
    """The diagnosis of one trained class (refused, as --phase test is, when it is not trained)."""
    config = experiment.config
    description = experiment.describe(class_index)
    split = experiment.split(class_index)
    labels = split.test_anomaly_labels
    if len(np.unique(labels)) < 2:
        raise ExperimentError(f"--phase diagnose compares normal with anomalous test images, and {description}'s "
                              "test split has one kind only")
    model = experiment.trained_model(class_index)
    images = experiment.scoring_images(split)
    try:
        results = experiment.scorer(model).score(images, config.scores)
        scores = {f"s_{score}": result.anomaly_scores for score, result in results.items()}
        for result in results.values():
            scores.update({part: result.columns[part] for part in result.parts})
        maps = experiment.map_pass(model)
        reconstructors = {"model": lambda x: maps(x)[0]}
        pca = None
        if len(images.train) >= FLOOR_MIN_TRAINING_IMAGES:
            pca_floor, knn_floor = FLOOR_METRICS
            pca = fitted_pca(images.train)
            scores[pca_floor] = pca_squared_errors(pca, images.test)
            scores[knn_floor], _ = knn_mean_distances(images.train, images.test)
            reconstructors[pca_floor] = functools.partial(pca_reconstructions, pca)
        errors = {name: error_generalisation(*(mean_absolute_errors(x, reconstruct(x))
                                               for x in (images.train, images.test)), labels)
                  for name, reconstruct in reconstructors.items()}
        return {
            "class": description,
            "trained_iterations": model.iterations_done(),
            "scores": [f"s_{score}" for score in config.scores],
            "auc": {name: roc_auc(labels, values) for name, values in scores.items()},
            "auc_by_anomaly_kind": auc_by_anomaly_kind(labels, anomaly_kinds(experiment.dataset, split), scores),
            "training_images": len(split.train_images),
            "pca_components": None if pca is None else int(pca.n_components_),
            "reconstruction_error": errors,
        }
    except ValueError as error:
        raise ExperimentError(f"cannot diagnose {description}: {error}") from error


def diagnosis_markdown(diagnosis: dict) -> str:
    """The diagnosis as the Markdown that --phase diagnose prints and writes."""
    names = list(diagnosis["auc"])
    components = diagnosis["pca_components"]
    floors = "no floors: fewer than 2 training images" if components is None else \
        f"the PCA floor keeps {components} components"
    lines = [f"# Diagnosis of {diagnosis['class']}", "",
             f"After {diagnosis['trained_iterations']} training iterations, on {diagnosis['training_images']} training "
             f"images ({floors}). AUC of the normal test images against each kind of anomaly alone:", "",
             "| anomalies | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names),
             "| all | " + " | ".join(cell_text(diagnosis["auc"][name]) for name in names) + " |"]
    for kind, aucs in diagnosis["auc_by_anomaly_kind"].items():
        lines.append(f"| {kind} | " + " | ".join(cell_text(aucs[name]) for name in names) + " |")
    lines += ["", "Mean absolute pixel error |x - x^| of the reconstructions:", "",
              "| reconstructed by | training images | unseen normal | anomalous | unseen normal / training "
              "| anomalous / unseen normal |", "|---|---:|---:|---:|---:|---:|"]
    for name, errors in diagnosis["reconstruction_error"].items():
        lines.append(f"| {name} | " + " | ".join(
            [cell_text(errors[key]) for key in ("train", "test_normal", "test_anomalous")]
            + [cell_text(errors[key], 2) + ("x" if errors[key] is not None else "")
               for key in ("normal_over_train", "anomalous_over_normal")]) + " |")
    return "\n".join(lines) + "\n"


def write_diagnosis(experiment, class_index: int, diagnosis: dict) -> Path:
    """diagnosis.md and diagnosis.json in the class's diagnosis folder; return the Markdown's path."""
    folder = experiment.config.diagnosis_folder() / class_folder_name(experiment.dataset, class_index)
    markdown, data = (folder / name for name in DIAGNOSIS_FILES)
    save_config(experiment.config, folder)
    write_text_atomically(data, json.dumps(diagnosis, indent=2) + "\n")
    write_text_atomically(markdown, diagnosis_markdown(diagnosis))
    return markdown
