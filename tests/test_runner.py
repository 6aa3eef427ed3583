"""The run grid: a group that fails part way still summarises the classes it finished."""

import numpy as np
import pytest

from data.sources import ImageDataset
from utils import runner
from utils.running.config import Config
from utils.running.training import TrainingDiverged


class StubExperiment:
    """Trains and tests instantly; training class 1 diverges. Records the summaries written."""

    summaries = []
    closed = []

    def __init__(self, config, dataset):
        self.tested = set()

    def class_metrics(self, class_index, score):
        return {"auc": 0.5 + class_index / 10} if class_index in self.tested else None

    def train_class(self, class_index):
        if class_index == 1:
            raise TrainingDiverged("training diverged at iteration 3")

    def test_class(self, class_index, scores):
        self.tested.add(class_index)

    def write_score_summary(self, score, per_class_auc):
        self.summaries.append((score, per_class_auc))

    def close(self):
        self.closed.append(True)


def test_a_group_that_fails_part_way_summarises_the_classes_tested_before_the_failure(monkeypatch, capsys):
    monkeypatch.setattr(runner, "Experiment", StubExperiment)
    dataset = ImageDataset("toy", *(np.zeros(1),) * 4, ("a", "b", "c"))
    with pytest.raises(TrainingDiverged):
        runner.run_grid({"dgad": Config(dataset="digits")}, dataset, [runner.RunGroup("dgad", 1, ("rec",))],
                        [0, 1, 2])
    assert StubExperiment.summaries == [("rec", {"a": 0.5})]
    assert StubExperiment.closed == [True]  # its run lock is released for other processes
    assert "summarising the classes tested before it: a" in capsys.readouterr().out
