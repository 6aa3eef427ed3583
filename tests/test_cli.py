"""The command line: one-line errors for bad input, and a small end-to-end run that really learns."""

import csv
import json

import numpy as np
import pytest

import main
from data.sources import ImageDataset


def run(arguments, tmp_path):
    return main.main(arguments + ["--results_dir", str(tmp_path / "results"),
                                  "--checkpoint_dir", str(tmp_path / "checkpoints")])


@pytest.mark.parametrize("arguments, message", [
    (["--dataset", "imagenet"], "invalid choice: 'imagenet'"),
    (["--protocol", "4"], "invalid choice: 4"),
    (["--iterations", "0"], "must be a positive integer, got 0"),
    (["--phase", "evaluate"], "invalid choice: 'evaluate'"),
    (["--image_size", "30"], "must be a multiple of 4"),
    (["--seed", "-1"], "from 0 to 2**32 - 1"),
    (["--variant", "dgad-cl"], "invalid choice: 'dgad-cl'"),
    (["--score", "dirichlet"], "invalid choice: 'dirichlet'"),
])
def test_bad_flags_are_refused_by_the_parser(arguments, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main.parse_arguments(arguments)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert message in error and len(error.strip().splitlines()) == 1


def error_line(capsys):
    error = capsys.readouterr().err.strip()
    assert "Traceback" not in error and len(error.splitlines()) == 1
    return error


def test_class_out_of_range_is_a_one_line_error(tmp_path, capsys):
    assert run(["--dataset", "digits", "--phase", "test", "--test_object", "12"], tmp_path) == 2
    assert error_line(capsys) == ("error: --test_object 12 is not a class of this dataset: give an index 0..9 "
                                  "or a name (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)")


def dataset_with_classes(name, class_names):
    return ImageDataset(name, np.zeros((1, 4, 4, 1), np.uint8), np.zeros(1, np.int64),
                        np.zeros((1, 4, 4, 1), np.uint8), np.zeros(1, np.int64), class_names)


def test_classes_are_selected_by_index_or_name():
    dataset = dataset_with_classes("cifar10", ("airplane", "automobile", "bird"))
    assert main.selected_classes(None, dataset, "--train_object") == [0, 1, 2]
    assert main.selected_classes("1", dataset, "--train_object") == [1]
    assert main.selected_classes("bird", dataset, "--train_object") == [2]
    with pytest.raises(main.UsageError, match="--train_object car is not a class"):
        main.selected_classes("car", dataset, "--train_object")


def test_mvtec_categories_are_selected_by_the_papers_index():
    dataset = dataset_with_classes("mvtec", ("bottle", "screw", "zipper"))
    assert main.selected_classes("13", dataset, "--test_object") == [1]
    assert main.selected_classes("zipper", dataset, "--test_object") == [2]


def test_dataset_defaults_fill_only_the_flags_not_given():
    mvtec = main.config_from_arguments(main.parse_arguments(["--dataset", "mvtec"]))
    assert (mvtec.image_size, mvtec.batch_size, mvtec.iterations, mvtec.protocol, mvtec.max_zoom) == \
        (128, 8, 6000, 3, 0.1)
    overridden = main.config_from_arguments(main.parse_arguments(["--dataset", "mvtec", "--protocol", "2",
                                                                  "--batch_size", "4"]))
    assert (overridden.protocol, overridden.batch_size, overridden.image_size) == (2, 4, 128)
    digits = main.config_from_arguments(main.parse_arguments(["--dataset", "digits"]))
    assert (digits.width, digits.batch_size, digits.iterations, digits.image_size) == (8, 32, 100, 32)
    cifar = main.config_from_arguments(main.parse_arguments([]))
    assert (cifar.dataset, cifar.image_size, cifar.batch_size, cifar.iterations, cifar.protocol, cifar.width) == \
        ("cifar10", 32, 64, 10000, 1, 64)


def test_npz_without_a_file_says_what_to_pass(tmp_path, capsys):
    assert run(["--dataset", "npz"], tmp_path) == 2
    assert "--data_dir" in error_line(capsys)


def test_testing_an_untrained_class_says_how_to_train_it(tmp_path, capsys):
    assert run(["--dataset", "digits", "--phase", "test", "--test_object", "3", "--width", "4",
                "--no_xla"], tmp_path) == 2
    error = error_line(capsys)
    assert error.startswith("error: no trained model for class 3 in ")
    assert "python main.py --dataset digits --train_object 3" in error


def test_digits_end_to_end_learns_and_writes_every_result(tmp_path, capsys):
    arguments = ["--dataset", "digits", "--train_object", "1", "--width", "8", "--batch_size", "32",
                 "--iterations", "120", "--checkpoint_every", "60", "--run_name", "e2e"]
    assert run(arguments + ["--phase", "both", "--score", "both"], tmp_path) == 0

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
    assert (tmp_path / "checkpoints/digits/e2e/1_1/config.json").exists()

    capsys.readouterr()
    assert run(arguments + ["--phase", "train"], tmp_path) == 0
    assert "already trained (120 iterations)" in capsys.readouterr().out
