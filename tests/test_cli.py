"""The command line: one-line errors for bad input, and a small end-to-end run that really learns."""

import collections
import csv
import errno
import json
import os
import re

import numpy as np
import pytest
import tensorflow as tf
from sklearn.decomposition import PCA

import main
import reproduce
from data.pipeline import one_class_split, to_model_images
from models.registry import METHODS, get_method
from utils.running.experiment import Experiment
from utils.running.training import TrainingDiverged
from utils.scoring.floors import floor_metrics

TINY = ["--dataset", "digits", "--width", "4", "--batch_size", "16", "--iterations", "5", "--no_xla"]


@pytest.mark.parametrize("arguments, message", [
    (["--dataset", "imagenet"], "invalid choice: 'imagenet'"),
    (["--protocol", "4"], "invalid choice: 4"),
    (["--iterations", "0"], "must be a positive integer, got 0"),
    (["--phase", "evaluate"], "invalid choice: 'evaluate'"),
    (["--seed", "-1"], "from 0 to 2**32 - 1"),
    (["--variant", "dgad-cl"], "invalid choice: 'dgad-cl'"),
    (["--score", "dirichlet"], "invalid choice: 'dirichlet'"),
    (["--xla", "--no_xla"], "argument --no_xla: not allowed with argument --xla"),
])
def test_bad_flags_are_refused_by_the_parser(arguments, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main.parse_arguments(arguments)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert message in error and len(error.strip().splitlines()) == 1


def help_sections(capsys):
    """main.py --help as {group title: the flags listed under it}."""
    with pytest.raises(SystemExit) as exit_info:
        main.parse_arguments(["--help"])
    assert exit_info.value.code == 0
    sections, title = {}, None
    for line in capsys.readouterr().out.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            title = line[:-1]
            sections[title] = []
        elif title and line.startswith("  --"):
            sections[title].append(line.split()[0])
    return sections


def test_help_lists_each_methods_own_flags_in_a_group_of_its_own(capsys):
    sections = help_sections(capsys)
    declared = collections.Counter(field.name for method in METHODS.values() for field in method.settings.flags())
    shared = sections["settings of several methods, each reading them its own way"]
    assert shared == [f"--{name}" for name, count in declared.items() if count > 1]
    own = []
    for method in METHODS.values():
        # argparse leaves out a method's group when all its flags are shared.
        section = sections.get(f"{method.title} only (--method {method.name})", [])
        assert section == [f"--{field.name}" for field in method.settings.flags() if declared[field.name] == 1]
        own += section
    assert not set(own + shared) & set(sections["options"])
    # Unset, each is the method's default (or the dataset's), filled in by the Config.
    arguments = vars(main.parse_arguments([]))
    assert all(arguments[flag[2:]] is None for flag in own + shared)


def error_line(capsys):
    return error_line_of(capsys.readouterr().err)


def error_line_of(stderr: str) -> str:
    error = stderr.strip()
    assert "Traceback" not in error and len(error.splitlines()) == 1
    return error


def test_class_out_of_range_is_a_one_line_error(run_main, capsys):
    assert run_main(["--dataset", "digits", "--phase", "test", "--test_object", "12"]) == 2
    assert error_line(capsys) == ("error: --test_object 12 is not a class of this dataset: give an index 0..9 "
                                  "or a name (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)")


def test_classes_are_selected_by_index_or_name(named_dataset):
    dataset = named_dataset("cifar10", ("airplane", "automobile", "bird"))
    assert main.selected_classes(None, dataset, "--train_object") == [0, 1, 2]
    assert main.selected_classes("1", dataset, "--train_object") == [1]
    assert main.selected_classes("bird", dataset, "--train_object") == [2]
    with pytest.raises(main.UsageError, match="--train_object car is not a class"):
        main.selected_classes("car", dataset, "--train_object")


def test_mvtec_categories_are_selected_by_the_papers_index(named_dataset):
    dataset = named_dataset("mvtec", ("bottle", "screw", "zipper"))
    assert main.selected_classes("13", dataset, "--test_object") == [1]
    assert main.selected_classes("zipper", dataset, "--test_object") == [2]


@pytest.mark.parametrize("arguments, jit_compile", [
    ([], True), (["--no_xla"], False),
    # AD-CGAN's step is slower under XLA on a CPU (README, Speed): XLA only when asked for.
    (["--method", "adcgan"], False), (["--method", "adcgan", "--xla"], True),
    (["--method", "adcgan", "--no_xla"], False),
])
def test_xla_is_each_methods_default_unless_a_flag_says_otherwise(arguments, jit_compile):
    config = main.config_from_arguments(main.parse_arguments(["--dataset", "digits"] + arguments))
    assert config.jit_compile is jit_compile
    xla_flags = [argument for argument in arguments if "xla" in argument]
    table_arguments = reproduce.parse_arguments(["--table", "1", "--dataset", "digits"] + xla_flags)
    assert reproduce.base_config(table_arguments, "digits", config.method).jit_compile is jit_compile


def test_dataset_defaults_fill_only_the_flags_not_given():
    mvtec = main.config_from_arguments(main.parse_arguments(["--dataset", "mvtec"]))
    # Section 4.4: "6000 epochs with batch size 8".
    assert (mvtec.image_size, mvtec.batch_size, mvtec.iterations, mvtec.epochs, mvtec.protocol, mvtec.max_zoom) == \
        (128, 8, None, 6000, 3, 0.1)
    assert mvtec.run_id == "dgad-p3-one_vs_all-w64-e6000-b8-seed0"
    # 209 training images (MVTec's bottle) are 26 whole batches of 8 per epoch.
    assert get_method("dgad").schedule(mvtec, 209).iterations == 6000 * 26
    shorter = main.config_from_arguments(main.parse_arguments(["--dataset", "mvtec", "--iterations", "6000"]))
    assert (shorter.iterations, shorter.epochs) == (6000, None)
    # A length in epochs replaces the digits' length in iterations.
    in_epochs = main.config_from_arguments(main.parse_arguments(["--dataset", "digits", "--epochs", "5"]))
    assert (in_epochs.iterations, in_epochs.epochs, in_epochs.run_id) == (None, 5, "dgad-p1-one_vs_all-w8-e5-b32-seed0")
    overridden = main.config_from_arguments(main.parse_arguments(["--dataset", "mvtec", "--protocol", "2",
                                                                  "--batch_size", "4"]))
    assert (overridden.protocol, overridden.batch_size, overridden.image_size) == (2, 4, 128)
    digits = main.config_from_arguments(main.parse_arguments(["--dataset", "digits"]))
    assert (digits.width, digits.batch_size, digits.iterations, digits.image_size) == (8, 32, 100, 32)
    cifar = main.config_from_arguments(main.parse_arguments([]))
    assert (cifar.dataset, cifar.image_size, cifar.batch_size, cifar.iterations, cifar.protocol, cifar.width) == \
        ("cifar10", 32, 64, 10000, 1, 64)


def test_npz_without_a_file_says_what_to_pass(run_main, capsys):
    assert run_main(["--dataset", "npz"]) == 2
    assert "--data_dir" in error_line(capsys)


@pytest.mark.slow
def test_testing_an_untrained_class_says_how_to_train_it(run_main, capsys):
    assert run_main(["--dataset", "digits", "--phase", "test", "--test_object", "3", "--width", "4",
                     "--no_xla"]) == 2
    error = error_line(capsys)
    assert error.startswith("error: no trained model for class 3 in ")
    assert "python main.py --method dgad --dataset digits --train_object 3" in error


@pytest.mark.slow
def test_digits_end_to_end_learns_and_writes_every_result(run_main, tmp_path, capsys):
    # Without XLA: compiling the step and the three scoring passes took longer than the whole run (the quick
    # start's XLA path is run by hand each release; tests/test_adcgan_models.py compiles a step under XLA).
    # Batch 16: the test took 50 s against 70 s at batch 32, and reached s_rec 0.990 and s_dir 0.795 (an AMD
    # EPYC with AVX-512, one thread per pool; other processors round differently, README, Reproducibility).
    arguments = ["--dataset", "digits", "--train_object", "1", "--width", "8", "--batch_size", "16",
                 "--iterations", "120", "--checkpoint_every", "60", "--run_name", "e2e", "--no_xla"]
    assert run_main(arguments + ["--phase", "both", "--score", "both"]) == 0

    for score, minimum_auc in (("s_rec", 0.85), ("s_dir", 0.75)):
        summary = json.loads((tmp_path / f"results/digits/e2e/{score}/summary.json").read_text())
        assert list(summary["per_class_auc"]) == ["1"]
        assert summary["per_class_auc"]["1"] > minimum_auc, (score, summary["per_class_auc"])
        assert summary["config"]["iterations"] == 120 and summary["config"]["width"] == 8
        class_folder = tmp_path / f"results/digits/e2e/{score}/1_1"
        for name in ("roc.png", "score_distribution.png", "scores.csv", "config.json", "metrics.json"):
            assert (class_folder / name).stat().st_size > 0
        with open(class_folder / "scores.csv") as file:
            rows = list(csv.DictReader(file))
        assert len(rows) == 719
        normal = [float(row["score"]) for row in rows if row["anomaly_label"] == "0"]
        anomalous = [float(row["score"]) for row in rows if row["anomaly_label"] == "1"]
        assert sum(normal) / len(normal) < sum(anomalous) / len(anomalous)
    metrics = json.loads((tmp_path / "results/digits/e2e/s_dir/1_1/metrics.json").read_text())
    # The discriminator recognises the rotations of the digit it was trained on better than those of others.
    assert metrics["discriminator_accuracy_normal"] > metrics["discriminator_accuracy_all"]
    # What the last digits of a result depend on besides the seed (README, Reproducibility).
    assert metrics["environment"]["tensorflow"] == tf.__version__ and metrics["environment"]["cores"] >= 1
    assert (tmp_path / "checkpoints/digits/e2e/1_1/config.json").exists()

    capsys.readouterr()
    assert run_main(arguments + ["--phase", "train"]) == 0
    assert "already trained (120 iterations)" in capsys.readouterr().out


def written_files(folder):
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


@pytest.mark.parametrize("arguments, message", [
    (["--learning_rate", "-1"], "error: --learning_rate must be greater than 0, got -1.0"),
    (["--max_zoom", "-1"], "error: --max_zoom must be in [0, 1), got -1.0"),
    (["--max_zoom", "1"], "error: --max_zoom must be in [0, 1), got 1.0"),
    (["--image_size", "30"], "error: --image_size must be a multiple of 4 for DGAD (the encoder halves it twice), "
                             "got 30"),
    (["--method", "adcgan", "--image_size", "30"], "error: AD-CGAN has networks for 28x28x1, 32x32x1, 32x32x3 and "
     "64x64x3 images (paper Table 2); got (30, 30, 1); pass main.py --image_size 32 (or 28 for one channel, 64 for "
     "colour)"),
    (["--method", "adcgan", "--epochs", "0"], "error: --epochs must be a positive integer, got 0"),
    (["--method", "adcgan", "--warmup_epochs", "-1"], "error: --warmup_epochs must be 0 or a positive integer, got -1"),
    (["--method", "adcgan", "--latent_size", "0"], "error: --latent_size must be a positive integer, got 0"),
    (["--data_dir", "X"], "error: --dataset digits reads no files, so --data_dir would be ignored; leave it out"),
    (["--method", "adcgan", "--autoencoder_learning_rate", "0"],
     "error: --autoencoder_learning_rate must be greater than 0, got 0.0"),
    (["--method", "adcgan", "--ns_lambda", "2"], "error: --ns_lambda must be in [0, 1], got 2.0"),
    (["--method", "adcgan", "--ns_rho", "nan"], "error: --ns_rho must be in [0, 1], got nan"),
    (["--run_name", "a/b"], "error: --run_name must be a plain folder name (no '/', not '.' or '..'), got 'a/b'"),
])
def test_a_flag_out_of_range_is_a_one_line_error_before_anything_runs(arguments, message, run_main, tmp_path,
                                                                      capsys):
    assert run_main(TINY + ["--phase", "both"] + arguments) == 2
    assert error_line(capsys) == message
    assert not (tmp_path / "checkpoints").exists() and not (tmp_path / "results").exists()


@pytest.mark.parametrize("dataset", ["mvtec", "folder", "npz"])
def test_a_dataset_that_needs_files_says_to_pass_data_dir(dataset, run_main, capsys):
    assert run_main(["--dataset", dataset, "--phase", "both"]) == 2
    assert f"error: --dataset {dataset} needs --data_dir" in error_line(capsys)


def unwritable_folder(tmp_path):
    """A folder that cannot be created or written: read-only, or (as root, whom chmod does not stop)
    one under a regular file."""
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    read_only.chmod(0o500)
    try:
        (read_only / "probe").write_text("")
    except PermissionError:
        return read_only / "results"
    (read_only / "probe").unlink()
    (tmp_path / "a_file").write_text("")
    return tmp_path / "a_file" / "results"


@pytest.mark.parametrize("flag", ["--results_dir", "--checkpoint_dir"])
def test_an_unwritable_folder_is_refused_before_any_training(flag, tmp_path, capsys):
    folder = unwritable_folder(tmp_path)
    other = "--checkpoint_dir" if flag == "--results_dir" else "--results_dir"
    assert main.main(TINY + ["--phase", "both", flag, str(folder), other, str(tmp_path / "other")]) == 2
    error = error_line(capsys)
    assert error.startswith(f"error: cannot write to {folder} (")
    assert error.endswith(f"pass {flag} with a folder you can write to")
    assert written_files(tmp_path / "other") == []


def test_reproduce_refuses_an_unwritable_results_folder_and_a_bad_flag_in_one_line(tmp_path, capsys):
    folder = unwritable_folder(tmp_path)
    table = ["--table", "1", "--budget", "cpu", "--dataset", "digits", "--checkpoint_dir", str(tmp_path / "ckpt")]
    assert reproduce.main(table + ["--results_dir", str(folder)]) == 2
    assert error_line(capsys).startswith(f"error: cannot write to {folder} (")
    assert reproduce.main(table + ["--data_dir", "X"]) == 2
    assert error_line(capsys) == "error: --dataset digits reads no files, so --data_dir would be ignored; leave it out"
    assert written_files(tmp_path / "ckpt") == []


def save_npz(path, train_labels, test_labels):
    """8x8 grey images with the given labels; a class can be left out of the training split."""
    def images(count):
        return np.random.default_rng(0).integers(0, 255, (count, 8, 8), dtype=np.uint8)
    np.savez(path, x_train=images(len(train_labels)), y_train=np.array(train_labels),
             x_test=images(len(test_labels)), y_test=np.array(test_labels))
    return str(path)


def test_classes_with_nothing_to_train_on_are_all_named_before_the_first_class_trains(run_main, tmp_path, capsys):
    data = save_npz(tmp_path / "gaps.npz", [0] * 20 + [2] * 20, [0, 1, 2, 3, 4] * 4)
    assert run_main(["--dataset", "npz", "--data_dir", data, "--phase", "both", "--width", "4", "--batch_size", "16",
                     "--iterations", "5", "--no_xla"]) == 2
    assert error_line(capsys) == ("error: npz has nothing to train on under --scheme one_vs_all for classes 1 (1), "
                                  "3 (3), 4 (4) (no normal training images); choose the classes to train with "
                                  "--train_object")
    assert written_files(tmp_path / "checkpoints") == []


def test_too_few_images_for_a_batch_is_found_before_the_first_class_trains(run_main, tmp_path, capsys):
    data = save_npz(tmp_path / "small.npz", [0] * 20 + [1] * 10, [0, 1] * 5)
    assert run_main(["--dataset", "npz", "--data_dir", data, "--phase", "train", "--width", "4", "--batch_size", "16",
                     "--iterations", "5", "--no_xla"]) == 2
    assert error_line(capsys) == ("error: fewer training images than the batch size 16 for class 1 (1), which has 10; "
                                  "pass --batch_size 10 or smaller")
    assert written_files(tmp_path / "checkpoints") == []


@pytest.fixture(scope="module")
def digit_0_trained(tmp_path_factory):
    """The checkpoints of class 0 of the digits trained at TINY's budget as run "tiny"."""
    folder = tmp_path_factory.mktemp("trained")
    assert main.main(TINY + ["--train_object", "0", "--run_name", "tiny", "--results_dir", str(folder / "results"),
                             "--checkpoint_dir", str(folder / "checkpoints")]) == 0
    return folder / "checkpoints"


@pytest.mark.slow
def test_a_diagnosis_reads_the_trained_model_and_the_floors_of_its_split(digit_0_trained, copy_checkpoints, run_main,
                                                                        tmp_path, digits, capsys):
    copy_checkpoints(digit_0_trained)
    assert run_main(TINY + ["--train_object", "0", "--run_name", "tiny", "--phase", "diagnose"]) == 0
    printed = capsys.readouterr().out
    diagnosis = json.loads((tmp_path / "results/digits/tiny/diagnosis/0_0/diagnosis.json").read_text())
    split = one_class_split(digits, 0)
    config = main.config_from_arguments(main.parse_arguments(
        TINY + ["--run_name", "tiny", "--checkpoint_dir", str(tmp_path / "checkpoints")]))
    train, test = (to_model_images(images, config.image_size) for images in (split.train_images, split.test_images))
    floors = floor_metrics(train.numpy(), test.numpy(), split.test_anomaly_labels)
    assert diagnosis["auc"]["PCA floor"] == pytest.approx(floors["pca_floor_auc"], abs=1e-9)
    assert diagnosis["auc"]["kNN floor"] == pytest.approx(floors["knn_floor_auc"], abs=1e-9)
    assert list(diagnosis["auc_by_anomaly_kind"]) == [str(digit) for digit in range(1, 10)]
    assert set(diagnosis["auc_by_anomaly_kind"]["4"]) == {"s_rec", "image_error", "latent_error", "PCA floor",
                                                           "kNN floor"}
    assert "| 4 |" in printed and "| all |" in printed
    assert diagnosis["trained_iterations"] == 5
    assert json.loads((tmp_path / "results/digits/tiny/diagnosis/0_0/config.json").read_text())["iterations"] == 5
    model = Experiment(config, digits).trained_model(0)
    normal = test.numpy()[split.test_anomaly_labels == 0]
    errors = diagnosis["reconstruction_error"]
    for images, key in ((train.numpy(), "train"), (normal, "test_normal")):
        assert errors["model"][key] == pytest.approx(np.abs(images - model.reconstruction(images)).mean(), rel=1e-5)
        projected = PCA(n_components=0.95).fit(train.numpy().reshape(len(train), -1))
        flat = images.reshape(len(images), -1)
        expected = np.abs(flat - projected.inverse_transform(projected.transform(flat))).mean()
        assert errors["PCA floor"][key] == pytest.approx(expected, rel=1e-4)


@pytest.mark.slow
def test_phase_test_with_only_train_object_tests_that_class(digit_0_trained, copy_checkpoints, run_main, tmp_path,
                                                            capsys):
    copy_checkpoints(digit_0_trained)
    assert run_main(TINY + ["--train_object", "0", "--run_name", "tiny", "--phase", "test"]) == 0
    output = capsys.readouterr().out
    assert ("note: testing class 0, the one --train_object names (--test_object selects the classes to test)"
            in output.splitlines())
    summary = json.loads((tmp_path / "results/digits/tiny/s_rec/summary.json").read_text())
    assert list(summary["per_class_auc"]) == ["0"]


@pytest.mark.slow
def test_retesting_one_class_keeps_every_tested_class_in_the_summary(digit_0_trained, copy_checkpoints, run_main,
                                                                     tmp_path, capsys):
    copy_checkpoints(digit_0_trained)
    run = TINY + ["--run_name", "tiny"]
    assert run_main(run + ["--phase", "both", "--train_object", "1"]) == 0
    assert run_main(run + ["--phase", "test", "--test_object", "0"]) == 0
    folder = tmp_path / "results/digits/tiny/s_rec"
    summary = json.loads((folder / "summary.json").read_text())
    assert list(summary["per_class_auc"]) == ["0", "1"]
    assert "| Mean (2 classes) |" in (folder / "summary.md").read_text()
    assert (folder / "summary.html").read_text().count("<h2>") == 2

    # Class 1's results are of the default threshold: a summary of class 0 alone goes to a file of its own.
    capsys.readouterr()
    assert run_main(run + ["--phase", "test", "--test_object", "0", "--threshold", "0.5"]) == 0
    assert "this summary of 1 classes goes to partial_summary.*" in capsys.readouterr().out
    assert list(json.loads((folder / "partial_summary.json").read_text())["per_class_auc"]) == ["0"]
    assert "| Mean (1 classes) |" in (folder / "partial_summary.md").read_text()
    assert (folder / "partial_summary.html").exists()
    assert json.loads((folder / "summary.json").read_text()) == summary


@pytest.mark.slow
def test_a_full_disk_while_testing_names_the_file_and_its_folder_and_keeps_the_earlier_results(
        digit_0_trained, copy_checkpoints, run_main, tmp_path, capsys, monkeypatch):
    copy_checkpoints(digit_0_trained)
    run = TINY + ["--run_name", "tiny", "--phase", "test", "--test_object", "0"]
    assert run_main(run) == 0
    folder = tmp_path / "results/digits/tiny/s_rec"
    earlier = {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}
    capsys.readouterr()

    def full_disk(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full_disk)
    assert run_main(run) == 2
    assert re.fullmatch(rf"error: cannot write [\w.]+ in {re.escape(str(folder / '0_0'))}(/maps)?: No space left "
                        "on device", error_line(capsys))
    assert {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()} == earlier


@pytest.mark.slow
def test_predict_with_the_flags_of_a_run_never_trained_lists_the_runs_there_are(digit_0_trained, copy_checkpoints,
                                                                                  run_main, tmp_path, capsys):
    copy_checkpoints(digit_0_trained)
    assert run_main(["--dataset", "digits", "--phase", "predict", "--images", str(tmp_path)]) == 2
    error = error_line(capsys)
    default_run = main.config_from_arguments(main.parse_arguments(["--dataset", "digits"])).run_id
    assert error.startswith(f"error: no class of the run {default_run} was trained in ")
    assert "Runs that exist for digits in " in error and ": tiny (the flags that name a run, --width/" in error
    assert error.endswith("or --run_name, must be those it was trained with)")


@pytest.mark.slow
def test_predict_into_a_folder_that_cannot_be_written_is_refused_before_scoring(digit_0_trained, copy_checkpoints,
                                                                                 run_main, tmp_path, capsys):
    copy_checkpoints(digit_0_trained)
    run = TINY + ["--run_name", "tiny"]
    assert run_main(run + ["--phase", "test", "--test_object", "0"]) == 0
    capsys.readouterr()
    # As root no folder is read-only; a file where a folder should be fails the same check.
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, not a folder")
    assert main.main(run + ["--phase", "predict", "--images", str(tmp_path / "results"), "--results_dir",
                            str(blocked / "results"), "--checkpoint_dir", str(tmp_path / "checkpoints")]) == 2
    captured = capsys.readouterr()
    assert "scored" not in captured.out
    assert re.fullmatch(rf"error: cannot write to {re.escape(str(blocked))}/results/digits/tiny/predictions \(.+\); "
                        "pass --results_dir with a folder you can write to", error_line_of(captured.err))


@pytest.mark.slow
def test_a_failed_training_still_tests_and_summarises_the_classes_trained_before_it(digit_0_trained, copy_checkpoints,
                                                                                    run_main, tmp_path, capsys,
                                                                                    monkeypatch):
    copy_checkpoints(digit_0_trained)
    train_class = Experiment.train_class

    def disk_full_at_class_1(experiment, class_index):
        if class_index == 1:
            raise OSError(28, "No space left on device")
        return train_class(experiment, class_index)

    monkeypatch.setattr(Experiment, "train_class", disk_full_at_class_1)
    assert run_main(TINY + ["--phase", "both", "--run_name", "tiny"]) == 2
    assert error_line(capsys) == (
        "error: training digits class 1 (1) failed: [Errno 28] No space left on device; tested and summarised the "
        "classes trained before it: 0 (0); not trained yet: 2 (2), 3 (3), 4 (4), 5 (5), 6 (6), 7 (7), 8 (8), 9 (9)")
    summary = json.loads((tmp_path / "results/digits/tiny/s_rec/summary.json").read_text())
    assert list(summary["per_class_auc"]) == ["0"]
    assert (tmp_path / "results/digits/tiny/s_rec/0_0/metrics.json").exists()


class StubExperiment:
    """Records what main.train_then_test asks of an experiment; training fails for the classes in fails."""

    def __init__(self, dataset, fails, error):
        self.dataset = dataset
        self.fails, self.error, self.trained, self.tested = fails, error, [], []

    def describe(self, index):
        return f"toy class {index}"

    def train_class(self, index):
        if index in self.fails:
            raise self.error
        self.trained.append(index)

    def test_classes(self, classes):
        self.tested.append(classes)


@pytest.mark.parametrize("error", [TrainingDiverged("training diverged at iteration 5"),
                                   main.UsageError("unused")])
def test_only_the_failures_of_a_run_are_caught_and_reported(error, named_dataset):
    experiment = StubExperiment(named_dataset("toy", "abc"), {1}, error)
    failures = (TrainingDiverged, OSError)
    if not isinstance(error, failures):
        with pytest.raises(type(error)):
            main.train_then_test(experiment, [0, 1, 2], [0, 1, 2], failures)
        return
    message = main.train_then_test(experiment, [0, 1, 2], [2, 0, 1], failures)
    assert experiment.trained == [0] and experiment.tested == [[0]]
    assert message == ("training toy class 1 failed: training diverged at iteration 5; tested and summarised the "
                       "classes trained before it: 0 (a); not trained yet: 2 (c)")


def test_a_failure_in_the_first_class_or_of_a_run_that_only_trains_tests_nothing(named_dataset):
    experiment = StubExperiment(named_dataset("toy", "abc"), {0}, OSError("disk"))
    assert main.train_then_test(experiment, [0, 1], [0, 1], (OSError,)) == (
        "training toy class 0 failed: disk; no class finished training, so none was tested; not trained yet: 1 (b)")
    experiment = StubExperiment(named_dataset("toy", "abc"), {1}, OSError("disk"))
    assert main.train_then_test(experiment, [0, 1], [], (OSError,)) == "training toy class 1 failed: disk"
    assert experiment.tested == []


@pytest.mark.parametrize("threshold, flags", [("1.5", "none"), ("-0.2", "all")])
def test_a_threshold_outside_0_to_1_is_accepted_with_a_one_line_note(threshold, flags, run_main, tmp_path, capsys):
    assert run_main(["--dataset", "digits", "--phase", "predict", "--images", str(tmp_path), "--threshold",
                     threshold]) == 2
    assert (f"note: --threshold {threshold} is outside [0, 1], the test split's range of normalised scores: valid, "
            f"since new images can score outside it, but it flags {flags} of the test images"
            in capsys.readouterr().out.splitlines())


def test_test_object_without_a_test_phase_is_refused(run_main, tmp_path, capsys):
    assert run_main(["--dataset", "digits", "--phase", "train", "--test_object", "3"]) == 2
    assert "--test_object selects the classes to test" in error_line(capsys)
    assert not (tmp_path / "checkpoints").exists()
