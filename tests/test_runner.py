"""The run grid: each group's configuration, what counts as finished, and a group that fails part way."""

import numpy as np
import pytest

from data.pipeline import one_class_split
from models.adcgan.score_functions import SCORES as ADCGAN_SCORES
from models.method import ScoreResult
from models.registry import get_method
from utils.running.config import Config, load_config_dict
from utils.running.detector import ScoreState
from utils.running.evaluation import decide
from utils.running.experiment import Experiment, ExperimentError
from utils.running.training import TrainingDiverged
from utils.studies import runner
from utils.studies.runner import RunGroup
from utils.studies.tables import dgad_group


class StubExperiment:
    """Trains and tests instantly; training class 1 diverges. Records the summaries written."""

    summaries = []
    closed = []

    def __init__(self, config, dataset):
        self.config, self.method = config, get_method(config.method)
        self.tested = set()

    def class_metrics(self, class_index, score):
        return {"auc": 0.5 + class_index / 10} if class_index in self.tested else None

    def class_resamples(self, class_index, score):
        return {}

    def train_class(self, class_index):
        if class_index == 1:
            raise TrainingDiverged("training diverged at iteration 3")

    def test_class(self, class_index, scores):
        self.tested.add(class_index)

    def describe(self, class_index):
        return f"toy class {class_index}"

    def write_score_summary(self, score, per_class_auc):
        self.summaries.append((score, per_class_auc))

    def close(self):
        self.closed.append(True)


def test_a_group_that_fails_part_way_summarises_the_classes_tested_before_the_failure(monkeypatch, capsys,
                                                                                       named_dataset):
    monkeypatch.setattr(runner, "Experiment", StubExperiment)
    with pytest.raises(TrainingDiverged):
        runner.run_grid({"dgad": Config(dataset="digits")}, named_dataset("toy", ("a", "b", "c")), [dgad_group(1)],
                        [0, 1, 2])
    assert StubExperiment.summaries == [("rec", {0: {"auc": 0.5}})]
    assert StubExperiment.closed == [True]  # its run lock is released for other processes
    assert "dgad, protocol 1: a class failed; summarising the classes finished so far: a" in capsys.readouterr().out


# RunGroup.config: a group's settings on top of its method's base configuration.


@pytest.mark.parametrize("variant, concrete", [
    ("dgad", {"padding": "symmetric", "coordconv": False, "restoration": "discriminator", "lambda_cmp": 100.0}),
    ("gan", {"padding": "symmetric", "coordconv": False, "restoration": "pixel", "lambda_cmp": 100.0}),
    ("no_compactness", {"padding": "symmetric", "coordconv": False, "restoration": "discriminator",
                        "lambda_cmp": 0.0}),
    ("zero_padding", {"padding": "zero", "coordconv": False, "restoration": "discriminator", "lambda_cmp": 100.0}),
    ("coordconv", {"padding": "symmetric", "coordconv": True, "restoration": "discriminator", "lambda_cmp": 100.0}),
])
def test_a_variant_group_gets_the_variants_concrete_settings(variant, concrete, tiny_config):
    for base in (tiny_config(), tiny_config(variant="gan")):
        config = dgad_group(2, ("rec", "dir"), variant).config({"dgad": base})
        assert {name: getattr(config, name) for name in concrete} == concrete
        assert (config.variant, config.protocol, config.score, config.scores) == (variant, 2, "both", ("rec", "dir"))
        # The budget and folders are the base's.
        assert (config.width, config.iterations, config.checkpoint_dir) == (base.width, base.iterations,
                                                                           base.checkpoint_dir)
    base = tiny_config(width=4, iterations=4, batch_size=8)
    assert dgad_group(1, variant=variant).config({"dgad": base}).run_id == (
        "dgad-" + ("" if variant == "dgad" else variant + "-") + "p1-one_vs_all-w4-i4-b8-seed0")


def test_an_adcgan_group_takes_its_score_choice_and_names_its_results():
    base = Config(method="adcgan", dataset="digits")
    group = RunGroup("adcgan", ADCGAN_SCORES)
    assert group.config({"dgad": Config(dataset="digits"), "adcgan": base}) == base.replace(score="all")
    assert RunGroup("adcgan", ("lg",)).config({"adcgan": base}).score == "lg"
    assert group.key("lfe", 3) == ("adcgan", (), "lfe", 3)
    assert dgad_group(2, ("dir",), "gan").key("dir", 0) == ("dgad", (("variant", "gan"), ("protocol", 2)), "dir", 0)


