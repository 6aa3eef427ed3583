"""The embedded digits, as the quick start trains them: per-class AUCs against the floors, and learning curves.

    python bench/study_digits.py                     # the quick start's run, again with seed 1, then digits 2, 5, 8 to 600
    python bench/study_digits.py --curve_classes 5 --curve_iterations 200 --eval_every 50

Two studies on scikit-learn's embedded digits (no download), both through main.py as a user runs it:

1. The quick start's own command (`main.py --dataset digits --phase both`: width 8, batch 32, 100 iterations per
   class, seed 0). Its summary.json's per-class s_rec AUCs, their bootstrap intervals and the two classical floors
   go to `per_class.csv`; one class's scores.csv is kept as `scores_digit<N>.csv` (the ROC and the score
   distributions of the front page).
2. Does a class's 95% bootstrap interval (over test images) cover a retraining with another seed? The quick start
   again with --seed 1; per class both AUCs, seed 0's interval and whether it holds seed 1's AUC go to
   `seed_rerun.csv`.
3. Learning curves: the same settings trained longer on a few digits with --eval_every, each class's
   learning_curve.csv kept as `learning_curve_digit<N>.csv` (s_rec's AUC, its pixel and latent parts and both
   floors against the iteration).

The CSVs land in docs/findings/digits/; `python bench/plot_findings.py` draws their figures.
"""

import argparse
import json
import shutil
from pathlib import Path

# study_runs puts the repository on sys.path, so it comes before the project's own imports.
from study_runs import FINDINGS, only_file, run, run_folder_pattern
from utils.reporting.files import write_text_atomically
from utils.reporting.reports import columns_csv


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scores_class", type=int, default=8, help="the class whose scores.csv is kept")
    parser.add_argument("--rerun_seed", type=int, default=1)
    parser.add_argument("--curve_classes", type=int, nargs="+", default=[2, 5, 8])
    parser.add_argument("--curve_iterations", type=int, default=600)
    parser.add_argument("--eval_every", type=int, default=50)
    parser.add_argument("--work_folder", type=Path, default=Path("/tmp/study_digits"),
                        help="results and checkpoints of the runs (a finished run is reused)")
    parser.add_argument("--output", type=Path, default=FINDINGS / "digits")
    return parser.parse_args()


def quick_start_summary(arguments, folders: list[str], seed: int) -> tuple[Path, dict, list[str], list]:
    """The quick start's run with `seed`: its summary.json, the summary, the classes and their AUC intervals."""
    run(["--dataset", "digits", "--phase", "both", "--seed", str(seed), *folders])
    summary_file = only_file(arguments.work_folder / "results", f"*-seed{seed}/s_rec/summary.json")
    summary = json.loads(summary_file.read_text())
    classes = sorted(summary["per_class_auc"], key=int)
    intervals = [json.loads(next(summary_file.parent.glob(f"{name}_*/metrics.json")).read_text())["auc_interval"]
                 for name in classes]
    return summary_file, summary, classes, intervals


def per_class_study(arguments, quick_start):
    summary_file, summary, classes, intervals = quick_start
    columns = {"digit": [int(name) for name in classes],
               "s_rec_auc": [summary["per_class_auc"][name] for name in classes],
               "interval_low": [interval[0] for interval in intervals],
               "interval_high": [interval[1] for interval in intervals],
               "pca_floor_auc": [summary["per_class"][name]["PCA floor"] for name in classes],
               "knn_floor_auc": [summary["per_class"][name]["kNN floor"] for name in classes]}
    write_text_atomically(arguments.output / "per_class.csv", columns_csv(columns))
    scores = next(summary_file.parent.glob(f"{arguments.scores_class}_*/scores.csv"))
    shutil.copyfile(scores, arguments.output / f"scores_digit{arguments.scores_class}.csv")


def seed_rerun_study(arguments, folders: list[str], quick_start):
    _, first, classes, intervals = quick_start
    _, rerun, _, _ = quick_start_summary(arguments, folders, arguments.rerun_seed)
    rerun_aucs = [rerun["per_class_auc"][name] for name in classes]
    columns = {"digit": [int(name) for name in classes],
               "seed0_auc": [first["per_class_auc"][name] for name in classes],
               "seed0_interval_low": [interval[0] for interval in intervals],
               "seed0_interval_high": [interval[1] for interval in intervals],
               f"seed{arguments.rerun_seed}_auc": rerun_aucs,
               "covered": [int(low <= auc <= high) for (low, high), auc in zip(intervals, rerun_aucs)]}
    write_text_atomically(arguments.output / "seed_rerun.csv", columns_csv(columns))


def curve_study(arguments, folders: list[str]):
    for digit in arguments.curve_classes:
        run(["--dataset", "digits", "--phase", "train", "--train_object", str(digit),
             "--iterations", str(arguments.curve_iterations), "--eval_every", str(arguments.eval_every), *folders])
        run_folder = run_folder_pattern(arguments.curve_iterations, seed=0)
        curve = only_file(arguments.work_folder / "results",
                          f"{run_folder}/learning_curves/{digit}_*/learning_curve.csv")
        shutil.copyfile(curve, arguments.output / f"learning_curve_digit{digit}.csv")


def main_study():
    arguments = parse_arguments()
    arguments.output.mkdir(parents=True, exist_ok=True)
    folders = ["--results_dir", str(arguments.work_folder / "results"),
               "--checkpoint_dir", str(arguments.work_folder / "checkpoints")]
    quick_start = quick_start_summary(arguments, folders, seed=0)
    per_class_study(arguments, quick_start)
    seed_rerun_study(arguments, folders, quick_start)
    curve_study(arguments, folders)
    print(f"written to {arguments.output}")


if __name__ == "__main__":
    main_study()
