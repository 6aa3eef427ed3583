"""--eval_every: the learning curve's points, its files and resume, and training unchanged by it."""

import csv
import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from data.sources import ImageDataset
from models.method import ScoreResult
from utils.running.config import Config
from utils.running.experiment import Experiment, ExperimentError
from utils.running.preflight import PreflightError, check_before_run
from utils.running.learning_curve import CURVE_FILE, LearningCurve, curve_point, read_curve, write_curve
from utils.running.training import IterationCheckpoint


def test_a_point_holds_each_scores_auc_its_parts_aucs_and_its_diagnostics():
    labels = np.array([0, 0, 1, 1])
    results = {
        "rec": ScoreResult(np.array([0.1, 0.2, 0.3, 0.4]), {"image_error": np.array([0.4, 0.1, 0.2, 0.3]),
                                                            "latent_error": np.array([1.0, 2.0, 0.0, 3.0])},
                           {"images_per_second": 9.0}, parts=("image_error", "latent_error")),
        "dir": ScoreResult(np.array([0.4, 0.3, 0.2, 0.1]), {}, {"discriminator_accuracy_normal": 0.75, "images_per_second": 9.0},
                           diagnostics=("discriminator_accuracy_normal",)),
    }
    # image_error ranks the anomalies (0.2, 0.3) above one normal image (0.1) of two: 2 of 4 pairs.
    assert curve_point(results, labels) == {"s_rec_auc": 1.0, "image_error_auc": 0.5, "latent_error_auc": 0.5,
                                            "s_dir_auc": 0.0, "discriminator_accuracy_normal": 0.75}


class StubModel:
    stop_training = False


def curve(tmp_path, start, evaluations):
    callback = LearningCurve(lambda model: {"s_rec_auc": evaluations.pop(0)}, tmp_path / "curve" / CURVE_FILE,
                             "class 0", start_iteration=start, last_iteration=10, every=4)
    callback.set_model(StubModel())
    return callback


def test_points_every_n_iterations_and_at_the_last_in_a_csv_and_a_plot(tmp_path):
    callback = curve(tmp_path, 0, [0.6, 0.7, 0.8])
    assert callback.cadences == (4,)
    # fit() reports batches counted from the start of this session's training.
    for batch in range(10):
        callback.on_train_batch_end(batch)
    path = tmp_path / "curve" / CURVE_FILE
    with open(path) as file:
        assert list(csv.reader(file)) == [["iteration", "s_rec_auc"], ["4", "0.6"], ["8", "0.7"], ["10", "0.8"]]
    assert path.with_suffix(".png").stat().st_size > 0


def test_a_resumed_run_keeps_the_points_up_to_its_checkpoint_and_redoes_the_rest(tmp_path):
    callback = curve(tmp_path, 0, [0.6, 0.7])
    for batch in range(9):
        callback.on_train_batch_end(batch)
    # Killed at iteration 9 after a checkpoint at 5: the point at 8 is measured again.
    resumed = curve(tmp_path, 5, [0.75, 0.8])
    for batch in range(5):
        resumed.on_train_batch_end(batch)
    assert read_curve(tmp_path / "curve" / CURVE_FILE) == [
        {"iteration": 4.0, "s_rec_auc": 0.6}, {"iteration": 8.0, "s_rec_auc": 0.75},
        {"iteration": 10.0, "s_rec_auc": 0.8}]


def test_a_point_due_where_a_run_resumes_is_measured_if_an_interrupt_cut_it_short(tmp_path):
    callback = curve(tmp_path, 0, [0.6])
    for batch in range(4):
        callback.on_train_batch_end(batch)
    # Interrupted while measuring iteration 8, after its checkpoint was saved.
    resumed = curve(tmp_path, 8, [0.7, 0.8])
    resumed.on_train_begin()
    resumed.on_train_batch_end(1)
    assert [point["iteration"] for point in read_curve(tmp_path / "curve" / CURVE_FILE)] == [4.0, 8.0, 10.0]
    assert resumed.seconds > 0


