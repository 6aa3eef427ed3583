"""DGAD against AD-CGAN in one table: the papers' values beside ours, wall times, and a resumable run."""

import csv

import pytest

import reproduce
from models.adcgan.score_functions import SCORES as ADCGAN_SCORES
from models.registry import METHODS
from utils.running.config import Config
from utils.studies.comparison import (budget_lines, comparison_groups, comparison_rows, method_floors,
                                      write_comparison_table)
from utils.studies.runner import class_floors

MNIST_NAMES = tuple("0123456789")


def fabricated_results(groups, classes):
    return {group.key(score, index): {"auc": 0.9, "training_seconds": 10.0, "scoring_seconds": 0.5,
                                      "pca_floor_auc": 0.8 + index / 10, "knn_floor_auc": 0.7}
            for group in groups for score in group.scores for index in classes}


def bases(scheme="one_vs_all"):
    return {method: Config(method=method, dataset="npz", scheme=scheme) for method in METHODS}


def table(tmp_path, named_dataset, scheme, paper_dataset="mnist"):
    groups = comparison_groups((1,))
    rows = comparison_rows(groups, bases(scheme), [0, 1], fabricated_results(groups, [0, 1]), paper_dataset)
    dataset = named_dataset("npz", MNIST_NAMES)
    floors = class_floors(fabricated_results(groups, [0, 1]), [0, 1])
    return rows, write_comparison_table(tmp_path / "compare", rows, dataset, [0, 1], ["# header"], floors)


def test_one_vs_all_puts_both_papers_values_beside_ours(tmp_path, named_dataset):
    rows, markdown = table(tmp_path, named_dataset, "one_vs_all")
    assert [row["method"] for row in rows] == ["DGAD (s_rec, Protocol 1)", "AD-CGAN (NS)", "AD-CGAN_LG",
                                                "AD-CGAN_LFE", "AD-CGAN_LFL", "Autoencoder (s_rec)"]
    # The baseline is in no paper.
    assert "| Autoencoder (s_rec) | 0.9000 / — | 0.9000 / — | 0.9000 | — | — | — |" in markdown
    # DGAD paper, Table 1, MNIST P1: 0.9934 and 0.9981 (mean 0.99575, printed as 0.9957 in binary floating point);
    # printed mean 0.9864.
    assert ("| DGAD (s_rec, Protocol 1) | 0.9000 / 0.9934 | 0.9000 / 0.9981 | 0.9000 | 0.9957 | -0.0957 | 0.9864 "
            "| 20 | 1.0 |") in markdown
    # AD-CGAN paper, Table 3, MNIST one-vs-all: 0.971 and 0.957; printed mean 0.923.
    assert "| AD-CGAN (NS) | 0.9000 / 0.9710 | 0.9000 / 0.9570 | 0.9000 | 0.9640 | -0.0640 | 0.9230 |" in markdown
    # AD-CGAN Table 4 gives only the mean of each ablation.
    assert "| AD-CGAN_LFE | 0.9000 / — | 0.9000 / — | 0.9000 | — | — | 0.8440 |" in markdown
    # The floors of each class's split, under the methods' rows, in the table and its CSV.
    assert "| PCA floor | 0.8000 | 0.9000 | 0.8500 | — | — | — | — | — |" in markdown
    assert "| kNN floor | 0.7000 | 0.7000 | 0.7000 | — | — | — | — | — |" in markdown
    with open(tmp_path / "compare.csv") as file:
        floor_rows = [row for row in csv.DictReader(file) if row["method"] == "PCA floor"]
    assert [(row["class_index"], float(row["ours_auc"])) for row in floor_rows] == [
        ("0", 0.8), ("1", 0.9), ("mean", pytest.approx(0.85))]


def test_floors_are_per_method_where_the_methods_read_images_of_different_sizes():
    groups = comparison_groups((1,))
    results = {key: {**value, "pca_floor_auc": 0.6} if key[0] == "adcgan" else value
               for key, value in fabricated_results(groups, [0]).items()}
    sizes = {"dgad": Config(method="dgad", dataset="npz"), "adcgan": Config(method="adcgan", dataset="npz",
                                                                           image_size=28)}
    floors = method_floors(sizes, results, [0])
    assert floors["PCA floor (32x32, as DGAD reads them)"] == [0.8]
    assert floors["PCA floor (28x28, as AD-CGAN reads them)"] == [0.6]
    assert method_floors(bases(), results, [0]) == {"PCA floor": [0.8], "kNN floor": [0.7]}


def test_the_budgets_say_which_method_ran_under_xla():
    # The training and scoring times side by side depend on it, and the two methods' defaults differ.
    bases = {"dgad": Config(dataset="digits", width=8, batch_size=32, iterations=300),
             "adcgan": Config(method="adcgan", dataset="digits", width=8, batch_size=32, iterations=300)}
    dgad, adcgan = budget_lines(bases)
    assert dgad.startswith("- DGAD: width 8, batch 32, 300 iterations") and dgad.endswith(". With XLA.")
    assert adcgan.startswith("- AD-CGAN: width 8, batch 32, 300 iterations") and adcgan.endswith(". Without XLA.")
    assert budget_lines({"adcgan": bases["adcgan"].replace(jit_compile=True)})[0].endswith(". With XLA.")


