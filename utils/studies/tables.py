"""The DGAD paper's Tables 1-5 regenerated: which runs each needs, and the tables beside the paper's.

Each table is a grid of run groups (utils.studies.runner) over the chosen classes. Tables 1-4 report
ROC AUC per class with the paper's value beside ours; Table 4 adds the discriminator's accuracy of
the supplement's Tables 6-7; Table 5 measures scoring speed. Every table goes to Markdown and CSV
under <results_dir>/tables/ and states the budget it ran at. Tables 1-4 can also be collected from
the runs that exist (after shards of the grid ran elsewhere), each missing run marked in its cells.
"""

import dataclasses
import time
from pathlib import Path

import numpy as np

from data.pipeline import one_class_split, to_model_images
from data.sources import ImageDataset
from data.sources import MVTEC_CATEGORIES
from models.dgad.method import length_text, length_words
from models.dgad.paper_results import DGAD_DISCRIMINATOR_ACCURACY, DGAD_SCORING_SPEED, dgad_row
from models.dgad.scoring import ScoringPasses, scoring_speed
from utils.reporting.files import write_text_atomically
from utils.reporting.markdown import cell_text, csv_text, known_mean
from utils.running.config import Config
from utils.running.experiment import Experiment
from utils.scoring.batching import timed
from utils.studies.runner import (RunGroup, across_seeds, class_floors, finished_results, missing_runs_note, run_grid,
                                  with_seed)
from utils.studies.table_parts import (COLLECTED_LINE, FLOORS_LINE, MISSING, SPREAD_COLUMNS, coverage_text,
                                      floor_csv_rows, floor_lines, mean_cell, mean_spread, result_cell, run_spread,
                                      seeds_line, seeds_tag, seeds_text, wall_time_line)

# The order of the paper's Table 4 rows.
TABLE_4_VARIANTS = ("gan", "no_compactness", "zero_padding", "coordconv", "dgad")
VARIANT_NAMES = {"gan": "GAN", "no_compactness": "DGAD - CL", "zero_padding": "DGAD + zero-padding",
                 "coordconv": "DGAD + coord", "dgad": "DGAD"}


@dataclasses.dataclass(frozen=True)
class TableSpec:
    number: int
    title: str
    paper_dataset: str
    groups: tuple[RunGroup, ...]
    per_class_comparable: bool = True
    paper_scheme_matches: bool = True


def dgad_group(protocol: int, scores: tuple[str, ...] = ("rec",), variant: str = "dgad") -> RunGroup:
    return RunGroup("dgad", scores, (("variant", variant), ("protocol", protocol)))


def _table_4_groups(protocols=(1, 2)) -> tuple[RunGroup, ...]:
    return tuple(dgad_group(protocol, ("rec", "dir"), variant) for protocol in protocols for variant in TABLE_4_VARIANTS)


TABLES = {
    1: TableSpec(1, "One-class AUC on MNIST", "mnist", (dgad_group(1), dgad_group(2))),
    2: TableSpec(2, "One-class AUC on CIFAR-10", "cifar10", (dgad_group(1), dgad_group(2))),
    3: TableSpec(3, "One-class AUC on MVTec AD", "mvtec", (dgad_group(3),)),
    4: TableSpec(4, "Ablations on CIFAR-10, with the discriminator's accuracy (supplement Tables 6-7)", "cifar10",
                 _table_4_groups()),
    5: TableSpec(5, "Scoring speed of s_rec and s_dir on CIFAR-10", "cifar10",
                 (dgad_group(1), dgad_group(2))),
}


def budget_text(config: Config, seeds: tuple[int, ...] | None = None) -> str:
    return (f"width {config.width}, batch {config.batch_size}, {length_words(config)} per class, "
            f"{seeds_text(seeds or (config.seed,))}")


def table_path(results_dir: str, spec: TableSpec, config: Config, seeds: tuple[int, ...] | None = None) -> Path:
    return (Path(results_dir) / "tables"
            / f"table{spec.number}-{config.dataset}-{config.scheme}-w{config.width}-b{config.batch_size}-"
              f"{length_text(config)}-{seeds_tag(seeds or (config.seed,))}")


