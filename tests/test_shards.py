"""A table's grid across machines or GPUs: shards that cover it once, --shard's errors, and --collect."""

import csv
import json
import random

import pytest

import reproduce
from test_runner import save_results
from models.registry import METHODS
from utils.running.experiment import Experiment
from utils.studies.comparison import comparison_groups
from utils.studies.runner import grid_pairs, shard_pairs
from utils.studies.tables import TABLES, dgad_group, table_path

GRIDS = {
    "one run": (1, [0]),
    "Tables 1 and 2": (len(TABLES[1].groups), list(range(10))),
    "Table 3 (MVTec AD)": (len(TABLES[3].groups), list(range(15))),
    "Table 4": (len(TABLES[4].groups), list(range(10))),
    "compare": (len(comparison_groups((1,))), list(range(10))),
    "compare, both protocols, some classes": (len(comparison_groups((1, 2))), [0, 4, 7]),
}


@pytest.mark.parametrize("grid", GRIDS.values(), ids=GRIDS.keys())
@pytest.mark.parametrize("shards", [1, 2, 3, 4, 7, 8, 16, 99, 100, 101, 1000])
def test_shards_cover_the_grid_exactly_once(grid, shards):
    group_count, classes = grid
    slices = [shard_pairs(group_count, classes, shard, shards) for shard in range(1, shards + 1)]
    everything = [pair for pairs in slices for pair in pairs]
    assert sorted(everything) == grid_pairs(group_count, classes)
    assert len(everything) == len(set(everything)) == group_count * len(classes)
    # No shard is more than one run longer than another.
    assert max(map(len, slices)) - min(map(len, slices)) <= 1
    # The slices follow from the grid alone, not from the order the classes were given in.
    shuffled = random.Random(shards).sample(classes, len(classes))
    assert [shard_pairs(group_count, shuffled, shard, shards) for shard in range(1, shards + 1)] == slices


def test_the_real_grids_have_the_tables_runs_and_table_4s_ten_shards_are_one_run_group_each():
    assert len(TABLES[4].groups) == 10 and len(grid_pairs(10, list(range(10)))) == 100
    assert len(comparison_groups((1,))) == len(METHODS)  # one run group of each method
    # While the run lock is per run group, shards on different groups never wait for each other.
    assert [{group for group, _ in shard_pairs(10, list(range(10)), shard, 10)} for shard in range(1, 11)] == [
        {group} for group in range(10)]
    # More shards than runs: the extra ones are empty.
    assert [shard_pairs(1, [0, 1], shard, 4) for shard in range(1, 5)] == [[], [(0, 0)], [], [(0, 1)]]