def test_rows_are_named_by_each_method_with_its_protocol_or_score():
    groups = comparison_groups((1, 2))
    rows = comparison_rows(groups, bases(), [0], fabricated_results(groups, [0]), "mnist")
    assert [(row["method"], row["score"], row["protocol"]) for row in rows] == [
        ("DGAD (s_rec, Protocol 1)", "rec", 1), ("DGAD (s_rec, Protocol 2)", "rec", 2), ("AD-CGAN (NS)", "gf", None),
        ("AD-CGAN_LG", "lg", None), ("AD-CGAN_LFE", "lfe", None), ("AD-CGAN_LFL", "lfl", None),
        ("Autoencoder (s_rec)", "rec", None)]
    # DGAD paper, Table 1, MNIST P2, class 0.
    assert rows[1]["paper"] == [0.9966]


def test_all_vs_one_has_no_dgad_paper_values(tmp_path, named_dataset):
    _, markdown = table(tmp_path, named_dataset, "all_vs_one")
    assert "| DGAD (s_rec, Protocol 1) | 0.9000 / — | 0.9000 / — | 0.9000 | — | — | — |" in markdown
    assert "| AD-CGAN (NS) | 0.9000 / 0.9460 | 0.9000 / 0.8580 | 0.9000 | 0.9020 | -0.0020 | 0.8500 |" in markdown
    with open(tmp_path / "compare.csv") as file:
        csv_rows = list(csv.DictReader(file))
    assert len(csv_rows) == 8 * 3  # two classes and a mean per row, six of ours and the two floors
    mean = next(row for row in csv_rows if row["score"] == "gf" and row["class_index"] == "mean")
    assert float(mean["paper_auc"]) == pytest.approx(0.902) and float(mean["training_seconds"]) == 20.0


def test_data_that_is_not_a_papers_dataset_gets_no_paper_values(tmp_path, named_dataset):
    rows, _ = table(tmp_path, named_dataset, "one_vs_all", paper_dataset=None)
    assert all(row["paper"] == [None, None] and row["paper_printed_mean"] is None for row in rows)


@pytest.mark.parametrize("arguments, message", [
    (["--table", "compare", "--same_classes_as_paper"],
     "--same_classes_as_paper applies to --table 1 | 2 | 3 | 4 | 5 only (compare takes --paper_dataset)"),
    (["--table", "1", "--paper_dataset", "mnist"], "--paper_dataset applies to --table compare only"),
    (["--table", "compare", "--rounds", "5"], "--rounds applies to --table 5 only"),
    (["--table", "compare", "--paper_dataset", "mvtec"], "invalid choice: 'mvtec'"),
])
def test_flags_that_do_nothing_for_the_table_are_refused(arguments, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        reproduce.parse_arguments(arguments)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1


def test_a_run_trained_before_times_were_recorded_shows_no_training_time(tmp_path, named_dataset):
    groups = comparison_groups((1,))
    results = {key: {**value, "training_seconds": None} for key, value in fabricated_results(groups, [0]).items()}
    row = comparison_rows(groups, bases(), [0], results, None)[0]
    markdown = write_comparison_table(tmp_path / "compare", [row], named_dataset("npz", MNIST_NAMES), [0], [],
                                      class_floors(results, [0]))
    assert "| DGAD (s_rec, Protocol 1) | 0.9000 / — | 0.9000 | — | — | — | — | 0.5 |" in markdown


# Batches of 32 score the 719 test images in few passes.
TINY = ["--table", "compare", "--dataset", "digits", "--classes", "0", "--width", "2", "--batch_size", "32",
        "--iterations", "2", "--no_xla"]


@pytest.mark.slow
@pytest.mark.usefixtures("eager_functions")
def test_the_comparison_runs_both_methods_and_resumes_without_redoing_them(run_reproduce, tmp_path, capsys):
    assert run_reproduce(TINY) == 0
    output = capsys.readouterr().out
    assert "s_rec AUC" in output and all(f"s_{score} AUC" in output for score in ADCGAN_SCORES)
    assert "| DGAD (s_rec, Protocol 1) | " in output and "| AD-CGAN (NS) | " in output
    assert "AD-CGAN: width 2, batch 32, 2 iterations" in output
    assert "| Autoencoder (s_rec) | " in output and "Autoencoder: width 2, batch 32, 2 iterations" in output

    assert run_reproduce(TINY) == 0
    output = capsys.readouterr().out
    assert output.count("already tested; skipping") == len(METHODS) and "AUC 0." not in output
    tables = list((tmp_path / "results/tables").glob("compare-digits-*.md"))
    assert len(tables) == 1 and tables[0].with_suffix(".csv").exists()
