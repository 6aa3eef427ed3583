"""The per-table experiment runner: the tables it writes, and resuming a grid that was interrupted."""

import csv
import dataclasses
import json

import numpy as np
import pytest

import reproduce
from utils.running.config import Config
from utils.running.experiment import Experiment
from utils.studies.runner import across_seeds, class_floors, run_grid
from utils.studies.table_parts import seeds_line
from utils.studies.tables import (TABLES, accuracy_section, auc_rows, dgad_group, pixel_auroc_section, table_path,
                                  write_auc_table, write_speed_table)

CIFAR_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def fabricated_results(spec, classes, auc=0.9, accuracy=(0.95, 0.5)):
    return {group.key(score, index): {
        "auc": auc, "discriminator_accuracy_normal": accuracy[0], "discriminator_accuracy_all": accuracy[1]}
        for group in spec.groups for score in group.scores for index in classes}


def test_table_4_puts_the_papers_values_and_the_difference_beside_ours(tmp_path, named_dataset):
    spec = dataclasses.replace(TABLES[4], groups=tuple(g for g in TABLES[4].groups if g.setting("protocol") == 2))
    dataset = named_dataset("cifar10", CIFAR_NAMES)
    results = fabricated_results(spec, [0, 1])
    rows = auc_rows(spec, dataset, [0, 1], results)
    assert [(row["variant"], row["score"]) for row in rows][:2] == [("gan", "rec"), ("no_compactness", "rec")]
    assert len(rows) == 10  # five variants, two scores each

    floors = class_floors({**results, ("dgad", (), "rec", 1): {"pca_floor_auc": 0.75, "knn_floor_auc": 0.5}}, [0, 1])
    assert floors == {"PCA floor": [None, 0.75], "kNN floor": [None, 0.5]}
    markdown = write_auc_table(tmp_path / "t4", spec, dataset, [0, 1], rows, ["# header"], floors)
    assert "| all | PCA floor | — | 0.7500 | 0.7500 (1 of 2 classes) | — | — | — |" in markdown
    assert "| all | kNN floor | — | 0.5000 | 0.5000 (1 of 2 classes) | — | — | — |" in markdown
    # DGAD (sdir), Protocol 2, in the paper: airplane 0.787, automobile 0.825; mean 0.806, printed mean 0.7840.
    assert "| 2 | DGAD (sdir) | 0.9000 / 0.7870 | 0.9000 / 0.8250 | 0.9000 | 0.8060 | +0.0940 | 0.7840 |" in markdown
    # The paper has no s_dir row for the GAN variant.
    assert "| 2 | GAN (sdir) | 0.9000 / — | 0.9000 / — | 0.9000 | — | — | — |" in markdown
    with open(tmp_path / "t4.csv") as file:
        table = list(csv.DictReader(file))
    assert len(table) == 12 * 3  # two classes and a mean per row, ten of ours and the two floors
    pca_rows = [row for row in table if row["variant"] == "PCA floor"]
    assert [(row["class_index"], row["ours_auc"]) for row in pca_rows] == [("0", ""), ("1", "0.75"), ("mean", "0.75")]
    mean = next(row for row in table if row["variant"] == "dgad" and row["score"] == "dir"
                and row["class_index"] == "mean")
    assert float(mean["difference"]) == pytest.approx(0.094)

    accuracy = accuracy_section(tmp_path / "t4", spec, dataset, [0, 1], results)
    # Supplement Table 7, DGAD, Protocol 2: airplane 0.409, automobile 0.507.
    assert "| 2 | DGAD | all | 0.500 / 0.409 | 0.500 / 0.507 | 0.500 | 0.458 |" in accuracy
    assert (tmp_path / "t4-discriminator-accuracy.csv").exists()


def test_per_class_paper_values_only_where_the_data_is_the_papers(named_dataset):
    spec = dataclasses.replace(TABLES[1], per_class_comparable=False)
    rows = auc_rows(spec, named_dataset("npz", tuple("0123456789")), [0], fabricated_results(spec, [0]))
    assert rows[0]["paper"] == [None] and rows[0]["paper_mean_same_classes"] is None
    assert rows[0]["paper_printed_mean"] == pytest.approx(0.9864)


def test_mvtec_paper_values_follow_the_category_names_not_the_indices(named_dataset):
    spec = TABLES[3]
    dataset = named_dataset("mvtec", ("bottle", "screw"))
    rows = auc_rows(spec, dataset, [0, 1], fabricated_results(spec, [0, 1]))
    assert rows[0]["paper"] == [0.97, 0.67]  # Table 3 numbers bottle 0 and screw 13


