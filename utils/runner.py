"""A grid of runs (variants x protocols x classes x scores) that finishes what is missing.

A class's score counts as finished when its metrics.json exists and its config.json matches the
run's training settings; finished work is never redone, and an interrupted training resumes from
its last checkpoint. So the same command, started again after a crash or Ctrl-C, completes the
grid and only then writes the table. A run group that fails part way still summarises the classes
it tested before the failure.
"""

import dataclasses

from data.sources import ImageDataset
from utils.config import SCORES, Config
from utils.experiment import Experiment


@dataclasses.dataclass(frozen=True)
class RunGroup:
    """One trained model per class, tested with one or more scores.

    variant and protocol are DGAD's (None for AD-CGAN, which has neither).
    """

    variant: str | None
    protocol: int | None
    scores: tuple[str, ...]
    method: str = "dgad"

    def config(self, bases: dict[str, Config]) -> Config:
        """The group's settings on top of its method's base configuration (dataset, budget, folders)."""
        score = next(choice for choice, scores in SCORES[self.method].items() if set(scores) == set(self.scores))
        changes = {"variant": self.variant, "protocol": self.protocol}
        return dataclasses.replace(bases[self.method], score=score,
                                   **{name: value for name, value in changes.items() if value is not None})

    def key(self, score: str, class_index: int) -> tuple:
        """The key of one (score, class) result in run_grid's answer."""
        return self.method, self.variant, self.protocol, score, class_index


def run_grid(bases: dict[str, Config], dataset: ImageDataset, groups: list[RunGroup],
             classes: list[int]) -> dict[tuple, dict]:
    """Train and test whatever is missing; return {group.key(score, class): metrics}.

    bases holds each method's configuration; a group changes only its variant, protocol and scores.
    """
    results = {}
    for group in groups:
        experiment = Experiment(group.config(bases), dataset)
        label = group.method if group.method != "dgad" else f"{group.variant}, protocol {group.protocol}"
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
        experiment.write_score_summary(score, {
            dataset.class_names[index]: results[group.key(score, index)]["auc"] for index in classes})
