"""The classical floors: PCA reconstruction error and kNN distance against their definitions, and on real data."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from data.pipeline import one_class_split, to_model_images
from models.method import ScoringImages
from utils.running.config import config_for_dataset
from utils.running.experiment import Experiment
from utils.scoring.floors import (FLOORS_LEFT_OUT, KNN_NEIGHBOURS, fitted_pca, floor_metrics, knn_mean_distances,
                                  pca_reconstruction_errors, pca_reconstructions, pca_squared_errors)


def test_pca_error_is_the_squared_distance_to_the_training_images_principal_plane():
    # Four training images spanning a plane with equal variance along both of its axes.
    mean, first, second = np.full(6, 0.5), np.eye(6)[0], np.eye(6)[1]
    train = np.stack([mean + a * first + b * second for a in (-1, 1) for b in (-1, 1)])
    off_plane = 0.3 * np.eye(6)[4] - 0.4 * np.eye(6)[5]
    test = np.stack([mean + 0.2 * first - 0.7 * second, mean + 0.2 * first + off_plane])
    errors, components = pca_reconstruction_errors(train.reshape(4, 2, 3, 1), test.reshape(2, 2, 3, 1))
    assert components == 2
    np.testing.assert_allclose(errors, [0.0, 0.3**2 + 0.4**2], atol=1e-6)


def test_pca_reconstruction_is_the_projection_on_the_training_images_principal_plane():
    mean, first, second = np.full(6, 0.5), np.eye(6)[0], np.eye(6)[1]
    train = np.stack([mean + a * first + b * second for a in (-1, 1) for b in (-1, 1)]).reshape(4, 2, 3, 1)
    in_plane = mean + 0.2 * first - 0.7 * second
    pca = fitted_pca(train)
    reconstructions = pca_reconstructions(pca, np.stack([in_plane, in_plane + 0.3 * np.eye(6)[4]]).reshape(2, 2, 3, 1))
    assert reconstructions.shape == (2, 2, 3, 1)
    np.testing.assert_allclose(reconstructions.reshape(2, 6), [in_plane, in_plane], atol=1e-6)
    np.testing.assert_allclose(pca_squared_errors(pca, (in_plane + 0.3 * np.eye(6)[4]).reshape(1, 2, 3, 1)),
                               [0.09], atol=1e-6)


def test_knn_score_is_the_mean_distance_to_the_nearest_training_images():
    train = np.array([[0.0], [1.0], [3.0]])
    distances, used = knn_mean_distances(train, np.array([[2.0], [-1.0]]), neighbours=2)
    np.testing.assert_allclose(distances, [1.0, (1.0 + 2.0) / 2])
    assert used == 2
    # More neighbours than training images: all of them.
    distances, used = knn_mean_distances(train, np.array([[2.0]]), neighbours=KNN_NEIGHBOURS)
    np.testing.assert_allclose(distances, [(2.0 + 1.0 + 1.0) / 3])
    assert used == 3


def test_floors_on_a_digits_class_rank_anomalies_first_as_a_separate_computation_does(digits):
    split = one_class_split(digits, 8, "one_vs_all")
    train, test = (to_model_images(images, 32).numpy() for images in (split.train_images, split.test_images))
    floors = floor_metrics(train, test, split.test_anomaly_labels)
    # The same detectors written out with numpy alone.
    flat_train, flat_test = train.reshape(len(train), -1), test.reshape(len(test), -1)
    centred = flat_train - flat_train.mean(axis=0)
    _, singular_values, axes = np.linalg.svd(centred, full_matrices=False)
    explained = np.cumsum(singular_values**2) / np.sum(singular_values**2)
    kept = axes[:int(np.searchsorted(explained, 0.95)) + 1]
    residual = (flat_test - flat_train.mean(axis=0)) @ (np.eye(kept.shape[1]) - kept.T @ kept)
    squared = (flat_test**2).sum(1)[:, None] + (flat_train**2).sum(1)[None] - 2 * flat_test @ flat_train.T
    distances = np.sqrt(np.maximum(squared, 0.0))
    knn = np.sort(distances, axis=1)[:, :KNN_NEIGHBOURS].mean(axis=1)
    assert floors["pca_floor_components"] == len(kept)
    assert floors["pca_floor_auc"] == pytest.approx(roc_auc_score(split.test_anomaly_labels, (residual**2).sum(1)),
                                                    abs=1e-4)
    assert floors["knn_floor_auc"] == pytest.approx(roc_auc_score(split.test_anomaly_labels, knn), abs=1e-4)
    assert floors["pca_floor_auc"] > 0.95 and floors["knn_floor_auc"] > 0.95


def test_a_test_split_of_normal_images_only_has_no_floor_auc(random_images):
    images = random_images(6).numpy()
    floors = floor_metrics(images[:4], images[4:], np.zeros(2, np.int64))
    assert floors["pca_floor_auc"] is None and floors["knn_floor_auc"] is None
    with pytest.raises(ValueError, match="at least 2 training images"):
        pca_reconstruction_errors(images[:1], images[4:])
    # One training image: no floors, and the method's test phase goes on.
    assert floor_metrics(images[:1], images[4:], np.array([0, 1])) == {"pca_floor_auc": None, "knn_floor_auc": None}


def test_a_class_of_identical_images_has_its_floors_left_out_with_a_note_and_no_warning(digits, random_images,
                                                                                         capsys):
    identical = np.repeat(random_images(1).numpy(), 5, axis=0)
    test = random_images(4, seed=(5, 5)).numpy()
    labels = np.array([0, 0, 1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        floors = floor_metrics(identical, test, labels)
    assert floors["pca_floor_auc"] is None and floors["knn_floor_auc"] is None
    assert floors[FLOORS_LEFT_OUT] == ("its 5 training images are all identical, so the PCA and kNN floors, which "
                                       "learn from their differences, are left out")
    experiment = Experiment(config_for_dataset("digits"), digits)
    experiment.floors(3, ScoringImages(test, identical, labels == 0), labels)
    assert capsys.readouterr().out == f"note: digits class 3 (3): {floors[FLOORS_LEFT_OUT]}\n"
    # Two images that differ are enough for both floors.
    assert floor_metrics(np.concatenate([identical[:1], test[:1]]), test, labels)["pca_floor_auc"] is not None
