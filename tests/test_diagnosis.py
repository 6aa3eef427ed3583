"""--phase diagnose: AUCs per anomalous class and reconstruction errors against their definitions (the command on
a trained class is tested in test_cli.py, beside the trained class it shares)."""

import dataclasses
from pathlib import Path

import keras
import numpy as np
import pytest

import main
from data.pipeline import one_class_split
from data.sources import load_dataset
from utils.running.diagnosis import anomaly_kinds, auc_by_anomaly_kind, error_generalisation, mean_absolute_errors

TINY = ["--dataset", "digits", "--width", "4", "--batch_size", "16", "--iterations", "5", "--no_xla",
        "--run_name", "tiny"]


def test_each_kind_of_anomaly_is_ranked_against_every_normal_image():
    anomaly_labels = np.array([0, 0, 1, 1, 1, 1])
    kinds = np.array(["5", "5", "3", "3", "7", "7"])
    scores = {"score": np.array([0.0, 1.0, 2.0, 3.0, 0.5, -1.0])}
    by_kind = auc_by_anomaly_kind(anomaly_labels, kinds, scores)
    assert list(by_kind) == ["3", "7"]
    assert by_kind["3"]["score"] == 1.0
    # 0.5 outranks one of the two normal images, -1 neither: 1 of 4 pairs.
    assert by_kind["7"]["score"] == pytest.approx(0.25)


def test_the_kind_of_anomaly_is_the_other_class_or_the_defect_folder(tmp_path, named_dataset):
    classes = named_dataset("npz", ("zero", "one", "two"))
    classes = dataclasses.replace(classes, x_train=np.zeros((2, 4, 4, 1), np.uint8), y_train=np.array([0, 1]),
                                  x_test=np.zeros((3, 4, 4, 1), np.uint8), y_test=np.array([2, 0, 1]))
    assert anomaly_kinds(classes, one_class_split(classes, 0)).tolist() == ["two", "zero", "one"]

    folder = tmp_path / "bottle"
    for name in ("train/a.png", "test/good/b.png", "test/crack/c.png", "test/crack/d.png", "test/scratch/deep/e.png"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        keras.utils.save_img(folder / name, np.full((8, 8, 3), 100, np.uint8), scale=False)
    defects = load_dataset("folder", str(folder))
    split = one_class_split(defects, 0)
    kinds = dict(zip((Path(path).name for path in split.test_paths), anomaly_kinds(defects, split).tolist()))
    assert kinds == {"b.png": "good", "c.png": "crack", "d.png": "crack", "e.png": "scratch"}


def test_mean_absolute_error_is_over_every_pixel_and_channel_of_an_image():
    images = np.zeros((2, 2, 2, 3))
    reconstructions = np.zeros((2, 2, 2, 3))
    reconstructions[0, 0, 0, 0] = -1.2
    reconstructions[1] = 0.5
    np.testing.assert_allclose(mean_absolute_errors(images, reconstructions), [1.2 / 12, 0.5], rtol=1e-6)


def test_generalisation_ratios_compare_unseen_normal_with_training_and_anomalous_with_unseen_normal():
    errors = error_generalisation(np.array([0.1, 0.3]), np.array([0.4, 0.2, 0.9, 0.6]), np.array([0, 0, 1, 1]))
    assert errors == pytest.approx({"train": 0.2, "test_normal": 0.3, "test_anomalous": 0.75,
                                    "normal_over_train": 1.5, "anomalous_over_normal": 2.5})
    # Training images reconstructed exactly: no ratio to them, rather than a division by zero.
    assert error_generalisation(np.zeros(2), np.array([0.4, 0.8]), np.array([0, 1]))["normal_over_train"] is None


def test_diagnosing_an_untrained_class_says_how_to_train_it(run_main, capsys):
    assert run_main(TINY + ["--test_object", "3", "--phase", "diagnose"]) == 2
    error = capsys.readouterr().err
    assert "no trained model for class 3" in error and "Train it first" in error


def test_a_test_split_without_anomalies_is_refused_before_the_model_is_read(run_main, tmp_path, capsys):
    digits = np.zeros((4, 8, 8, 1), np.uint8)
    data = tmp_path / "normal_only.npz"
    np.savez(data, x_train=digits, y_train=np.array([0, 0, 1, 1]), x_test=digits[:2], y_test=np.array([0, 0]))
    assert run_main(["--dataset", "npz", "--data_dir", str(data), "--test_object", "0", "--phase", "diagnose"]) == 2
    error = capsys.readouterr().err
    assert "test split has one kind only" in error and "no trained model" not in error
