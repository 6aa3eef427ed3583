"""DGAD against AD-CGAN: both methods on the same data, scheme, classes and budget, in one table.

The runs go through the experiment runner (utils.studies.runner), so finished runs are reused and an
interrupted comparison resumes. The table puts each paper's numbers beside ours: DGAD's Tables 1-2
(one-vs-all only; the DGAD paper has no all-vs-one results) and AD-CGAN's Table 3 (per class) and
Table 4 (mean AUC of its score ablations), with the wall time each method spent training and scoring.
Like the paper tables, it can be collected from the runs that exist, each missing run marked.
"""

import time
from pathlib import Path

import numpy as np

from data.sources import ImageDataset
from models.registry import METHODS, get_method
from utils.reporting.files import write_text_atomically
from utils.reporting.markdown import cell_text, csv_text, known_mean
from utils.running.config import Config
from utils.studies.runner import (RunGroup, across_seeds, class_floors, finished_results, missing_runs_note, run_grid,
                                  with_seed)
from utils.studies.table_parts import (COLLECTED_LINE, FLOORS_LINE, SPREAD_COLUMNS, coverage_text, floor_csv_rows,
                                      floor_lines, mean_cell, mean_spread, result_cell, run_spread, seeds_line,
                                      seeds_tag, seeds_text, wall_time_line)


def comparison_groups(protocols=(1,), methods: tuple[str, ...] = tuple(METHODS)) -> list[RunGroup]:
    """Each method of `methods` with its comparison_scores (DGAD: s_rec; AD-CGAN: its full score and the three
    ablations; the autoencoder baseline: its reconstruction error), once per protocol for a method that has one."""
    groups = []
    for name in methods:
        method = get_method(name)
        protocol_settings = ([(("protocol", protocol),) for protocol in protocols]
                             if "protocol" in method.settings.names() else [()])
        groups += [RunGroup(name, method.comparison_scores, settings) for settings in protocol_settings]
    return groups


def comparison_rows(groups: list[RunGroup], bases: dict[str, Config], classes: list[int], results: dict,
                    paper_dataset: str | None) -> list[dict]:
    """One row per (method, score): our AUC per class, the paper's, the means and the wall times.

    A result that is None (a run not finished yet, in a collected table) is marked in row["finished"].
    """
    rows = []
    for group in groups:
        method, config = get_method(group.method), group.config(bases)
        for score in group.scores:
            saved = [results[group.key(score, index)] for index in classes]
            metrics = [{} if entry is None else entry for entry in saved]
            row = None if paper_dataset is None else method.paper_row(paper_dataset, config, score)
            per_class = None if row is None else row.per_class
            paper = [per_class[index] if per_class and index < len(per_class) else None for index in classes]
            spread = mean_spread(saved)
            rows.append({
                "method": method.score_label(config, score), "score": score,
                "protocol": dict(group.settings).get("protocol"),
                "ours": [entry.get("auc") for entry in metrics], "paper": paper,
                "finished": [entry is not None for entry in saved],
                "cells": [result_cell(entry) for entry in saved], "mean_cell": mean_cell(saved, spread),
                "spreads": [run_spread(entry) for entry in saved], "mean_spread": spread,
                "mean": known_mean(entry.get("auc") for entry in metrics),
                "paper_mean_same_classes": _paper_mean_where_ours(paper, [entry.get("auc") for entry in metrics]),
                "paper_printed_mean": None if row is None else row.mean,
                "training_seconds": [entry.get("training_seconds") for entry in metrics],
                "scoring_seconds": [entry.get("scoring_seconds") for entry in metrics],
            })
    return rows


def _paper_mean_where_ours(paper: list, ours: list) -> float | None:
    """The paper's mean over the classes our mean covers (those with an AUC), if it has them all."""
    values = [value for value, auc in zip(paper, ours) if auc is not None]
    return float(np.mean(values)) if values and None not in values else None


def _total(seconds: list) -> float | None:
    return None if None in seconds else float(sum(seconds))


def budget_lines(bases: dict[str, Config]) -> list[str]:
    """Each method's settings; whether it ran under XLA too, since the times beside each other depend on it."""
    return [f"- {get_method(name).budget_text(config)} {'With' if config.jit_compile else 'Without'} XLA."
            for name, config in bases.items()]


