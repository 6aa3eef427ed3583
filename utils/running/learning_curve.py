"""--eval_every N: the test split scored every N training iterations (and at the last), written as AUC against
iterations: learning_curve.csv and learning_curve.png in the class's learning-curve folder.

The scores read the networks in inference mode and draw no random numbers from training's streams, so
training goes exactly as it would without them; a resumed run keeps the points up to where it resumes.
"""

import csv
import io
import time
from pathlib import Path
from typing import Callable

import keras
import numpy as np

from utils.reporting.files import write_text_atomically
from utils.reporting.plots import plot_learning_curve
from utils.reporting.reports import roc_auc
from utils.running.training import iteration_after

CURVE_FILE = "learning_curve.csv"


def curve_point(results: dict, anomaly_labels: np.ndarray) -> dict[str, float]:
    """One point of the curve from a test pass ({score: ScoreResult}): each score's AUC (s_<score>_auc), each
    of its parts' AUC (<part>_auc, the part alone as the anomaly score) and its diagnostics as they are."""
    point = {}
    for score, result in results.items():
        point[f"s_{score}_auc"] = roc_auc(anomaly_labels, result.anomaly_scores)
        point.update({f"{part}_auc": roc_auc(anomaly_labels, result.columns[part]) for part in result.parts})
        point.update({name: float(result.metrics[name]) for name in result.diagnostics})
    return point


def refusal(anomaly_labels: np.ndarray, description: str) -> str | None:
    """Why no learning curve can be followed on a test split with these labels, or None if one can."""
    if len(np.unique(anomaly_labels)) < 2:
        return (f"--eval_every follows AUCs, which need normal and anomalous test images, and {description}'s test "
                "split has one kind only: leave --eval_every out")
    return None


def read_curve(path: Path) -> list[dict[str, float]]:
    """The points of a learning_curve.csv (none if it does not exist), oldest first."""
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as file:
        # A point measured with other scores (a run resumed with another --score) leaves cells empty.
        return [{name: float(value) for name, value in row.items() if value != ""} for row in csv.DictReader(file)]


def write_curve(path: Path, points: list[dict[str, float]], title: str) -> None:
    """learning_curve.csv (one row per point, the columns of every point) and its plot beside it."""
    columns = ["iteration"] + sorted({name for point in points for name in point} - {"iteration"})
    text = io.StringIO()
    writer = csv.DictWriter(text, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows([{**point, "iteration": int(point["iteration"])} for point in points])
    write_text_atomically(path, text.getvalue())
    plot_learning_curve(points, path.with_suffix(".png"), title)


class LearningCurve(keras.callbacks.Callback):
    """Every `every` iterations and at the last one, evaluate(model) -> {column: value}, added to the curve in
    `path` (points past start_iteration, left by a run killed after its last checkpoint, are dropped; a point due
    at start_iteration that is missing, its run interrupted while measuring it, is measured first).

    `seconds` is the time spent measuring, which is not training time.
    """

    def __init__(self, evaluate: Callable[[keras.Model], dict[str, float]], path: Path, title: str,
                 start_iteration: int, last_iteration: int, every: int):
        super().__init__()
        self.evaluate = evaluate
        self.path = Path(path)
        self.title = title
        self.start_iteration = start_iteration
        self.last_iteration = last_iteration
        self.every = every
        self.points = [point for point in read_curve(self.path) if point["iteration"] <= start_iteration]
        self.seconds = 0.0

    @property
    def cadences(self) -> tuple[int]:
        return (self.every,)

    def on_train_begin(self, logs=None):
        start = self.start_iteration
        if start and start % self.every == 0 and all(point["iteration"] != start for point in self.points):
            self.add_point(start)

    def on_train_batch_end(self, batch, logs=None):
        iteration = iteration_after(batch, self.start_iteration, self.last_iteration)
        if not self.model.stop_training and (iteration % self.every == 0 or iteration == self.last_iteration):
            self.add_point(iteration)

    def add_point(self, iteration: int):
        started = time.perf_counter()
        self.points.append({"iteration": iteration, **self.evaluate(self.model)})
        write_curve(self.path, self.points, self.title)
        self.seconds += time.perf_counter() - started
