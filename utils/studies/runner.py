"""A grid of runs (run groups x classes x scores) that finishes what is missing.

The grid's unit of work is a pair (run group, class): one trained model, tested with the group's
scores. A class's score counts as finished when its metrics.json exists and its config.json matches
the run's training settings; finished work is never redone, and an interrupted training resumes from
its last checkpoint. So the same command, started again after a crash or Ctrl-C, completes the grid
and only then writes the table. A run group that fails part way still summarises the classes
finished before the failure.

Several processes can share one grid, each running its own shard of the pairs (shard_pairs) in the
same results and checkpoint folders: each class's checkpoint folder is locked by the process that
trains or tests it (utils.running.run_lock), and shards never share a pair.
"""

import dataclasses
import itertools
import numbers

import numpy as np

from data.sources import ImageDataset
from models.registry import get_method
from utils.running.config import Config
from utils.running.experiment import Experiment
from utils.scoring.floors import FLOOR_METRICS
from utils.studies.table_parts import RESAMPLED


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


def with_seed(bases: dict[str, Config], seed: int) -> dict[str, Config]:
    """Each method's base configuration with another seed: a separate run (the seed is in the run's name)."""
    return {method: config.replace(seed=seed) for method, config in bases.items()}


def across_seeds(results_by_seed: list[dict[tuple, dict | None]]) -> dict[tuple, dict | None]:
    """One seed's results as they are; over several seeds of the same grid, {key: metrics over seeds}: each
    number (AUC, pixel AUROC, times) is the mean over seeds, and "<key>_per_seed" lists each seed's value (the
    tables' standard deviations read them); the per-run bootstrap intervals are left out, being of one seed
    each. None where a seed's run has not finished; a value is None where a seed has none (an AUC of normal
    test images only)."""
    if len(results_by_seed) == 1:
        return results_by_seed[0]
    combined = {}
    for key in results_by_seed[0]:
        runs = [results[key] for results in results_by_seed]
        if any(run is None for run in runs):
            combined[key] = None
            continue
        metrics = {}
        for name, value in runs[0].items():
            values = [run.get(name) for run in runs]
            if all(isinstance(each, numbers.Real) and not isinstance(each, bool) for each in values):
                metrics[name], metrics[f"{name}_per_seed"] = float(np.mean(values)), values
            elif not name.endswith("_interval") and name != RESAMPLED:
                metrics[name] = None if any(each is None for each in values) else value
        combined[key] = metrics
    return combined


def class_floors(results: dict, classes: list[int]) -> dict[str, list[float | None]]:
    """{floor title (FLOOR_METRICS): its AUC on each class's split}, from whichever result of the class has it:
    the floors read the split only, so every run of a class has the same. None where no result has it (a run
    not finished, or tested before the floors existed)."""
    per_class = {index: [metrics for key, metrics in results.items() if key[-1] == index and metrics]
                 for index in classes}
    return {title: [next((metrics[key] for metrics in per_class[index] if metrics.get(key) is not None), None)
                    for index in classes]
            for title, key in FLOOR_METRICS.items()}


def grid_pairs(group_count: int, classes: list[int]) -> list[tuple[int, int]]:
    """Every (group index, class) pair of a grid, sorted."""
    return sorted((group, class_index) for group in range(group_count) for class_index in set(classes))


