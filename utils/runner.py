"""A grid of runs (variants x protocols x classes x scores) that finishes what is missing.

A class's score counts as finished when its metrics.json exists and its config.json matches the
run's training settings; finished work is never redone, and an interrupted training resumes from
its last checkpoint. So the same command, started again after a crash or Ctrl-C, completes the
grid and only then writes the table.
"""

import dataclasses

from data.sources import ImageDataset
from utils.config import Config
from utils.experiment import Experiment


@dataclasses.dataclass(frozen=True)
class RunGroup:
    """One trained model per class, tested with one or more scores."""

    variant: str
    protocol: int
    scores: tuple[str, ...]

    def config(self, base: Config) -> Config:
        score = "both" if len(self.scores) == 2 else self.scores[0]
        return dataclasses.replace(base, variant=self.variant, protocol=self.protocol, score=score)


def run_grid(base: Config, dataset: ImageDataset, groups: list[RunGroup],
             classes: list[int]) -> dict[tuple[str, int, str, int], dict]:
    """Train and test whatever is missing; return {(variant, protocol, score, class): metrics}."""
    results = {}
    for group in groups:
        experiment = Experiment(group.config(base), dataset)
        for class_index in classes:
            missing = tuple(score for score in group.scores if experiment.class_metrics(class_index, score) is None)
            if missing:
                experiment.train_class(class_index)
                experiment.test_class(class_index, missing)
            else:
                print(f"{experiment.describe(class_index)}, {group.variant}, protocol {group.protocol}: "
                      "already tested; skipping")
            for score in group.scores:
                results[(group.variant, group.protocol, score, class_index)] = experiment.class_metrics(
                    class_index, score)
        for score in group.scores:
            experiment.write_score_summary(score, {
                dataset.class_names[index]: results[(group.variant, group.protocol, score, index)]["auc"]
                for index in classes})
    return results
