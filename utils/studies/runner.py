"""A grid of runs (run groups x classes x scores) that finishes what is missing.

A class's score counts as finished when its metrics.json exists and its config.json matches the
run's training settings; finished work is never redone, and an interrupted training resumes from
its last checkpoint. So the same command, started again after a crash or Ctrl-C, completes the
grid and only then writes the table. A run group that fails part way still summarises the classes
it tested before the failure.
"""

import dataclasses

from data.sources import ImageDataset
from models.registry import get_method
from utils.running.config import Config
from utils.running.experiment import Experiment


@dataclasses.dataclass(frozen=True)
class RunGroup:
    """One trained model per class of `method`, with `settings` (pairs of a Config field and its value) on top
    of the method's base configuration, tested with one or more scores."""

    method: str
    scores: tuple[str, ...]
    settings: tuple[tuple[str, object], ...] = ()

    def setting(self, name: str):
        return dict(self.settings)[name]

    def config(self, bases: dict[str, Config]) -> Config:
        """The group's settings on top of its method's base configuration (dataset, budget, folders)."""
        score = next(choice for choice, scores in get_method(self.method).score_choices.items()
                     if set(scores) == set(self.scores))
        return bases[self.method].replace(score=score, **dict(self.settings))

    def key(self, score: str, class_index: int) -> tuple:
        """The key of one (score, class) result in run_grid's answer."""
        return self.method, self.settings, score, class_index


def run_grid(bases: dict[str, Config], dataset: ImageDataset, groups: list[RunGroup],
             classes: list[int]) -> dict[tuple, dict]:
    """Train and test whatever is missing; return {group.key(score, class): metrics}.

    bases holds each method's configuration; a group changes only its own settings and scores.
    """
    results = {}
    for group in groups:
        experiment = Experiment(group.config(bases), dataset)
        label = experiment.method.run_label(experiment.config)
        finished = []
        try:
            for class_index in classes:
                missing = tuple(score for score in group.scores
                                if experiment.class_metrics(class_index, score) is None)
                if missing:
                    experiment.train_class(class_index)
                    experiment.test_class(class_index, missing)
                else:
                    print(f"{experiment.describe(class_index)}, {label}: already tested; skipping")
                for score in group.scores:
                    results[group.key(score, class_index)] = experiment.class_metrics(class_index, score)
                finished.append(class_index)
        except Exception:
            if finished:
                print(f"{label}: a class failed; summarising the classes tested before it: "
                      + ", ".join(dataset.class_names[index] for index in finished))
                write_summaries(experiment, group, dataset, finished, results)
            raise
        finally:
            experiment.close()
        write_summaries(experiment, group, dataset, classes, results)
    return results


def write_summaries(experiment: Experiment, group: RunGroup, dataset: ImageDataset, classes: list[int],
                    results: dict):
    for score in group.scores:
        experiment.write_score_summary(score, {index: results[group.key(score, index)] for index in classes})