def shard_pairs(group_count: int, classes: list[int], shard: int, shards: int) -> list[tuple[int, int]]:
    """The (group index, class) pairs of shard `shard` (1 to `shards`) of a grid: a run of consecutive pairs
    of the sorted grid, the shards' sizes at most one apart (empty where there are more shards than pairs).

    The shards are disjoint, cover the grid once, and follow from the grid alone, so processes that never
    talk to each other agree on them. Consecutive pairs keep a shard within few run groups: it builds and
    compiles fewer models.
    """
    pairs = grid_pairs(group_count, classes)
    return pairs[(shard - 1) * len(pairs) // shards:shard * len(pairs) // shards]


def pairs_text(bases: dict[str, Config], dataset: ImageDataset, groups: list[RunGroup],
               pairs: list[tuple[int, int]]) -> str:
    """The pairs by run group, e.g. "dgad, protocol 1: 0 (airplane), 1 (automobile); dgad, protocol 2: 0 (airplane)"."""
    parts = []
    for group_index, group_pairs in itertools.groupby(sorted(pairs), key=lambda pair: pair[0]):
        group = groups[group_index]
        label = get_method(group.method).run_label(group.config(bases))
        parts.append(f"{label}: " + ", ".join(f"{index} ({dataset.class_names[index]})" for _, index in group_pairs))
    return "; ".join(parts)


def run_grid(bases: dict[str, Config], dataset: ImageDataset, groups: list[RunGroup], classes: list[int],
             pairs: list[tuple[int, int]] | None = None) -> dict[tuple, dict]:
    """Train and test whatever is missing of `pairs` (default: every pair of groups x classes); return
    {group.key(score, class): metrics} for those pairs.

    bases holds each method's configuration; a group changes only its own settings and scores. Each group's
    summaries cover its classes (of `classes`) finished so far, by this process or by others.
    """
    pending = grid_pairs(len(groups), classes) if pairs is None else sorted(pairs)
    results = {}
    for group_index, group_pairs in itertools.groupby(pending, key=lambda pair: pair[0]):
        results.update(_run_group(bases, dataset, groups[group_index], [index for _, index in group_pairs],
                                  classes))
    return results


def finished_results(bases: dict[str, Config], dataset: ImageDataset, groups: list[RunGroup],
                     classes: list[int]) -> dict[tuple, dict | None]:
    """{group.key(score, class): its metrics, or None where that run has not finished}, read from what the
    runs wrote (Experiment.class_metrics); nothing is trained or tested."""
    results = {}
    for group in groups:
        experiment = Experiment(group.config(bases), dataset)
        for class_index in classes:
            for score in group.scores:
                results[group.key(score, class_index)] = _with_resamples(experiment, class_index, score)
    return results


def missing_runs_note(groups: list[RunGroup], classes: list[int], results: dict, grid_command: str) -> str | None:
    """The line under a collected table that counts its missing runs (the pairs of which some score has no
    result) and names grid_command, which runs them; None if none is missing."""
    missing = sum(any(results[groups[group_index].key(score, class_index)] is None
                      for score in groups[group_index].scores)
                  for group_index, class_index in grid_pairs(len(groups), classes))
    if not missing:
        return None
    return (f"**{missing} of the table's {len(groups) * len(set(classes))} runs (run group x class) "
            f"{'is' if missing == 1 else 'are'} missing**, "
            f"marked missing above: run `{grid_command}` (or its `--shard K/N` slices, on several machines or "
            "GPUs) to train and test them, then this command again.")


def _run_group(bases: dict[str, Config], dataset: ImageDataset, group: RunGroup, to_run: list[int],
               grid_classes: list[int]) -> dict[tuple, dict]:
    """Run the classes to_run of one group; return their results. The group's summaries then cover every
    class of grid_classes finished so far, by this process or by another shard."""
    experiment = Experiment(group.config(bases), dataset)
    label = experiment.method.run_label(experiment.config)
    results = {}
    try:
        for class_index in to_run:
            results.update(_run_class(experiment, group, class_index, label))
        _write_summaries(experiment, _finished_per_score(experiment, group, grid_classes))
    except Exception:
        finished = _finished_per_score(experiment, group, grid_classes)
        if any(finished.values()):
            print(f"{label}: a class failed; summarising the classes finished so far: "
                  + ", ".join(dataset.class_names[index] for index in sorted(set().union(*finished.values()))))
            _write_summaries(experiment, finished)
        raise
    finally:
        experiment.close()
    return results


def _run_class(experiment: Experiment, group: RunGroup, class_index: int, label: str) -> dict[tuple, dict]:
    missing = tuple(score for score in group.scores if experiment.class_metrics(class_index, score) is None)
    if missing:
        experiment.train_class(class_index)
        experiment.test_class(class_index, missing)
    else:
        print(f"{experiment.describe(class_index)}, {label}: already tested; skipping")
    return {group.key(score, class_index): _with_resamples(experiment, class_index, score) for score in group.scores}


def _with_resamples(experiment: Experiment, class_index: int, score: str) -> dict | None:
    """A finished run's metrics with its bootstrap resamples under RESAMPLED (for the interval of a mean over
    classes); None if it has not finished."""
    metrics = experiment.class_metrics(class_index, score)
    if metrics is None:
        return None
    return {**metrics, RESAMPLED: experiment.class_resamples(class_index, score)}


def _finished_per_score(experiment: Experiment, group: RunGroup, classes: list[int]) -> dict[str, dict[int, dict]]:
    """{score: {class: metrics}} of the classes finished so far, whichever process ran them."""
    per_score = {score: {} for score in group.scores}
    for class_index in classes:
        for score in group.scores:
            metrics = experiment.class_metrics(class_index, score)
            if metrics is not None:
                per_score[score][class_index] = metrics
    return per_score


def _write_summaries(experiment: Experiment, per_score: dict[str, dict[int, dict]]):
    for score, per_class in per_score.items():
        if per_class:
            experiment.write_score_summary(score, per_class)
