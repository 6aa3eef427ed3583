"""Does --target_fpr hold on normal images the detector has never seen? (issue 34: a threshold with a known
false-alarm rate on new images.)

    python bench/bench_false_alarms.py --data_dir ../shared/data/mnist-subset.npz            # digits 1, 5, 8
    python bench/bench_false_alarms.py --data_dir ../shared/data/mnist-subset.npz --classes 3 --iterations 300

Plays a practitioner with a folder of real images: for each class of the MNIST subset, `DIR/train/` holds
that digit's training images (the only images the detector learns from; --val_fraction's folder default
holds a share out for the threshold), `DIR/test/` the digit's first test images and as many of the other
digits', and two folders of images it never saw in any phase: the digit's remaining test images (unseen
normal) and other digits' (unseen anomalous). It trains and tests with `--dataset folder` at each
--target_fpr (a test phase per target: the threshold is a scoring setting), then runs `--phase predict` on
the two unseen folders and counts the flags: the false-positive rate on unseen normal images, with its 95%
Clopper-Pearson interval, beside the target, the rate on the validation images the threshold was set on,
and the 95% range that rate leaves for new images given how few validation images there are (a Beta
distribution of order statistics). Writes one CSV row per class and target.
"""

import argparse
import csv
import json
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.stats import beta, binomtest

from study_runs import FINDINGS, run
from data.pipeline import validation_size
from utils.reporting.files import write_text_atomically
from utils.reporting.reports import rows_csv

FINDINGS_CSV = FINDINGS / "false_alarms" / "false_alarms.csv"


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", type=Path, required=True, help="the MNIST subset (.npz, shared/data)")
    parser.add_argument("--classes", type=int, nargs="+", default=[1, 5, 8])
    parser.add_argument("--target_fprs", type=float, nargs="+", default=[0.05, 0.1])
    parser.add_argument("--test_images", type=int, default=100,
                        help="normal and anomalous images each in DIR/test/ (the rest of the digit's test images "
                             "are the unseen normal ones)")
    parser.add_argument("--width", default="8")
    parser.add_argument("--batch_size", default="16")
    parser.add_argument("--iterations", default="1000")
    parser.add_argument("--seed", default="0")
    parser.add_argument("--work_folder", type=Path, default=Path("/tmp/false_alarms"),
                        help="the image folders, checkpoints and results (a trained class is reused)")
    parser.add_argument("--csv", type=Path, default=FINDINGS_CSV)
    return parser.parse_args()


def write_pngs(folder: Path, images: np.ndarray, prefix: str):
    folder.mkdir(parents=True, exist_ok=True)
    for index, image in enumerate(images):
        Image.fromarray(image[..., 0]).save(folder / f"{prefix}{index:05d}.png")


def image_folders(arguments, digits, digit: int) -> Path:
    """DIR (train/, test/good/, test/other/), with unseen/normal/ and unseen/anomalous/ beside it."""
    root = arguments.work_folder / f"digit{digit}"
    if (root / "unseen").exists():
        return root
    normal_test = digits["x_test"][digits["y_test"] == digit]
    others = digits["x_test"][digits["y_test"] != digit]
    count = arguments.test_images
    write_pngs(root / "data" / "train", digits["x_train"][digits["y_train"] == digit], "train")
    write_pngs(root / "data" / "test" / "good", normal_test[:count], "good")
    write_pngs(root / "data" / "test" / "other", others[:count], "other")
    write_pngs(root / "unseen" / "anomalous", others[count:count + len(normal_test) - count], "anomalous")
    write_pngs(root / "unseen" / "normal", normal_test[count:], "normal")
    return root


def flagged(predictions: Path) -> np.ndarray:
    with predictions.open(newline="") as file:
        return np.array([row["anomalous_rec"] == "yes" for row in csv.DictReader(file)])


def latest_predictions(results: Path) -> Path:
    return max(results.rglob("predictions.csv"), key=lambda path: path.stat().st_mtime_ns)


def measure(arguments, digit: int, root: Path, target: float) -> dict:
    flags = ["--dataset", "folder", "--data_dir", str(root / "data"), "--width", arguments.width,
             "--batch_size", arguments.batch_size, "--iterations", arguments.iterations, "--seed", arguments.seed,
             "--target_fpr", str(target), "--results_dir", str(root / "results"),
             "--checkpoint_dir", str(root / "checkpoints")]
    run(flags + ["--phase", "both"])
    tested = json.loads(next((root / "results").rglob("metrics.json")).read_text())
    detector = json.loads(next((root / "checkpoints").rglob("detector.json")).read_text())
    config = json.loads(next((root / "results").rglob("config.json")).read_text())
    validation_images = validation_size(len(list((root / "data" / "train").iterdir())), config["val_fraction"])
    row = {"digit": digit, "target_fpr": target}
    for kind in ("normal", "anomalous"):
        run(flags + ["--phase", "predict", "--images", str(root / "unseen" / kind)])
        row[f"unseen_{kind}"] = flagged(latest_predictions(root / "results"))
    normal, anomalous = row.pop("unseen_normal"), row.pop("unseen_anomalous")
    interval = binomtest(int(normal.sum()), len(normal)).proportion_ci(0.95)
    validation_fpr = detector["scores"]["rec"]["expected_false_positive_rate"]
    # A threshold with k of n validation scores above it flags a new normal image with a probability distributed
    # as Beta(k + 1, n - k) (the order statistics of uniform variables): the spread any n-image quantile allows.
    above = round(validation_fpr * validation_images)
    expected = beta(above + 1, validation_images - above)
    return {**row, "auc": tested["auc"], "validation_images": validation_images, "validation_fpr": validation_fpr,
            "expected_fpr_low": expected.ppf(0.025), "expected_fpr_high": expected.ppf(0.975),
            "test_fpr": tested["false_positive_rate"], "test_recall": tested["recall"],
            "unseen_normal_images": len(normal), "unseen_fpr": float(normal.mean()),
            "unseen_fpr_low": interval.low, "unseen_fpr_high": interval.high,
            "unseen_anomalous_images": len(anomalous), "unseen_recall": float(anomalous.mean())}


def main_bench():
    arguments = parse_arguments()
    digits = dict(np.load(arguments.data_dir))
    rows = []
    for digit in arguments.classes:
        root = image_folders(arguments, digits, digit)
        for target in arguments.target_fprs:
            rows.append(measure(arguments, digit, root, target))
            print({key: round(value, 4) if isinstance(value, float) else value for key, value in rows[-1].items()})
    arguments.csv.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(arguments.csv, rows_csv(rows))
    print(f"written to {arguments.csv}")


if __name__ == "__main__":
    main_bench()
