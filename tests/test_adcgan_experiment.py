"""AD-CGAN through the command line: its settings, its schedule in epochs, and a short run that learns."""

import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import roc_auc_score

import main
from data.pipeline import one_class_split
from data.sources import load_dataset
from models.adcgan.model import ADCGAN
from utils.running.config import Config, config_for_dataset
from utils.scoring.batching import ADCGANScoring
from utils.running.experiment import Experiment


def config_from(arguments):
    return main.config_from_arguments(main.parse_arguments(arguments))


def test_adcgan_takes_its_papers_settings_and_dgad_keeps_its_own():
    adcgan = config_from(["--method", "adcgan", "--dataset", "mnist"])
    assert (adcgan.batch_size, adcgan.learning_rate, adcgan.autoencoder_learning_rate, adcgan.latent_size,
            adcgan.image_size, adcgan.iterations, adcgan.epochs, adcgan.warmup_epochs, adcgan.score) == \
        (32, 3e-4, 2e-4, 100, 28, None, 15, 5, "gf")
    assert (adcgan.ns_lambda, adcgan.ns_rho) == (0.1, 0.5)
    all_vs_one = config_from(["--method", "adcgan", "--dataset", "cifar10", "--scheme", "all_vs_one"])
    assert (all_vs_one.epochs, all_vs_one.warmup_epochs, all_vs_one.image_size) == (35, 15, 32)
    cats = config_from(["--method", "adcgan", "--dataset", "cats_vs_dogs"])
    assert (cats.latent_size, cats.image_size) == (200, 64)
    dgad = config_from(["--dataset", "mnist"])
    assert (dgad.batch_size, dgad.learning_rate, dgad.iterations, dgad.score, dgad.image_size) == \
        (64, 1e-4, 10000, "rec", 32)


def test_the_schedule_counts_the_papers_epochs_or_splits_given_iterations_alike():
    one_vs_all = Config(method="adcgan", batch_size=32)
    # 6000 images: 187 whole batches per epoch; 5 warm-up epochs, then 15.
    assert one_vs_all.schedule(6000) == (20 * 187, 5 * 187)
    assert Config(method="adcgan", scheme="all_vs_one").schedule(320) == (50 * 10, 15 * 10)
    assert Config(method="adcgan", iterations=300).schedule(6000) == (300, 75)
    assert Config(method="adcgan", iterations=300, scheme="all_vs_one").schedule(6000) == (300, 90)
    assert Config(iterations=300).schedule(6000) == (300, 0)


def test_run_ids_name_the_method_and_its_length():
    assert Config(method="adcgan").run_id == "adcgan-one_vs_all-w64-e15+5-b32-seed0"
    assert Config(method="adcgan", iterations=300, width=8).run_id == "adcgan-one_vs_all-w8-i300-b32-seed0"