def test_points_measured_with_other_scores_leave_empty_cells_that_are_read_back_as_absent(tmp_path):
    path = tmp_path / CURVE_FILE
    write_curve(path, [{"iteration": 4, "s_rec_auc": 0.6}, {"iteration": 8, "s_rec_auc": 0.7, "s_dir_auc": 0.9}],
                "class 0")
    assert path.read_text().splitlines()[1] == "4,,0.6"
    assert read_curve(path) == [{"iteration": 4.0, "s_rec_auc": 0.6},
                                {"iteration": 8.0, "s_dir_auc": 0.9, "s_rec_auc": 0.7}]


def test_time_spent_measuring_is_not_counted_as_training_time():
    class Saved:
        latest = None

        def save(self, iteration, session_seconds):
            self.seconds = session_seconds

    class Measuring:
        seconds = 100.0

    checkpoints = Saved()
    checkpointing = IterationCheckpoint(checkpoints, 0, 10, 5, measuring=(Measuring(),))
    checkpointing.set_model(type("Model", (), {"variables": [tf.Variable(1.0)], "stop_training": False})())
    checkpointing.save(5)
    assert -100.0 < checkpoints.seconds < -99.0


def test_eval_every_must_be_a_positive_integer():
    with pytest.raises(ValueError, match="--eval_every must be a positive integer, got 0"):
        Config(eval_every=0)


def test_a_test_split_without_anomalies_is_refused_before_training(tiny_config, tmp_path, digits):
    one_class = ImageDataset("digits", digits.x_train[:20], np.zeros(20, np.int64), digits.x_test[:10],
                             np.zeros(10, np.int64), ("zero",))
    config = tiny_config(eval_every=2, results_dir=str(tmp_path / "r"), checkpoint_dir=str(tmp_path / "c"))
    with pytest.raises(ExperimentError, match="one kind only: leave --eval_every out"):
        Experiment(config, one_class).train_class(0)
    assert not (tmp_path / "c").exists()
    # main.py's pre-flight checks say so before any class trains.
    with pytest.raises(PreflightError, match="digits class 0 .zero.'s test split has one kind only"):
        check_before_run([config], one_class, [0], "--train_object", trains=True, tests=False)


def test_eval_every_goes_with_a_phase_that_trains(run_main, capsys):
    assert run_main(["--dataset", "digits", "--phase", "test", "--eval_every", "5"]) == 2
    assert "--eval_every follows training, so it goes with --phase train or both" in capsys.readouterr().err


@pytest.mark.slow
def test_training_with_a_learning_curve_ends_with_the_same_weights_and_its_last_point_is_the_test(
        tiny_config, digits, tmp_path):
    # Every 3 iterations makes the loop run one step per call instead of two: that must not matter either.
    settings = {"iterations": 6, "checkpoint_every": 6, "score": "both"}
    plain = Experiment(tiny_config(**settings, checkpoint_dir=str(tmp_path / "plain")), digits)
    plain.train_class(0)
    followed_config = tiny_config(**settings, eval_every=3, checkpoint_dir=str(tmp_path / "followed"),
                                  results_dir=str(tmp_path / "results"))
    followed = Experiment(followed_config, digits)
    followed.train_class(0)
    for expected, actual in zip(plain.trained_model(0).variables, followed.trained_model(0).variables, strict=True):
        np.testing.assert_array_equal(expected.numpy(), actual.numpy(), err_msg=expected.path)

    points = read_curve(followed_config.learning_curve_folder() / "0_0" / CURVE_FILE)
    assert [point["iteration"] for point in points] == [3.0, 6.0]
    assert set(points[0]) == {"iteration", "s_rec_auc", "image_error_auc", "latent_error_auc", "s_dir_auc",
                              "discriminator_accuracy_normal", "discriminator_accuracy_all", "pca_floor_auc",
                              "knn_floor_auc"}
    metrics = followed.test_class(0)
    for score in ("rec", "dir"):
        assert points[-1][f"s_{score}_auc"] == pytest.approx(metrics[score]["auc"])
    assert points[-1]["pca_floor_auc"] == metrics["rec"]["pca_floor_auc"] > 0.95
    assert dataclasses.replace(followed_config, eval_every=None).run_id == plain.config.run_id