def write_comparison_table(path: Path, rows: list[dict], dataset: ImageDataset, classes: list[int],
                           header: list[str], floors: dict[str, list]) -> str:
    names = [dataset.class_names[index] for index in classes]
    lines = header + [
        "Each cell: our AUC / the paper's AUC for that class. Paper mean: the paper's values over the same "
        "classes as ours. Training and scoring: wall time in seconds summed over the classes (training includes "
        "the one-off compile of the first class; AD-CGAN's four scores share one model and one scoring pass). "
        + FLOORS_LINE, "",
        "| Method | " + " | ".join(names) + " | Mean | Paper mean | Difference | Paper's printed mean "
        "| Training (s) | Scoring (s) |",
        "| --- | " + " | ".join("---:" for _ in names) + " | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    csv_rows = []
    for row in rows:
        difference = (None if row["paper_mean_same_classes"] is None or row["mean"] is None
                      else row["mean"] - row["paper_mean_same_classes"])
        cells = [f"{ours} / {cell_text(paper)}" for ours, paper in zip(row["cells"], row["paper"])]
        training, scoring = _total(row["training_seconds"]), cell_text(_total(row["scoring_seconds"]), 1)
        lines.append(f"| {row['method']} | " + " | ".join(cells)
                     + f" | {row['mean_cell']} | "
                     + f"{cell_text(row['paper_mean_same_classes'])} | "
                     + ("—" if difference is None else f"{difference:+.4f}")
                     + f" | {cell_text(row['paper_printed_mean'])} | {cell_text(training, 0)} | {scoring} |")
        for index, name, ours, spread, paper, train_seconds, score_seconds in zip(
                classes, names, row["ours"], row["spreads"], row["paper"], row["training_seconds"],
                row["scoring_seconds"]):
            csv_rows.append([row["method"], row["score"], row["protocol"], index, name, ours, *spread, paper,
                             train_seconds, score_seconds])
        csv_rows.append([row["method"], row["score"], row["protocol"], "mean", "mean" + coverage_text(row["ours"]),
                         row["mean"], *row["mean_spread"], row["paper_mean_same_classes"],
                         _total(row["training_seconds"]), _total(row["scoring_seconds"])])
    lines += floor_lines(floors, [], 5)
    csv_rows += floor_csv_rows(floors, classes, names, ["{title}", "", ""], len(SPREAD_COLUMNS) + 3)
    write_text_atomically(path.with_suffix(".csv"), csv_text(
        ["method", "score", "protocol", "class_index", "class_name", "ours_auc", *SPREAD_COLUMNS, "paper_auc",
         "training_seconds", "scoring_seconds"], csv_rows))
    return "\n".join(lines) + "\n"


def comparison_path(results_dir: str, bases: dict[str, Config], seeds: tuple[int, ...] | None = None) -> Path:
    """The comparison's file name, of its runs' names; over several seeds, those of the first seed and the seeds."""
    runs = "-vs-".join(config.run_id for config in bases.values())
    over_seeds = "" if seeds is None or len(seeds) == 1 else f"-{seeds_tag(seeds)}"
    return Path(results_dir) / "tables" / f"compare-{bases['dgad'].dataset}-{runs}{over_seeds}"


def compare(bases: dict[str, Config], dataset: ImageDataset, classes: list[int], protocols: tuple[int, ...],
            paper_dataset: str | None, command: str, seeds: tuple[int, ...] | None = None) -> Path:
    """Run every method where missing, once per seed of `seeds` (default: the bases' seed alone), write the
    comparison's Markdown and CSV; return the Markdown's path."""
    started = time.perf_counter()
    seeds = seeds or (bases["dgad"].seed,)
    groups = comparison_groups(protocols, tuple(bases))
    results = across_seeds([run_grid(with_seed(bases, seed), dataset, groups, classes) for seed in seeds])
    return _write(bases, dataset, classes, groups, results, paper_dataset, command, wall_time_line(started),
                  seeds=seeds)


def collect_comparison(bases: dict[str, Config], dataset: ImageDataset, classes: list[int],
                       protocols: tuple[int, ...], paper_dataset: str | None, command: str, grid_command: str,
                       seeds: tuple[int, ...] | None = None) -> Path:
    """The comparison from the runs that exist, training and testing nothing: each missing run is marked in
    its cells, and a line under the table counts them and names grid_command, which runs them. Returns the
    Markdown's path."""
    seeds = seeds or (bases["dgad"].seed,)
    groups = comparison_groups(protocols, tuple(bases))
    results = across_seeds([finished_results(with_seed(bases, seed), dataset, groups, classes) for seed in seeds])
    note = missing_runs_note(groups, classes, results, grid_command)
    return _write(bases, dataset, classes, groups, results, paper_dataset, command, COLLECTED_LINE, note, seeds)


def method_floors(bases: dict[str, Config], results: dict, classes: list[int]) -> dict[str, list]:
    """The floors of each class's split; per method, named by its image size, where the methods read images of
    different sizes (DGAD 32x32, AD-CGAN 28x28 on MNIST), since the floors read the images the model reads."""
    if len({config.image_size for config in bases.values()}) == 1:
        return class_floors(results, classes)
    floors = {}
    for name, config in bases.items():
        own = class_floors({key: value for key, value in results.items() if key[0] == name}, classes)
        floors.update({f"{title} ({config.image_size}x{config.image_size}, as {get_method(name).title} reads them)":
                       values for title, values in own.items()})
    return floors


def _write(bases: dict[str, Config], dataset: ImageDataset, classes: list[int], groups: list[RunGroup],
           results: dict, paper_dataset: str | None, command: str, how_made: str, note: str | None = None,
           seeds: tuple[int, ...] | None = None) -> Path:
    """The comparison's Markdown (note, if any, under the table) and CSV; returns the Markdown's path."""
    scheme = bases["dgad"].scheme
    seeds = seeds or (bases["dgad"].seed,)
    path = comparison_path(bases["dgad"].results_dir, bases, seeds)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = bases["dgad"].dataset + (f" ({bases['dgad'].data_dir})" if bases["dgad"].data_dir else "")
    header = [
        f"# DGAD and AD-CGAN on {bases['dgad'].dataset}, {scheme.replace('_', '-')}", "",
        f"Command: `{command}`", "",
        f"Our runs: dataset {data}, {seeds_text(seeds)}. {seeds_line(seeds)} Budgets:",
        *budget_lines(bases), "",
        "Paper values: " + (f"{paper_dataset}, from the DGAD paper (one-vs-all only) and the AD-CGAN paper "
                            "(Table 3 per class, Table 4 means of its score ablations)." if paper_dataset
                            else "none: our data is not one of the papers' datasets (pass --paper_dataset if it is a "
                                 "copy or subset of one, with the same class order)."),
        how_made, "",
    ]
    markdown = write_comparison_table(path, comparison_rows(groups, bases, classes, results, paper_dataset),
                                      dataset, classes, header, method_floors(bases, results, classes))
    if note:
        markdown += f"\n{note}\n"
    markdown_path = path.with_suffix(".md")
    write_text_atomically(markdown_path, markdown)
    return markdown_path
