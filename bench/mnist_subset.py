"""DGAD, Protocol 1, on a real MNIST subset at a CPU-sized budget, beside the paper's Table 1.

    python bench/mnist_subset.py --data_dir ../shared/data/mnist-subset.npz

Trains and tests all ten classes through main.py (--dataset npz) and writes
bench/results/mnist_subset_p1.md: the budget, the wall time, and summary.md's table.
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import main  # noqa: E402
from utils.paper_results import paper_reference  # noqa: E402
from utils.reports import write_summary  # noqa: E402


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", required=True, help="the .npz with x_train, y_train, x_test, y_test")
    parser.add_argument("--width", type=int, default=8)
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--iterations", type=int, default=400)
    parser.add_argument("--work_dir", default="bench/out", help="results and checkpoints of the runs")
    parser.add_argument("--report", default="bench/results/mnist_subset_p1.md")
    return parser.parse_args()


def write_report(summary_folder: Path, report: Path, arguments, minutes: float):
    """Our per-class AUCs (from the run's summary.json) beside the paper's Table 1, DGAD Protocol 1."""
    summary = json.loads((summary_folder / "summary.json").read_text())
    table_folder = summary_folder / "beside_table_1"
    _, table = write_summary(table_folder, summary["per_class_auc"], [str(digit) for digit in range(10)],
                             summary["config"], paper_reference("dgad", "mnist", 1, "one_vs_all"))
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(
        f"# DGAD Protocol 1 on the MNIST subset (CPU budget)\n\n"
        f"Command: `python bench/mnist_subset.py --data_dir ../shared/data/mnist-subset.npz --width {arguments.width} "
        f"--batch_size {arguments.batch_size} --iterations {arguments.iterations}`\n\n"
        f"Budget: width {arguments.width}, batch {arguments.batch_size}, {arguments.iterations} iterations per "
        f"class (the paper: width 64, batch 64, 10000 iterations). Wall time for training and testing all ten "
        f"classes: {minutes:.1f} min on a 2-core CPU.\n\n"
        f"The paper's column is DGAD (Protocol 1) of Table 1, trained on the full MNIST training set;\n"
        f"this run trains on the subset's ~300 images per class and tests on the full official test split.\n\n"
        + table.read_text())


def main_benchmark():
    arguments = parse_arguments()
    run_name = f"mnist-subset-p1-w{arguments.width}-i{arguments.iterations}-b{arguments.batch_size}"
    started = time.perf_counter()
    status = main.main(["--dataset", "npz", "--data_dir", arguments.data_dir, "--phase", "both", "--protocol", "1",
                        "--width", str(arguments.width), "--batch_size", str(arguments.batch_size),
                        "--iterations", str(arguments.iterations), "--run_name", run_name,
                        "--results_dir", f"{arguments.work_dir}/results",
                        "--checkpoint_dir", f"{arguments.work_dir}/checkpoints"])
    minutes = (time.perf_counter() - started) / 60
    if status != 0:
        return status
    summary_folder = Path(arguments.work_dir) / "results" / "npz" / run_name
    write_report(summary_folder, Path(arguments.report), arguments, minutes)
    print(f"report: {arguments.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main_benchmark())
