"""AD-CGAN through the command line: its settings, its schedule in epochs, and a short run that learns."""

import json

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

import main
from data.pipeline import one_class_split, to_model_images
from models.adcgan.scoring import Scorer
from models.method import ScoringImages
from models.registry import get_method
from utils.running.config import Config
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


def schedule(train_size, **settings):
    config = Config(**settings)
    return get_method(config.method).schedule(config, train_size)


def test_the_schedule_counts_the_papers_epochs_or_splits_given_iterations_alike():
    # 6000 images: 187 whole batches per epoch; 5 warm-up epochs, then 15.
    assert schedule(6000, method="adcgan", batch_size=32) == (20 * 187, 5 * 187)
    assert schedule(320, method="adcgan", scheme="all_vs_one") == (50 * 10, 15 * 10)
    assert schedule(6000, method="adcgan", iterations=300) == (300, 75)
    assert schedule(6000, method="adcgan", iterations=300, scheme="all_vs_one") == (300, 90)
    assert schedule(6000, iterations=300) == (300, 0)
    # The paper's epochs are derived from the scheme again when it changes.
    assert (Config(method="adcgan").replace(scheme="all_vs_one").epochs, Config(method="adcgan").epochs) == (35, 15)


def test_run_ids_name_the_method_and_its_length():
    assert Config(method="adcgan").run_id == "adcgan-one_vs_all-w64-e15+5-b32-seed0"
    assert Config(method="adcgan", iterations=300, width=8).run_id == "adcgan-one_vs_all-w8-i300-b32-seed0"


@pytest.mark.parametrize("arguments, message", [
    (["--method", "adcgan", "--score", "rec"], "unknown score 'rec' for adcgan; expected one of ('gf', 'lg', "),
    (["--score", "gf"], "unknown score 'gf' for dgad; expected one of ('rec', 'dir', 'both')"),
    (["--method", "adcgan", "--variant", "gan"], "error: --variant is a setting of DGAD, which AD-CGAN does not have "
                                                 "(leave it out, or pass --method dgad)"),
    (["--method", "adcgan", "--protocol", "2"], "error: --protocol is a setting of DGAD, which AD-CGAN does not have "
                                                "(leave it out, or pass --method dgad)"),
    (["--warmup_epochs", "3", "--latent_size", "10"], "error: --latent_size, --warmup_epochs are settings of AD-CGAN, "
                                                      "which DGAD does not have"),
    (["--epochs", "3", "--iterations", "10"], "error: give DGAD's length as --iterations or as --epochs, not both"),
    (["--ns_lambda", "0.5"], "error: --ns_lambda is a setting of AD-CGAN, which DGAD does not have (leave it out, "
                             "or pass --method adcgan)"),
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


@pytest.mark.slow
def test_scores_depend_neither_on_the_batch_nor_on_the_invocation(fresh_model, random_images):
    model = fresh_model((32, 32, 1), "adcgan", latent_size=8, width=2)
    images = random_images(7, (32, 32, 1), seed=(1, 2))

    def terms(batch_size, seed):
        return Scorer(model, batch_size, seed, ns_lambda=0.1, ns_rho=0.5, jit_compile=False).terms(images)

    by_four, by_eight, other_seed = terms(4, 3), terms(8, 3), terms(8, 4)
    for name in by_four:
        assert by_four[name].shape == (7,)
        np.testing.assert_allclose(by_four[name], by_eight[name], rtol=1e-5, err_msg=name)
    # Only L_FL depends on the random z, and so on the seed.
    assert not np.allclose(by_eight["latent_error"], other_seed["latent_error"])
    np.testing.assert_allclose(by_eight["image_error"], other_seed["image_error"], rtol=1e-6)


@pytest.mark.slow
def test_digits_end_to_end_learns_and_writes_every_result(digits, tmp_path, capsys):
    """Untrained, AD-CGAN's score ranks digit 1 worse than chance; 120 iterations make it a good detector."""
    arguments = ["--method", "adcgan", "--dataset", "digits", "--train_object", "1", "--width", "8",
                 "--iterations", "120", "--checkpoint_every", "60", "--score", "all", "--no_xla",
                 "--results_dir", str(tmp_path / "results"), "--checkpoint_dir", str(tmp_path / "checkpoints")]
    assert main.main(arguments + ["--phase", "both"]) == 0
    output = capsys.readouterr().out
    assert "training on 109 normal images for 120 iterations, the first 30 warm-up" in output

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

    config = main.config_from_arguments(main.parse_arguments(arguments))
    experiment = Experiment(config, digits)
    split = one_class_split(digits, 1, "one_vs_all")
    images = ScoringImages(to_model_images(split.test_images, config.image_size),
                           to_model_images(split.train_images, config.image_size), split.test_anomaly_labels == 0)
    untrained = experiment.scorer(experiment.fresh_model()).score(images, ("gf",))["gf"]
    assert roc_auc_score(split.test_anomaly_labels, untrained.anomaly_scores) < 0.6

    # Results scored with another lambda or rho are not taken for this configuration's.
    assert experiment.class_metrics(1, "gf")["auc"] == metrics["auc"]
    assert Experiment(config.replace(ns_lambda=0.5), digits).class_metrics(1, "gf") is None

    assert main.main(arguments + ["--phase", "train"]) == 0
    assert "already trained (120 iterations)" in capsys.readouterr().out


@pytest.mark.slow
def test_the_warmup_follows_each_classs_epochs_and_holds_the_critic_still(tiny_config, digits, folders):
    config = tiny_config("adcgan", width=2, batch_size=27, iterations=None, epochs=1, warmup_epochs=1, **folders)
    experiment = Experiment(config, digits)
    # digits class 8 has 104 training images (3 whole batches of 27), class 3 has 110 (4 batches).
    for class_index, batches_per_epoch in ((8, 3), (3, 4)):
        assert experiment.schedule(class_index) == (2 * batches_per_epoch, batches_per_epoch)
        experiment.train_class(class_index)
        model = experiment.trained_model(class_index)
        assert int(model.iterations) == 2 * batches_per_epoch
        assert int(model.warmup_iterations) == batches_per_epoch
        # Only the steps after the warm-up update the critic and D_z.
        assert int(model.cgan_optimizer_d.iterations) == batches_per_epoch
        assert int(model.latent_optimizer.iterations) == batches_per_epoch
