"""The validation split (--val_fraction) and what it is for: thresholds at --target_fpr and a normalisation
that never see the test split, the memorisation monitor, and predict's alarm-rate check."""

import csv
import dataclasses
import json

import numpy as np
import pytest

import main
from data.pipeline import hold_out_validation, one_class_split, validation_size
from utils.running.config import VALIDATION_FRACTIONS, Config, config_for_dataset
from utils.running.evaluation import decide
from utils.running.inference import alarm_rate_warning
from utils.running.preflight import PreflightError, check_classes_trainable
from utils.scoring.thresholds import MINIMUM_VALIDATION_IMAGES, ORACLE_RULE


def test_a_seeded_share_of_the_normal_training_images_is_held_out(digits):
    split = one_class_split(digits, 3)
    held = hold_out_validation(split, 0.2, seed=0)
    assert len(held.validation_images) == validation_size(len(split.train_images), 0.2) == round(0.2 * 110)
    assert len(held.train_images) + len(held.validation_images) == len(split.train_images)
    # Every image lands on exactly one side.
    together = np.concatenate([held.train_images, held.validation_images]).reshape(len(split.train_images), -1)
    assert sorted(map(bytes, together)) == sorted(map(bytes, split.train_images.reshape(len(split.train_images), -1)))
    np.testing.assert_array_equal(hold_out_validation(split, 0.2, seed=0).validation_images, held.validation_images)
    assert not np.array_equal(hold_out_validation(split, 0.2, seed=1).validation_images, held.validation_images)
    # The test split is untouched, and a fraction of 0 keeps the papers' protocol exactly.
    np.testing.assert_array_equal(held.test_images, split.test_images)
    assert hold_out_validation(split, 0.0, seed=0) is split


def test_the_papers_datasets_hold_nothing_out_and_a_folder_does():
    assert Config(dataset="digits").val_fraction == 0.0 and Config(dataset="cifar10").val_fraction == 0.0
    assert config_for_dataset("folder", data_dir="/data").val_fraction == VALIDATION_FRACTIONS["folder"] > 0
    assert config_for_dataset("folder", data_dir="/data", val_fraction=0.0).val_fraction == 0.0
    # It changes the training set; target_fpr only the decisions.
    assert "val_fraction" in Config().training_fields and "target_fpr" in Config().scoring_fields