def _paper_value(per_class, spec: TableSpec, dataset: ImageDataset, class_index: int) -> float | None:
    """The paper's value for one of our classes: by index, or for MVTec AD by category name.

    Only where our data is the paper's dataset (or, for npz / folder data, declared a copy of it):
    the paper's class 0 of CIFAR-10 says nothing about class 0 of another dataset.
    """
    if per_class is None or not (spec.per_class_comparable and spec.paper_scheme_matches):
        return None
    if spec.paper_dataset == "mvtec":
        name = dataset.class_names[class_index]
        return per_class[MVTEC_CATEGORIES.index(name)] if name in MVTEC_CATEGORIES else None
    return per_class[class_index] if class_index < len(per_class) else None


def _header(spec: TableSpec, config: Config, command: str, how_made: str,
            seeds: tuple[int, ...] | None = None) -> list[str]:
    seeds = seeds or (config.seed,)
    return [
        f"# DGAD paper, Table {spec.number}: {spec.title}", "",
        f"Command: `{command}`", "",
        f"Our runs: dataset {config.dataset}" + (f" ({config.data_dir})" if config.data_dir else "")
        + f", budget: {budget_text(config, seeds)}. The paper: width 64, batch 64 (MVTec AD: 8), 10000 iterations "
          f"(MVTec AD: 6000 epochs), on {spec.paper_dataset}.",
        *([seeds_line(seeds)] if spec.number != 5 else []), how_made, "",
    ]


def auc_rows(spec: TableSpec, dataset: ImageDataset, classes: list[int], results: dict) -> list[dict]:
    """One row per (protocol, variant, score): our AUC per class, the paper's, and their means.

    A result that is None (a run not finished yet, in a collected table) is marked in row["finished"].
    """
    rows = []
    for score in ("rec", "dir"):
        for group in spec.groups:
            if score not in group.scores:
                continue
            protocol, variant = group.setting("protocol"), group.setting("variant")
            row = dgad_row(spec.paper_dataset, protocol, variant, score)
            paper = None if row is None else row.per_class
            metrics = [results[group.key(score, index)] for index in classes]
            ours = [None if entry is None else entry["auc"] for entry in metrics]
            paper_values = [_paper_value(paper, spec, dataset, index) for index in classes]
            # The paper's mean over the classes our mean covers (those with an AUC).
            paper_values_with_auc = [paper for paper, auc in zip(paper_values, ours) if auc is not None]
            comparable = bool(paper_values_with_auc) and None not in paper_values_with_auc
            spread = mean_spread(metrics)
            rows.append({
                "protocol": protocol, "variant": variant, "score": score, "ours": ours,
                "finished": [entry is not None for entry in metrics],
                "cells": [result_cell(entry) for entry in metrics], "mean_cell": mean_cell(metrics, spread),
                "spreads": [run_spread(entry) for entry in metrics], "mean_spread": spread,
                "paper": paper_values, "mean": known_mean(ours),
                "paper_mean_same_classes": float(np.mean(paper_values_with_auc)) if comparable else None,
                "paper_printed_mean": row.mean if row is not None and spec.paper_scheme_matches else None,
            })
    return sorted(rows, key=lambda row: row["protocol"])