@pytest.mark.parametrize("arguments, message", [
    (["--method", "adcgan", "--score", "rec"], "unknown score 'rec' for adcgan; expected one of ('gf', 'lg', "),
    (["--score", "gf"], "unknown score 'gf' for dgad; expected one of ('rec', 'dir', 'both')"),
    (["--method", "adcgan", "--variant", "gan"], "AD-CGAN has none"),
    (["--method", "adcgan", "--protocol", "2"], "AD-CGAN has none (leave --protocol out)"),
    (["--epochs", "3", "--latent_size", "10"], "--latent_size, --epochs applies to AD-CGAN only (add --method adcgan)"),
    (["--ns_lambda", "0.5"], "--ns_lambda applies to AD-CGAN only"),
])
def test_settings_that_do_not_fit_the_method_are_one_line_errors(arguments, message, capsys):
    assert main.main(arguments + ["--dataset", "digits"]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1


def test_an_image_size_without_table_2_networks_is_a_one_line_error(tmp_path, capsys):
    assert main.main(["--method", "adcgan", "--dataset", "digits", "--image_size", "48", "--iterations", "1",
                      "--results_dir", str(tmp_path / "r"), "--checkpoint_dir", str(tmp_path / "c")]) == 2
    error = capsys.readouterr().err.strip()
    assert "AD-CGAN has networks for 28x28x1, 32x32x1, 32x32x3 and 64x64x3" in error and "--image_size 32" in error
    assert "Traceback" not in error and len(error.splitlines()) == 1


def test_scores_depend_neither_on_the_batch_nor_on_the_invocation():
    model = ADCGAN((32, 32, 1), latent_size=8, width=2)
    images = tf.random.stateless_uniform((7, 32, 32, 1), seed=[1, 2], minval=-1, maxval=1)
    by_four = ADCGANScoring(model, 4, seed=3, jit_compile=False).terms(images)
    by_eight = ADCGANScoring(model, 8, seed=3, jit_compile=False).terms(images)
    other_seed = ADCGANScoring(model, 8, seed=4, jit_compile=False).terms(images)
    for name in by_four:
        assert by_four[name].shape == (7,)
        np.testing.assert_allclose(by_four[name], by_eight[name], rtol=1e-5, err_msg=name)
    # Only L_FL depends on the random z, and so on the seed.
    assert not np.allclose(by_eight["latent_error"], other_seed["latent_error"])
    np.testing.assert_allclose(by_eight["image_error"], other_seed["image_error"], rtol=1e-6)


def test_digits_end_to_end_learns_and_writes_every_result(tmp_path, capsys):
    """Untrained, AD-CGAN's score ranks digit 1 worse than chance; 120 iterations make it a good detector."""
    arguments = ["--method", "adcgan", "--dataset", "digits", "--train_object", "1", "--width", "8",
                 "--iterations", "120", "--checkpoint_every", "60", "--score", "all", "--no_xla",
                 "--results_dir", str(tmp_path / "results"), "--checkpoint_dir", str(tmp_path / "checkpoints")]
    assert main.main(arguments + ["--phase", "both"]) == 0
    output = capsys.readouterr().out
    assert "training on 109 normal images for 120 iterations, the first 30 autoencoder only" in output

    run_folder = tmp_path / "results/digits/adcgan-one_vs_all-w8-i120-b32-seed0"
    for score in ("gf", "lg", "lfe", "lfl"):
        summary = json.loads((run_folder / f"s_{score}/summary.json").read_text())
        assert list(summary["per_class_auc"]) == ["1"]
        class_folder = run_folder / f"s_{score}/1_1"
        for name in ("roc.png", "score_distribution.png", "scores.csv", "config.json", "metrics.json"):
            assert (class_folder / name).stat().st_size > 0
    metrics = json.loads((run_folder / "s_gf/1_1/metrics.json").read_text())
    assert metrics["auc"] > 0.9 and metrics["trained_iterations"] == 120
    assert metrics["training_seconds"] > 0 and metrics["scoring_seconds"] > 0

    config = config_for_dataset("digits", method="adcgan", width=8, iterations=120, jit_compile=False,
                                results_dir=str(tmp_path / "results"), checkpoint_dir=str(tmp_path / "checkpoints"))
    dataset = load_dataset("digits")
    experiment = Experiment(config, dataset)
    split = one_class_split(dataset, 1, "one_vs_all")
    anomaly_scores, _, _ = experiment.adcgan_scores(experiment.fresh_model(), split, ("gf",))["gf"]
    assert roc_auc_score(split.test_anomaly_labels, anomaly_scores) < 0.6

    # Results scored with another lambda or rho are not taken for this configuration's.
    assert experiment.class_metrics(1, "gf")["auc"] == metrics["auc"]
    other_lambda = Experiment(dataclasses.replace(config, ns_lambda=0.5), dataset)
    assert other_lambda.class_metrics(1, "gf") is None

    assert main.main(arguments + ["--phase", "train"]) == 0
    assert "already trained (120 iterations)" in capsys.readouterr().out


def test_the_warmup_follows_each_classs_epochs_and_holds_the_critic_still(tmp_path):
    config = config_for_dataset("digits", method="adcgan", width=2, batch_size=4, epochs=1, warmup_epochs=1,
                                jit_compile=False, checkpoint_every=1000, results_dir=str(tmp_path / "results"),
                                checkpoint_dir=str(tmp_path / "checkpoints"))
    experiment = Experiment(config, load_dataset("digits"))
    # digits class 8 has 104 training images (26 batches of 4), class 3 has 110 (27 batches).
    for class_index, batches_per_epoch in ((8, 26), (3, 27)):
        assert experiment.schedule(class_index) == (2 * batches_per_epoch, batches_per_epoch)
        experiment.train_class(class_index)
        model = experiment.trained_model(class_index)
        assert int(model.iterations) == 2 * batches_per_epoch
        assert int(model.warmup_iterations) == batches_per_epoch
        # Only the steps after the warm-up update the critic and D_z.
        assert int(model.cgan_optimizer_d.iterations) == batches_per_epoch
        assert int(model.latent_optimizer.iterations) == batches_per_epoch