@pytest.mark.parametrize("arguments, message", [
    (["--val_fraction", "1.5"], "error: --val_fraction must be in [0, 1)"),
    (["--val_fraction", "-0.1"], "error: --val_fraction must be in [0, 1)"),
    (["--target_fpr", "0"], "error: --target_fpr must be in (0, 1)"),
    (["--target_fpr", "1"], "error: --target_fpr must be in (0, 1)"),
])
def test_bad_values_are_one_line_errors_before_training(arguments, message, capsys, tmp_path):
    assert main.main(["--dataset", "digits", "--results_dir", str(tmp_path), *arguments]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(message) and len(error.splitlines()) == 1


def test_too_few_images_to_train_or_to_validate_are_refused_before_training(digits):
    # Class 3 has 110 normal training images.
    with pytest.raises(PreflightError, match="fewer training images than the batch size 100 after --val_fraction 0.1 "
                                             "holds some out.*or a smaller --val_fraction"):
        check_classes_trainable(Config(dataset="digits", batch_size=100, val_fraction=0.1), digits, [3], "--x")
    with pytest.raises(PreflightError, match=f"--val_fraction 0.05 holds out only 6 of the 110 normal training "
                                             f"images of class 3 .3., and a threshold needs at least "
                                             f"{MINIMUM_VALIDATION_IMAGES}; pass --val_fraction 0.1 or more"):
        check_classes_trainable(Config(dataset="digits", batch_size=32, val_fraction=0.05), digits, [3], "--x")
    check_classes_trainable(Config(dataset="digits", batch_size=32, val_fraction=0.2), digits, [3], "--x")
    # Where no share could hold out enough and still train, only --val_fraction 0 is suggested.
    tiny = dataclasses.replace(digits, x_train=digits.x_train[:15], y_train=np.full(15, 3))
    with pytest.raises(PreflightError, match=r"holds out only 2 of the 15 .*needs at least 10; pass --val_fraction 0 "):
        check_classes_trainable(Config(dataset="digits", batch_size=8, val_fraction=0.1), tiny, [3], "--x")


def test_with_a_validation_split_the_threshold_and_the_normalisation_come_from_it_alone():
    rng = np.random.default_rng(0)
    validation = rng.normal(0.0, 1.0, 400)
    test = np.concatenate([rng.normal(0.0, 1.0, 300), rng.normal(3.0, 1.0, 100)])
    labels = np.repeat([0, 1], [300, 100])
    decision = decide(test, labels, None, 95.0, validation, 0.1)
    assert decision.threshold.raw == pytest.approx(np.quantile(validation, 0.9))
    assert (decision.normalisation.minimum, decision.normalisation.maximum) == (validation.min(), validation.max())
    # Moving the test scores moves neither.
    moved = decide(test * 2 + 5, labels, None, 95.0, validation, 0.1)
    assert moved.threshold == decision.threshold and moved.normalisation == decision.normalisation
    # Measured on the test split, beside the target, and the oracle reported as such.
    assert decision.metrics["target_false_positive_rate"] == 0.1
    assert decision.metrics["false_positive_rate"] == pytest.approx(np.mean(test[:300] >= decision.threshold.raw))
    assert decision.metrics["recall"] == pytest.approx(np.mean(test[300:] >= decision.threshold.raw))
    assert decision.metrics["oracle"]["threshold"]["chosen_by"] == ORACLE_RULE
    assert decision.expected_false_positive_rate == pytest.approx(0.1, abs=0.005)
    # Without one, the F1-optimal threshold on the test split is the rule, named an oracle.
    plain = decide(test, labels, None, 95.0)
    assert plain.threshold.chosen_by == ORACLE_RULE and "target_false_positive_rate" not in plain.metrics


def test_predict_warns_when_far_more_images_are_flagged_than_normal_images_would_be():
    warning = alarm_rate_warning("rec", 10, 40, 0.05)
    assert warning.startswith("warning: s_rec flagged 10 of 40 images (25%), far more than the 5.0%")
    assert "binomial test p = 2.1e-05" in warning and len(warning.splitlines()) == 1
    # Within chance, too few images, or no expected rate: nothing to say.
    assert alarm_rate_warning("rec", 4, 40, 0.05) is None
    assert alarm_rate_warning("rec", 5, 10, 0.05) is None
    assert alarm_rate_warning("rec", 30, 40, None) is None


@pytest.mark.slow
def test_a_run_with_a_validation_split_reports_its_rates_and_memorisation(run_main, tmp_path):
    arguments = ["--dataset", "digits", "--train_object", "3", "--width", "4", "--batch_size", "16", "--iterations",
                 "20", "--val_fraction", "0.2", "--target_fpr", "0.1", "--run_name", "val", "--no_xla"]
    assert run_main(arguments + ["--phase", "both", "--eval_every", "10"]) == 0
    metrics = json.loads((tmp_path / "results/digits/val/s_rec/3_3/metrics.json").read_text())
    assert metrics["threshold"]["chosen_by"].startswith("0.9 quantile of the validation images' scores")
    assert metrics["target_false_positive_rate"] == 0.1 and 0 <= metrics["false_positive_rate"] <= 1
    assert metrics["memorisation_ratio"] == pytest.approx(
        metrics["validation_reconstruction_error"] / metrics["training_reconstruction_error"])
    detector = json.loads((tmp_path / "checkpoints/digits/val/3_3/detector.json").read_text())
    assert 0 < detector["scores"]["rec"]["expected_false_positive_rate"] <= 0.2
    with open(tmp_path / "results/digits/val/learning_curves/3_3/learning_curve.csv") as file:
        curve = list(csv.DictReader(file))
    assert [row["iteration"] for row in curve] == ["10", "20"]
    assert all(float(row["memorisation_ratio"]) > 0 for row in curve)
    events = list((tmp_path / "checkpoints/digits/val/3_3/tensorboard").glob("events.out.tfevents.*"))
    assert events and any(b"monitor/memorisation_ratio" in path.read_bytes() for path in events)