def write_auc_table(path: Path, spec: TableSpec, dataset: ImageDataset, classes: list[int], rows: list[dict],
                    header: list[str], floors: dict[str, list]) -> str:
    names = [dataset.class_names[index] for index in classes]
    lines = header + [
        "Each cell: our AUC / the paper's AUC for that class. The paper's mean is over the same classes "
        "as ours; its printed mean over all classes is in the last column. " + FLOORS_LINE, "",
        "| Protocol | Method | " + " | ".join(names) + " | Mean | Paper mean | Difference | Paper's printed mean |",
        "| --- | --- | " + " | ".join("---:" for _ in names) + " | ---: | ---: | ---: | ---: |",
    ]
    csv_rows = []
    for row in rows:
        method = VARIANT_NAMES[row["variant"]] + (" (sdir)" if row["score"] == "dir" else "")
        difference = (None if row["paper_mean_same_classes"] is None or row["mean"] is None
                      else row["mean"] - row["paper_mean_same_classes"])
        cells = [f"{ours} / {cell_text(paper)}" for ours, paper in zip(row["cells"], row["paper"])]
        lines.append(f"| {row['protocol']} | {method} | " + " | ".join(cells)
                     + f" | {row['mean_cell']} | "
                     + f"{cell_text(row['paper_mean_same_classes'])} | "
                     + ("—" if difference is None else f"{difference:+.4f}")
                     + f" | {cell_text(row['paper_printed_mean'])} |")
        for index, name, ours, spread, paper in zip(classes, names, row["ours"], row["spreads"], row["paper"]):
            csv_rows.append([row["protocol"], row["variant"], row["score"], index, name, ours, *spread, paper,
                             None if paper is None or ours is None else ours - paper])
        csv_rows.append([row["protocol"], row["variant"], row["score"], "mean", "mean" + coverage_text(row["ours"]),
                         row["mean"], *row["mean_spread"], row["paper_mean_same_classes"], difference])
    lines += floor_lines(floors, ["all"], 3)
    csv_rows += floor_csv_rows(floors, classes, names, ["", "{title}", ""], len(SPREAD_COLUMNS) + 2)
    write_text_atomically(path.with_suffix(".csv"), csv_text(
        ["protocol", "variant", "score", "class_index", "class_name", "ours_auc", *SPREAD_COLUMNS, "paper_auc",
         "difference"], csv_rows))
    return "\n".join(lines) + "\n"


def accuracy_section(path: Path, spec: TableSpec, dataset: ImageDataset, classes: list[int],
                     results: dict) -> str:
    """Supplement Tables 6-7: D_cls's accuracy on the normal test images and on the whole test set."""
    names = [dataset.class_names[index] for index in classes]
    lines = ["", "## Discriminator accuracy (supplement Tables 6 and 7)", "",
             "Fraction of (test image, transformation) pairs whose transformation D_cls predicts, on the normal "
             "test images (Table 6) and on all test images (Table 7). Each cell: ours / the paper's "
             "(the paper reports Protocol 2 only).", "",
             "| Protocol | Method | Test images | " + " | ".join(names) + " | Mean | Paper mean |",
             "| --- | --- | --- | " + " | ".join("---:" for _ in names) + " | ---: | ---: |"]
    csv_rows = []
    for group in spec.groups:
        protocol, variant = group.setting("protocol"), group.setting("variant")
        for images, key in (("normal", "discriminator_accuracy_normal"), ("all", "discriminator_accuracy_all")):
            metrics = [results[group.key("dir", index)] for index in classes]
            ours = [None if entry is None else entry[key] for entry in metrics]
            paper = DGAD_DISCRIMINATOR_ACCURACY.get((images, variant)) if protocol == 2 else None
            paper_values = [_paper_value(paper and paper.per_class, spec, dataset, index) for index in classes]
            # The paper's mean over the classes ours covers, as in the AUC table.
            paper_where_ours = [reported for reported, value in zip(paper_values, ours) if value is not None]
            paper_mean = (float(np.mean(paper_where_ours)) if paper_where_ours and None not in paper_where_ours
                          else None)
            cells = [f"{MISSING if value is None else f'{value:.3f}'} / {cell_text(reported, 3)}"
                     for value, reported in zip(ours, paper_values)]
            lines.append(f"| {protocol} | {VARIANT_NAMES[variant]} | {images} | " + " | ".join(cells)
                         + f" | {cell_text(known_mean(ours), 3)}{coverage_text(ours)} | {cell_text(paper_mean, 3)} |")
            csv_rows += [[protocol, variant, images, index, name, value, reported]
                         for index, name, value, reported in zip(classes, names, ours, paper_values)]
    write_text_atomically(path.with_name(path.name + "-discriminator-accuracy.csv"), csv_text(
        ["protocol", "variant", "test_images", "class_index", "class_name", "ours", "paper"], csv_rows))
    return "\n".join(lines) + "\n"


