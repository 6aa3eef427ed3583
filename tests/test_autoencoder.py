"""The plain autoencoder baseline: its loss and score against hand-computed values, its backbone against
DGAD's, and a run on the digits that learns and writes what every method's run writes."""

import csv
import json

import numpy as np
import pytest
import tensorflow as tf

from losses.autoencoder import image_errors, reconstruction_loss
from models.autoencoder.model import Autoencoder
from models.dgad.model import DGAD
from utils.running.learning_curve import CURVE_FILE


def test_the_loss_is_the_mean_absolute_error_over_the_batch_and_the_score_over_each_image():
    images = tf.constant([[[[1.0], [-1.0]], [[0.5], [0.0]]], [[[0.0], [0.0]], [[0.0], [0.0]]]])
    reconstructions = tf.constant([[[[0.5], [-1.0]], [[0.0], [1.0]]], [[[0.0], [0.0]], [[0.0], [-0.4]]]])
    # Image 1: |0.5| + 0 + |0.5| + |-1| = 2 over 4 pixels; image 2: 0.4 over 4 pixels.
    np.testing.assert_allclose(image_errors(images, reconstructions).numpy(), [0.5, 0.1], rtol=1e-6)
    assert float(reconstruction_loss(images, reconstructions)) == pytest.approx(0.3)


def test_its_backbone_is_dgads_encoder_and_decoder_at_the_same_width():
    autoencoder, dgad = Autoencoder((16, 16, 1), width=4), DGAD((16, 16, 1), width=4)
    assert autoencoder.encoder.count_params() == dgad.encoder.count_params()
    assert autoencoder.decoder.count_params() == dgad.decoder.count_params()
    assert autoencoder.count_params() == dgad.encoder.count_params() + dgad.decoder.count_params()


@pytest.mark.slow
def test_the_autoencoder_learns_the_digits_and_writes_every_result(run_main, tmp_path):
    arguments = ["--method", "autoencoder", "--dataset", "digits", "--train_object", "1", "--width", "8",
                 "--batch_size", "16", "--iterations", "100", "--run_name", "ae", "--no_xla"]
    assert run_main(arguments + ["--phase", "both", "--eval_every", "50"]) == 0
    summary = json.loads((tmp_path / "results/digits/ae/s_rec/summary.json").read_text())
    assert summary["per_class_auc"]["1"] > 0.85, summary["per_class_auc"]
    class_folder = tmp_path / "results/digits/ae/s_rec/1_1"
    with open(class_folder / "scores.csv") as file:
        rows = list(csv.DictReader(file))
    normal = [float(row["score"]) for row in rows if row["anomaly_label"] == "0"]
    anomalous = [float(row["score"]) for row in rows if row["anomaly_label"] == "1"]
    assert np.mean(normal) < np.mean(anomalous)
    metrics = json.loads((class_folder / "metrics.json").read_text())
    assert metrics["pca_floor_auc"] > 0.5 and metrics["threshold"]["chosen_by"]
    assert list((class_folder / "maps").glob("*.png"))
    with open(tmp_path / "results/digits/ae/learning_curves/1_1" / CURVE_FILE) as file:
        curve = list(csv.DictReader(file))
    assert [row["iteration"] for row in curve] == ["50", "100"] and "pca_floor_auc" in curve[0]
    checkpoint = tmp_path / "checkpoints/digits/ae/1_1"
    assert list((checkpoint / "tensorboard").rglob("events.out.tfevents.*"))
    assert run_main(arguments + ["--phase", "export"]) == 0
    assert (checkpoint / "export" / "saved_model.pb").exists()
