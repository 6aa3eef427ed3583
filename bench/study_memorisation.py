"""Why s_rec stays under the floors on the MNIST subset: the autoencoder memorises its few training images.

    python bench/study_memorisation.py --data_dir ../shared/data/mnist-subset.npz
    python bench/study_memorisation.py --data_dir ../shared/data/mnist-subset.npz --iterations 1000 --eval_every 250

The subset holds 5% of MNIST's training images (275 fives, where the paper trains on 5421). MNIST's test split is
cut in two at random (numpy seed 0): 5000 images are the test split of both runs, and the fives of the other half
are added to the training set of the second run. Both train digit 5 (Protocol 1, width 8, batch 32, seed 0) with
--eval_every and --score both, then run --phase diagnose. Writes to docs/findings/memorisation/:

- `curves.csv`: per training-set size and iteration, the AUC of s_rec, its parts, s_dir and both floors;
- `errors.csv`: per training-set size, the mean |x - x^| of the model and of the PCA floor on the training
  images, the unseen normal and the anomalous test images, and their two ratios.

`python bench/plot_findings.py` draws `memorisation.png` from them.
"""

import argparse
import json
from pathlib import Path

import numpy as np

# study_runs puts the repository on sys.path, so it comes before the project's own imports.
from study_runs import FINDINGS, STUDY_BATCH_SIZE, STUDY_WIDTH, only_file, read_curve, run, run_folder_pattern
from utils.reporting.files import write_text_atomically
from utils.reporting.reports import rows_csv

STUDIED_DIGIT = 5
SCORED_TEST_IMAGES = 5000


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", type=Path, required=True, help="the MNIST subset (.npz, shared/data)")
    parser.add_argument("--iterations", default="2000")
    parser.add_argument("--eval_every", default="500")
    parser.add_argument("--seed", default="0")
    parser.add_argument("--work_folder", type=Path, default=Path("/tmp/study_memorisation"),
                        help="the two datasets, checkpoints and results (a finished run is reused)")
    parser.add_argument("--output", type=Path, default=FINDINGS / "memorisation")
    return parser.parse_args()


def two_training_sets(subset: Path, folder: Path) -> dict[str, Path]:
    """The subset's own training images and the same with the unscored half's fives, on one test split."""
    digits = np.load(subset)
    order = np.random.default_rng(0).permutation(len(digits["x_test"]))
    scored, extra = order[:SCORED_TEST_IMAGES], order[SCORED_TEST_IMAGES:]
    added = extra[digits["y_test"][extra] == STUDIED_DIGIT]
    test = {"x_test": digits["x_test"][scored], "y_test": digits["y_test"][scored]}
    sets = {"subset": {"x_train": digits["x_train"], "y_train": digits["y_train"], **test},
            "more": {"x_train": np.concatenate([digits["x_train"], digits["x_test"][added]]),
                     "y_train": np.concatenate([digits["y_train"], digits["y_test"][added]]), **test}}
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, arrays in sets.items():
        paths[name] = folder / f"mnist-{name}.npz"
        if not paths[name].exists():
            np.savez(paths[name], **arrays)
    return paths


def study(arguments, data: Path) -> tuple[dict, dict]:
    """One training-set size: its learning_curve.csv's rows and its diagnosis."""
    folder = arguments.work_folder / data.stem
    flags = ["--dataset", "npz", "--data_dir", str(data), "--train_object", str(STUDIED_DIGIT), "--score", "both",
             "--width", str(STUDY_WIDTH), "--batch_size", str(STUDY_BATCH_SIZE), "--iterations", arguments.iterations,
             "--seed", arguments.seed,
             "--results_dir", str(folder / "results"), "--checkpoint_dir", str(folder / "checkpoints")]
    run(flags + ["--phase", "both", "--eval_every", arguments.eval_every])
    run(flags + ["--phase", "diagnose"])
    run_folder = run_folder_pattern(arguments.iterations, arguments.seed)
    curve = read_curve(only_file(folder / "results", f"{run_folder}/learning_curves/*/learning_curve.csv"))
    return curve, json.loads(only_file(folder / "results", f"{run_folder}/diagnosis/*/diagnosis.json").read_text())


def main_study():
    arguments = parse_arguments()
    arguments.output.mkdir(parents=True, exist_ok=True)
    curve_rows, error_rows = [], []
    for data in two_training_sets(arguments.data_dir, arguments.work_folder).values():
        curve, diagnosis = study(arguments, data)
        size = diagnosis["training_images"]
        curve_rows += [{"training_images": size, **row} for row in curve]
        error_rows += [{"training_images": size, "reconstructed_by": reconstructed_by,
                        "pca_components": diagnosis["pca_components"], **error}
                       for reconstructed_by, error in diagnosis["reconstruction_error"].items()]
    write_text_atomically(arguments.output / "curves.csv", rows_csv(curve_rows))
    write_text_atomically(arguments.output / "errors.csv", rows_csv(error_rows))
    print(f"written to {arguments.output}")


if __name__ == "__main__":
    main_study()