def pixel_auroc_section(path: Path, spec: TableSpec, dataset: ImageDataset, classes: list[int],
                        results: dict) -> str:
    """The pixel-level AUROC of the anomaly maps, per class, where the dataset has defect masks (MVTec AD)."""
    names = [dataset.class_names[index] for index in classes]
    lines = ["", "## Pixel-level AUROC of the anomaly maps (not in the paper)", "",
             "Area under the ROC curve of every pixel of every test image, defective pixels (the masks) positive, "
             "for the anomaly map |x - x^| averaged over channels. The paper does not localise anomalies, so there "
             "is no paper value; a map that ranks pixels at random scores 0.5.", "",
             "| Protocol | Method | " + " | ".join(names) + " | Mean |",
             "| --- | --- | " + " | ".join("---:" for _ in names) + " | ---: |"]
    csv_rows = []
    for group in spec.groups:
        protocol, variant = group.setting("protocol"), group.setting("variant")
        metrics = [results[group.key(group.scores[0], index)] for index in classes]
        values = [None if entry is None else entry.get("pixel_auroc") for entry in metrics]
        cells = [result_cell(entry, "pixel_auroc") for entry in metrics]
        spread = mean_spread(metrics, "pixel_auroc")
        lines.append(f"| {protocol} | {VARIANT_NAMES[variant]} | " + " | ".join(cells)
                     + f" | {mean_cell(metrics, spread, 'pixel_auroc')} |")
        csv_rows += [[protocol, variant, index, name, value, *run_spread(entry, "pixel_auroc")]
                     for index, name, value, entry in zip(classes, names, values, metrics)]
        csv_rows.append([protocol, variant, "mean", "mean" + coverage_text(values), known_mean(values),
                         *spread])
    write_text_atomically(path.with_name(path.name + "-pixel-auroc.csv"), csv_text(
        ["protocol", "variant", "class_index", "class_name", "pixel_auroc", *SPREAD_COLUMNS], csv_rows))
    return "\n".join(lines) + "\n"


def speed_rows(spec: TableSpec, base: Config, dataset: ImageDataset, class_index: int, rounds: int) -> list[dict]:
    """Table 5: s_rec and s_dir images/s on the same trained model and test images, per protocol."""
    rows = []
    for group in spec.groups:
        experiment = Experiment(group.config({"dgad": base}), dataset)
        experiment.train_class(class_index)
        passes = ScoringPasses(experiment.trained_model(class_index), base.batch_size, base.jit_compile)
        split = one_class_split(dataset, class_index, base.scheme)
        test_images = to_model_images(split.test_images, base.image_size)
        speed = scoring_speed(passes, test_images, rounds)
        train_images = to_model_images(split.train_images, base.image_size)
        train_probabilities, fit_pass_seconds = timed(passes.transformation_probabilities, train_images)
        dir_with_fit = len(test_images) / (len(test_images) / speed["dir"] + fit_pass_seconds)
        rows.append({"protocol": group.setting("protocol"), "rec": speed["rec"], "dir": speed["dir"],
                     "dir_with_fit": dir_with_fit, "train_images": len(train_images),
                     "test_images": len(test_images)})
    return rows