@pytest.mark.parametrize("shard", ["0/4", "5/4", "x", "4", "1/0", "0/0", "-1/4", "1/4/2", "1.5/4", "1/ 4", ""])
def test_a_malformed_shard_is_a_one_line_error_naming_the_form(shard, capsys):
    with pytest.raises(SystemExit) as exit_info:
        reproduce.parse_arguments(["--table", "2", f"--shard={shard}"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert f"argument --shard: expected K/N with 1 <= K <= N, e.g. 3/8 for the third of 8 shards; got {shard}" in error
    assert len(error.splitlines()) == 1


@pytest.mark.parametrize("arguments, message", [
    (["--table", "5", "--shard", "1/2"],
     "--shard applies to --table 1 | 2 | 3 | 4 | compare only (Table 5 times its scores on one machine: run it whole)"),
    (["--table", "5", "--collect"], "--collect applies to --table 1 | 2 | 3 | 4 | compare only"),
    (["--table", "1", "--shard", "1/2", "--collect"], "argument --collect: not allowed with argument --shard"),
])
def test_table_5_and_a_shard_that_collects_are_refused(arguments, message, capsys):
    with pytest.raises(SystemExit):
        reproduce.parse_arguments(arguments)
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1


def test_shards_of_the_comparison_and_of_table_4_parse():
    assert reproduce.parse_arguments(["--table", "compare", "--shard", "3/8"]).shard == (3, 8)
    assert reproduce.parse_arguments(["--table", "4", "--collect"]).collect


@pytest.mark.parametrize("argv", [
    ["--table", "2", "--shard", "3/8", "--classes", "0"],
    ["--table", "2", "--shard=3/8", "--classes", "0"],
    ["--table", "2", "--sha", "3/8", "--classes", "0"],
    ["--table", "2", "--classes", "0", "--collect"],
    ["--table", "2", "--coll", "--classes", "0"],
])
def test_the_whole_grids_command_drops_the_shard_or_collect_flag_however_it_was_written(argv):
    reproduce.parse_arguments(argv)  # argparse accepts every form
    assert reproduce.without_flag(reproduce.without_flag(argv, "--shard", True), "--collect", False) == [
        "--table", "2", "--classes", "0"]


# Table 1 (Protocols 1 and 2) on digits 0 and 1: four runs.
TINY = ["--table", "1", "--dataset", "digits", "--classes", "0", "1", "--width", "4", "--batch_size", "32",
        "--iterations", "2", "--no_xla"]


@pytest.fixture
def instant_runs(monkeypatch):
    """Experiments that train nothing and test instantly (results as test_class writes them, made-up scores);
    returns the (protocol, class) of each training asked for."""
    trained = []

    def train(experiment, class_index):
        experiment.hold_class_folder(class_index)
        trained.append((experiment.config.protocol, class_index))

    def test(experiment, class_index, scores):
        for score in scores:
            save_results(experiment, class_index, score)

    monkeypatch.setattr(Experiment, "train_class", train)
    monkeypatch.setattr(Experiment, "test_class", test)
    return trained


def forbid_runs(monkeypatch):
    def refuse(*_args):
        raise AssertionError("--collect trained, tested or built a model")

    for name in ("train_class", "test_class", "fresh_model"):
        monkeypatch.setattr(Experiment, name, refuse)


def test_shards_run_their_runs_once_and_collect_marks_what_is_missing_without_training(
        run_reproduce, instant_runs, tiny_config, digits, folders, monkeypatch, capsys):
    assert run_reproduce(TINY + ["--shard", "3/3"]) == 0
    output = capsys.readouterr().out
    assert "shard 3/3 ran 2 of the table's 4 runs: dgad, protocol 2: 0 (0), 1 (1)" in output
    collect = "python reproduce.py " + " ".join(TINY + ["--results_dir", folders["results_dir"], "--checkpoint_dir",
                                                         folders["checkpoint_dir"], "--collect"])
    assert f"once every shard has finished, write the table with: {collect}" in output
    config = tiny_config(width=4, batch_size=32, iterations=2, **folders)
    markdown_path = table_path(folders["results_dir"], TABLES[1], config).with_suffix(".md")
    assert not markdown_path.exists()  # a shard writes no table
    assert run_reproduce(TINY + ["--shard", "1/3"]) == 0
    assert "shard 1/3 ran 1 of the table's 4 runs: dgad, protocol 1: 0 (0)" in capsys.readouterr().out

    with monkeypatch.context() as collecting:
        forbid_runs(collecting)
        assert run_reproduce(TINY + ["--collect"]) == 0
    markdown = markdown_path.read_text()
    assert markdown in capsys.readouterr().out
    assert "Collected from the runs that exist: this command trained and tested nothing." in markdown
    # Protocol 1's class 1 is missing, and its mean says it is over one class of two.
    row = next(line for line in markdown.splitlines() if line.startswith("| 1 | DGAD | "))
    assert "| missing / — |" in row and "(1 of 2 classes)" in row
    assert "missing" not in next(line for line in markdown.splitlines() if line.startswith("| 2 | DGAD | "))
    assert ("**1 of the table's 4 runs (run group x class) is missing**, marked missing above: run "
            f"`{collect.removesuffix(' --collect')}` (or its `--shard K/N` slices") in markdown
    with open(markdown_path.with_suffix(".csv")) as file:
        table = {(row["protocol"], row["class_index"]): row for row in csv.DictReader(file)}
    assert table[("1", "1")]["ours_auc"] == "" and table[("1", "0")]["ours_auc"] != ""
    assert table[("1", "mean")]["class_name"] == "mean (1 of 2 classes)"
    assert table[("2", "mean")]["class_name"] == "mean"

    assert run_reproduce(TINY + ["--shard", "2/3"]) == 0
    assert instant_runs == [(2, 0), (2, 1), (1, 0), (1, 1)]  # each run once, by its own shard
    # The last shard of a run group summarises the group's classes that every shard finished.
    protocol_1 = Experiment(dgad_group(1).config({"dgad": config}), digits).config
    summary = json.loads((protocol_1.results_folder("rec") / "summary.json").read_text())
    assert set(summary["per_class_auc"]) == {"0", "1"}

    forbid_runs(monkeypatch)
    capsys.readouterr()
    assert run_reproduce(TINY + ["--collect"]) == 0
    markdown = markdown_path.read_text()
    assert "missing" not in markdown and "classes)" not in markdown


def test_a_shard_with_nothing_to_run_says_so(run_reproduce, instant_runs, capsys):
    assert run_reproduce(TINY + ["--shard", "5/8", "--protocols", "1"]) == 0
    output = capsys.readouterr().out
    assert "shard 5/8 ran 0 of the table's 2 runs (the table has fewer runs than 8 shards)" in output
    assert instant_runs == []


def test_a_collected_comparison_marks_the_method_whose_runs_are_missing(run_reproduce, monkeypatch, capsys):
    forbid_runs(monkeypatch)
    monkeypatch.setattr(Experiment, "class_metrics", lambda experiment, index, score: (
        {"auc": 0.75, "training_seconds": 10.0, "scoring_seconds": 0.5} if experiment.config.method == "dgad"
        else None))
    assert run_reproduce(["--table", "compare", "--dataset", "digits", "--classes", "0", "--width", "2",
                          "--batch_size", "32", "--iterations", "2", "--collect"]) == 0
    output = capsys.readouterr().out
    assert "| DGAD (s_rec, Protocol 1) | 0.7500 / — | 0.7500 | — | — | — | 10 | 0.5 |" in output
    assert "| AD-CGAN (NS) | missing / — | — | — | — | — | — | — |" in output
    assert "| Autoencoder (s_rec) | missing / — | — | — | — | — | — | — |" in output
    assert f"**{len(METHODS) - 1} of the table's {len(METHODS)} runs (run group x class) are missing**" in output