def test_table_3_gets_the_pixel_auroc_of_each_category_beside_its_auc(tmp_path, named_dataset):
    spec = TABLES[3]
    dataset = named_dataset("mvtec", ("bottle", "screw"))
    results = fabricated_results(spec, [0, 1])
    results[spec.groups[0].key("rec", 0)]["pixel_auroc"] = 0.875
    markdown = pixel_auroc_section(tmp_path / "t3", spec, dataset, [0, 1], results)
    assert "| bottle | screw | Mean |" in markdown
    # The mean says it is over one of the two categories.
    assert "| 3 | DGAD | 0.8750 | — | 0.8750 (1 of 2 classes) |" in markdown
    assert "0.875" in (tmp_path / "t3-pixel-auroc.csv").read_text()


def test_a_class_without_an_auc_is_a_dash_and_left_out_of_the_mean_which_says_so(tmp_path, named_dataset):
    spec = TABLES[1]
    dataset = named_dataset("folder", ("photos", "more"))
    results = fabricated_results(spec, [0, 1])
    for group in spec.groups:
        results[group.key("rec", 1)]["auc"] = None
    rows = auc_rows(spec, dataset, [0, 1], results)
    assert rows[0]["mean"] == pytest.approx(0.9)
    markdown = write_auc_table(tmp_path / "t1", spec, dataset, [0, 1], rows, ["# header"], class_floors(results, [0, 1]))
    # The paper's mean is over the classes ours covers: class 0's 0.9966 alone.
    assert "| 0.9000 / 0.9966 | — / 0.9987 | 0.9000 (1 of 2 classes) | 0.9966 | -0.0966 |" in markdown


def test_speed_table_prints_both_ratios_beside_the_papers(tmp_path):
    rows = [{"protocol": 1, "rec": 360.0, "dir": 100.0, "dir_with_fit": 80.0, "train_images": 10, "test_images": 20}]
    markdown = write_speed_table(tmp_path / "t5", rows, ["# header"], rounds=3)
    assert "| 1 | 360.0 | 100.0 | 3.60x | 80.0 | 4.50x | 120.97 | 33.04 | 3.66x |" in markdown
    assert "3.6" in (tmp_path / "t5.csv").read_text()


# Batches of 32 score the 719 test images in few passes.
TINY = ["--dataset", "digits", "--classes", "0", "--width", "4", "--batch_size", "32", "--iterations", "2",
        "--no_xla"]


@pytest.fixture
def run_table(run_reproduce):
    return lambda arguments: run_reproduce(arguments + TINY)


@pytest.fixture(scope="module")
def trained_class_0(tiny_config, digits, tmp_path_factory):
    """The checkpoints of digits class 0 trained at TINY's budget, Protocol 1, as TINY's runs name them."""
    folder = tmp_path_factory.mktemp("trained") / "checkpoints"
    experiment = Experiment(tiny_config(width=4, batch_size=32, iterations=2, checkpoint_dir=str(folder)), digits)
    experiment.train_class(0)
    experiment.close()
    return folder


@pytest.mark.slow
def test_an_interrupted_grid_resumes_without_redoing_finished_runs_and_more_seeds_add_only_theirs(run_table, tmp_path,
                                                                                                   capsys, monkeypatch):
    arguments = ["--table", "1", "--protocols", "1"]
    real_test_class = Experiment.test_class

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Experiment, "test_class", interrupted)
    assert run_table(arguments) == 130
    assert "run the same command again" in capsys.readouterr().err

    monkeypatch.setattr(Experiment, "test_class", real_test_class)
    assert run_table(arguments) == 0
    output = capsys.readouterr().out
    assert "already trained (2 iterations)" in output and "s_rec AUC" in output

    assert run_table(arguments) == 0
    output = capsys.readouterr().out
    assert "already tested; skipping" in output and "s_rec AUC" not in output
    config = Config(dataset="digits", width=4, batch_size=32, iterations=2, seed=0)
    markdown = table_path(str(tmp_path / "results"), TABLES[1], config).with_suffix(".md").read_text()
    assert "| 1 | DGAD | " in markdown and "budget: width 4, batch 32, 2 iterations per class" in markdown
    # One class: the mean's interval is the class's own.
    row = next(line for line in markdown.splitlines() if line.startswith("| 1 | DGAD | ")).split(" | ")
    assert row[2].split(" / ")[0] == row[3] and row[3].count("[") == 1

    # --seeds 0,1: seed 0's run is the one just finished, so only seed 1 trains and tests.
    assert run_table(arguments + ["--seeds", "0,1"]) == 0
    assert capsys.readouterr().out.count("s_rec AUC") == 1
    runs = sorted((tmp_path / "results" / "digits").iterdir())
    assert [run.name[-5:] for run in runs] == ["seed0", "seed1"]
    per_seed = [json.loads(next(run.rglob("metrics.json")).read_text())["auc"] for run in runs]
    path = table_path(str(tmp_path / "results"), TABLES[1], config, (0, 1))
    row = next(line for line in path.with_suffix(".md").read_text().splitlines() if line.startswith("| 1 | DGAD | "))
    assert f"{np.mean(per_seed):.4f} ± {np.std(per_seed, ddof=1):.4f}" in row
    with open(path.with_suffix(".csv")) as file:
        mean = next(line for line in csv.DictReader(file) if line["class_index"] == "mean" and line["protocol"] == "1")
    assert float(mean["sd_over_seeds"]) == pytest.approx(np.std(per_seed, ddof=1))