def write_speed_table(path: Path, rows: list[dict], header: list[str], rounds: int) -> str:
    lines = header + [
        f"Images per second, the median of {rounds} alternating rounds over the whole test set on one trained "
        "model. s_dir runs D_cls on every transformation of each test image; \"s_dir with fit\" also counts "
        "its one-off pass over the training images that the Dirichlet fit needs, spread over the test images.",
        "", "| Protocol | s_rec | s_dir | s_rec / s_dir | s_dir with fit | s_rec / s_dir with fit | "
        "Paper s_rec | Paper s_dir | Paper ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    csv_rows = []
    for row in rows:
        paper_rec, paper_dir = DGAD_SCORING_SPEED[(row["protocol"], "rec")], DGAD_SCORING_SPEED[(row["protocol"], "dir")]
        ratio, ratio_with_fit = row["rec"] / row["dir"], row["rec"] / row["dir_with_fit"]
        lines.append(f"| {row['protocol']} | {row['rec']:.1f} | {row['dir']:.1f} | {ratio:.2f}x | "
                     f"{row['dir_with_fit']:.1f} | {ratio_with_fit:.2f}x | {paper_rec:.2f} | {paper_dir:.2f} | "
                     f"{paper_rec / paper_dir:.2f}x |")
        csv_rows.append([row["protocol"], row["rec"], row["dir"], ratio, row["dir_with_fit"], ratio_with_fit,
                         paper_rec, paper_dir, paper_rec / paper_dir, row["train_images"], row["test_images"]])
    write_text_atomically(path.with_suffix(".csv"), csv_text(
        ["protocol", "rec_images_per_second", "dir_images_per_second", "ratio", "dir_with_fit_images_per_second",
         "ratio_with_fit", "paper_rec", "paper_dir", "paper_ratio", "train_images", "test_images"], csv_rows))
    return "\n".join(lines) + "\n"


def regenerate(spec: TableSpec, base: Config, dataset: ImageDataset, classes: list[int], command: str,
               rounds: int = 3, seeds: tuple[int, ...] | None = None) -> Path:
    """Run what the table needs (resuming), once per seed of `seeds` (default: base.seed's alone), then write its
    Markdown and CSV; return the Markdown's path."""
    started = time.perf_counter()
    seeds = seeds or (base.seed,)
    path = table_path(base.results_dir, spec, base, seeds)
    path.parent.mkdir(parents=True, exist_ok=True)
    if spec.number == 5:
        rows = speed_rows(spec, base, dataset, classes[0], rounds)
        header = _header(spec, base, command, wall_time_line(started))
        header.insert(-1, f"Class: {dataset.class_names[classes[0]]} (index {classes[0]}).")
        markdown = write_speed_table(path, rows, header, rounds)
    else:
        results = across_seeds([run_grid(with_seed({"dgad": base}, seed), dataset, list(spec.groups), classes)
                               for seed in seeds])
        header = _header(spec, base, command, wall_time_line(started), seeds)
        markdown = _grid_tables(path, spec, dataset, classes, results, header)
    return _written(path, markdown)


def collect(spec: TableSpec, base: Config, dataset: ImageDataset, classes: list[int], command: str,
            grid_command: str, seeds: tuple[int, ...] | None = None) -> Path:
    """Tables 1-4 from the runs that exist, training and testing nothing: each missing run is marked in its
    cells, and a line under the table counts them and names grid_command, which runs them. Returns the
    Markdown's path."""
    seeds = seeds or (base.seed,)
    path = table_path(base.results_dir, spec, base, seeds)
    path.parent.mkdir(parents=True, exist_ok=True)
    results = across_seeds([finished_results(with_seed({"dgad": base}, seed), dataset, list(spec.groups), classes)
                           for seed in seeds])
    note = missing_runs_note(list(spec.groups), classes, results, grid_command)
    return _written(path, _grid_tables(path, spec, dataset, classes, results,
                                       _header(spec, base, command, COLLECTED_LINE, seeds), note))


def _grid_tables(path: Path, spec: TableSpec, dataset: ImageDataset, classes: list[int], results: dict,
                 header: list[str], note: str | None = None) -> str:
    """The AUC table of Tables 1-4 (note, if any, under it) and the sections the results call for; the CSVs
    are written beside path."""
    markdown = write_auc_table(path, spec, dataset, classes, auc_rows(spec, dataset, classes, results), header,
                               class_floors(results, classes))
    if note:
        markdown += f"\n{note}\n"
    if spec.number == 4:
        markdown += accuracy_section(path, spec, dataset, classes, results)
    if any(metrics is not None and metrics.get("pixel_auroc") is not None for metrics in results.values()):
        markdown += pixel_auroc_section(path, spec, dataset, classes, results)
    return markdown


def _written(path: Path, markdown: str) -> Path:
    markdown_path = path.with_suffix(".md")
    write_text_atomically(markdown_path, markdown)
    return markdown_path