# What counts as finished: results saved with other scoring settings are scored again.


def save_results(experiment, class_index, score):
    """Results of a finished training as Experiment.test_class writes them, with made-up scores."""
    split = one_class_split(experiment.dataset, class_index, experiment.config.scheme)
    anomaly_scores = np.random.default_rng(0).random(len(split.test_anomaly_labels))
    iterations = experiment.schedule(class_index).iterations
    decision = decide(anomaly_scores, split.test_anomaly_labels, None, 95.0)
    experiment.store_detector_state(class_index, split, iterations,
                                    {score: ScoreState(decision.normalisation, decision.threshold, {}, {}, 0.05)})
    result = ScoreResult(anomaly_scores, {}, {"images_per_second": 100.0})
    return experiment.write_results(class_index, split, score, result, decision,
                                    {"trained_iterations": iterations})["auc"]


@pytest.mark.parametrize("method, score, change", [
    ("dgad", "rec", {"lambda_s": 5.0}),
    ("adcgan", "gf", {"ns_lambda": 0.5}),
    ("adcgan", "gf", {"ns_rho": 0.25}),
])
def test_results_scored_with_another_scoring_setting_are_scored_again(method, score, change, tiny_config, digits,
                                                                      folders, monkeypatch, capsys):
    config = tiny_config(method, **folders)
    auc = save_results(Experiment(config, digits), 0, score)
    assert Experiment(config, digits).class_metrics(0, score)["auc"] == auc

    rescored = config.replace(**change)
    saved = load_config_dict(Experiment(rescored, digits).class_results_folder(0, score))
    # The model is the same (it is not trained again), the scores are not.
    assert rescored.training_differences(saved) == [] and len(rescored.scoring_differences(saved)) == 1
    assert Experiment(rescored, digits).class_metrics(0, score) is None

    calls = []
    monkeypatch.setattr(Experiment, "train_class", lambda experiment, index: calls.append(("train", index)))
    monkeypatch.setattr(Experiment, "test_class", lambda experiment, index, scores: calls.append(
        ("test", index, scores, save_results(experiment, index, scores[0]))))
    results = runner.run_grid({method: rescored}, digits, [RunGroup(method, (score,))], [0])
    assert calls == [("train", 0), ("test", 0, (score,), auc)]
    assert results[(method, (), score, 0)]["auc"] == auc
    assert Experiment(rescored, digits).class_metrics(0, score) is not None
    # The same grid again finds everything finished.
    capsys.readouterr()
    runner.run_grid({method: rescored}, digits, [RunGroup(method, (score,))], [0])
    assert len(calls) == 2 and "already tested; skipping" in capsys.readouterr().out


# Processes sharing a grid: each class's folder is locked by the process working on it.


def test_shards_of_one_run_group_work_on_its_classes_at_once(tiny_config, digits, folders, monkeypatch):
    base = tiny_config(**folders)
    group = dgad_group(1)
    other_shard = Experiment(group.config({"dgad": base}), digits)
    # Another process's shard holds class 0 of the same run group while this one runs class 1.
    other_shard.hold_class_folder(0)
    trained = []

    def train(experiment, class_index):
        experiment.hold_class_folder(class_index)
        trained.append(class_index)

    monkeypatch.setattr(Experiment, "train_class", train)
    monkeypatch.setattr(Experiment, "test_class", lambda experiment, index, scores: [
        save_results(experiment, index, score) for score in scores])
    results = runner.run_grid({"dgad": base}, digits, [group], [0, 1], pairs=[(0, 1)])
    assert trained == [1] and set(results) == {group.key("rec", 1)}
    other_shard.close()


def test_an_experiment_error_stops_the_grid(tiny_config, digits, folders, monkeypatch):
    def train(experiment, class_index):
        raise ExperimentError("holds a run trained with other settings")

    monkeypatch.setattr(Experiment, "train_class", train)
    with pytest.raises(ExperimentError, match="other settings"):
        runner.run_grid({"dgad": tiny_config(**folders)}, digits, [dgad_group(1)], [0])