@pytest.mark.slow
def test_table_5_measures_both_scores_on_the_protocols_asked_for(run_table, trained_class_0, copy_checkpoints, capsys):
    copy_checkpoints(trained_class_0)
    assert run_table(["--table", "5", "--rounds", "1", "--protocols", "1"]) == 0
    output = capsys.readouterr().out
    row = next(line for line in output.splitlines() if line.startswith("| 1 | "))
    rec, dir_, ratio = (cell.strip() for cell in row.split("|")[2:5])
    assert float(ratio.rstrip("x")) == pytest.approx(float(rec) / float(dir_), rel=0.02)
    assert "| 2 | " not in output


@pytest.mark.slow
def test_a_grid_adds_only_the_missing_score_and_retests_an_unfinished_model(trained_class_0, copy_checkpoints,
                                                                            tiny_config, digits, folders, tmp_path,
                                                                            capsys):
    copy_checkpoints(trained_class_0)
    config = tiny_config(width=4, batch_size=32, iterations=2, **folders)
    run_grid({"dgad": config}, digits, [dgad_group(1)], [0])
    capsys.readouterr()

    results = run_grid({"dgad": config}, digits, [dgad_group(1, ("rec", "dir"))], [0])
    output = capsys.readouterr().out
    assert "already trained" in output and "s_dir AUC" in output and "s_rec AUC" not in output
    settings = (("variant", "dgad"), ("protocol", 1))
    assert set(results) == {("dgad", settings, "rec", 0), ("dgad", settings, "dir", 0)}

    metrics_path = tmp_path / "results/digits" / config.run_id / "s_rec/0_0/metrics.json"
    metrics = json.loads(metrics_path.read_text())
    metrics_path.write_text(json.dumps({**metrics, "trained_iterations": 1}))
    run_grid({"dgad": config}, digits, [dgad_group(1, ("rec", "dir"))], [0])
    output = capsys.readouterr().out
    assert "s_rec AUC" in output and "s_dir AUC" not in output


def test_a_protocol_the_table_does_not_have_is_a_one_line_error(run_table, capsys):
    assert run_table(["--table", "3", "--protocols", "1"]) == 2
    assert capsys.readouterr().err.strip() == "error: Table 3 has no protocol [1]; it has [3]"


def test_the_cpu_budget_is_the_learning_curves_length_and_each_flag_overrides_only_itself():
    def config(*flags):
        return reproduce.base_config(reproduce.parse_arguments(["--table", "1", *flags]), "mnist")

    paper, cpu = config(), config("--budget", "cpu")
    assert (paper.width, paper.batch_size, paper.iterations) == (64, 64, 10000)
    assert (cpu.width, cpu.batch_size, cpu.iterations) == (8, 32, 8000)
    shortened = config("--budget", "cpu", "--iterations", "300")
    assert (shortened.width, shortened.batch_size, shortened.iterations) == (8, 32, 300)


def test_a_cell_of_one_seed_carries_its_bootstrap_interval(tmp_path, named_dataset):
    spec = TABLES[1]
    dataset = named_dataset("mnist", tuple("0123456789"))
    results = fabricated_results(spec, [0, 1])
    results[spec.groups[0].key("rec", 0)]["auc_interval"] = [0.85, 0.95]
    markdown = write_auc_table(tmp_path / "t1", spec, dataset, [0, 1], auc_rows(spec, dataset, [0, 1], results),
                               ["# header"], class_floors(results, [0, 1]))
    # MNIST digits 0 and 1 of the paper's Table 1, Protocol 1: 0.9934 and 0.9981.
    assert "| 1 | DGAD | 0.9000 [0.8500, 0.9500] / 0.9934 | 0.9000 / 0.9981 | 0.9000 |" in markdown
    with open(tmp_path / "t1.csv") as file:
        table = list(csv.DictReader(file))
    first = next(row for row in table if row["class_index"] == "0" and row["protocol"] == "1")
    assert (first["ours_auc"], first["interval_low"], first["interval_high"], first["sd_over_seeds"]) == (
        "0.9", "0.85", "0.95", "")


def test_the_mean_of_one_seed_carries_the_interval_of_the_mean_of_the_classes_resamples(tmp_path, named_dataset):
    spec = TABLES[1]
    dataset = named_dataset("mnist", tuple("0123456789"))
    results = fabricated_results(spec, [0, 1])
    # Resample i of the mean is the mean of the classes' resamples i: 0.5 * (0.80 + 0.90) + i / 1000 * 0.5 * 0.1.
    for index, start in ((0, 0.8), (1, 0.9)):
        results[spec.groups[0].key("rec", index)]["resampled"] = {"auc": np.linspace(start, start + 0.1, 1001)}
    markdown = write_auc_table(tmp_path / "t1", spec, dataset, [0, 1], auc_rows(spec, dataset, [0, 1], results),
                               ["# header"], class_floors(results, [0, 1]))
    # The 2.5th and 97.5th percentiles of linspace(0.85, 0.95, 1001): 0.8525 and 0.9475.
    protocol_1, protocol_2 = (line.split(" | ") for line in markdown.splitlines() if " | DGAD | " in line)
    assert protocol_1[4] == "0.9000 [0.8525, 0.9475]"
    # Protocol 2's runs have no resamples: their mean has no interval.
    assert protocol_2[4] == "0.9000"
    with open(tmp_path / "t1.csv") as file:
        mean = next(row for row in csv.DictReader(file) if row["class_index"] == "mean" and row["protocol"] == "1")
    assert float(mean["interval_low"]) == pytest.approx(0.8525) and float(mean["interval_high"]) == pytest.approx(0.9475)


def test_several_seeds_give_mean_and_standard_deviation_per_cell_and_for_the_mean(tmp_path, named_dataset):
    spec = TABLES[1]
    dataset = named_dataset("mnist", tuple("0123456789"))
    per_seed = []
    for auc in (0.8, 0.9, 1.0):
        results = fabricated_results(spec, [0, 1], auc=auc)
        results[spec.groups[0].key("rec", 1)]["auc"] = auc - 0.1
        for metrics in results.values():
            metrics["auc_interval"] = [auc - 0.05, auc + 0.05]
        per_seed.append(results)
    combined = across_seeds(per_seed)
    metrics = combined[spec.groups[0].key("rec", 0)]
    assert metrics["auc"] == pytest.approx(0.9) and metrics["auc_per_seed"] == [0.8, 0.9, 1.0]
    assert "auc_interval" not in metrics
    markdown = write_auc_table(tmp_path / "t1", spec, dataset, [0, 1], auc_rows(spec, dataset, [0, 1], combined),
                               ["# header"], class_floors(combined, [0, 1]))
    # Class 0: 0.8, 0.9, 1.0; class 1: 0.7, 0.8, 0.9; the seeds' means over classes 0.75, 0.85, 0.95.
    assert "| 1 | DGAD | 0.9000 ± 0.1000 / 0.9934 | 0.8000 ± 0.1000 / 0.9981 | 0.8500 ± 0.1000 |" in markdown
    with open(tmp_path / "t1.csv") as file:
        mean = next(row for row in csv.DictReader(file) if row["class_index"] == "mean" and row["protocol"] == "1")
    assert (float(mean["ours_auc"]), mean["interval_low"], float(mean["sd_over_seeds"])) == (
        pytest.approx(0.85), "", pytest.approx(0.1))
    # A seed whose run has not finished leaves the cell missing.
    per_seed[2][spec.groups[0].key("rec", 0)] = None
    assert across_seeds(per_seed)[spec.groups[0].key("rec", 0)] is None
    assert "over 3 seeds (0, 1, 2)" in seeds_line((0, 1, 2)) and seeds_line((0,)).startswith("Our cells carry")
    assert table_path("results", spec, Config(dataset="mnist"), (0, 1, 2)).name.endswith("-seeds0-1-2")


@pytest.mark.parametrize("value, message", [
    ("", "expected two or more comma-separated seeds"), ("a,b", "expected two or more comma-separated seeds"),
    ("0,-1", "expected two or more comma-separated seeds"), ("1,2,1", "each seed once"),
    ("3", "two or more seeds"),
])
def test_bad_seed_lists_are_one_line_errors_before_any_run(value, message, capsys):
    with pytest.raises(SystemExit):
        reproduce.parse_arguments(["--table", "1", "--seeds", value])
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_seed_and_seeds_together_or_seeds_for_table_5_are_refused(capsys):
    for arguments in (["--table", "1", "--seed", "1", "--seeds", "0,1"], ["--table", "5", "--seeds", "0,1"]):
        with pytest.raises(SystemExit):
            reproduce.parse_arguments(arguments)
    first, second = capsys.readouterr().err.splitlines()
    assert "not allowed with argument --seed" in first and "--seeds applies to --table" in second
    assert reproduce.parse_arguments(["--table", "1", "--seeds", "2, 0"]).seeds == (2, 0)
