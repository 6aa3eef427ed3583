"""Scoring speed of s_rec and s_dir (the paper's Table 5) at the paper's width and batch, on an untrained model.

    python bench/bench_scoring.py                       # width 64, batch 64, CIFAR-10-sized images
    python bench/bench_scoring.py --width 16 --images 256
    python bench/bench_scoring.py --csv docs/findings/table5_speed/speed.csv   # also the CSV plot_findings.py draws

Speed does not depend on the weights, so the networks are built at their initialisation and score
random 32x32x3 images: no training, no dataset. The s_rec and s_dir passes alternate round after
round (models/dgad/scoring.py, scoring_speed, as reproduce.py --table 5 measures a trained class);
the median round's images/s is printed beside the paper's (a GPU's), per protocol.
"""

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tensorflow as tf  # noqa: E402

from models.dgad.paper_results import DGAD_SCORING_SPEED  # noqa: E402
from models.dgad.scoring import ScoringPasses, scoring_speed  # noqa: E402
from utils.reporting.files import write_text_atomically  # noqa: E402
from utils.reporting.reports import rows_csv  # noqa: E402
from utils.running.config import Config  # noqa: E402
from utils.running.experiment import build_model  # noqa: E402


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--images", type=int, default=512, help="images scored per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--protocols", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--csv", type=Path, help="also write the table's numbers to this CSV file")
    return parser.parse_args()


def main():
    arguments = parse_arguments()
    shape = (32, 32, 3)
    images = tf.random.stateless_uniform((arguments.images, *shape), seed=[0, 0], minval=-1, maxval=1)
    print(f"width {arguments.width}, batch {arguments.batch_size}, {arguments.images} images of 32x32x3 per round, "
          f"{arguments.rounds} rounds, XLA, {os.cpu_count()} CPUs")
    print("| Protocol | s_rec images/s | s_dir images/s | s_rec / s_dir | paper s_rec | paper s_dir | paper ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = []
    for protocol in arguments.protocols:
        config = Config(width=arguments.width, batch_size=arguments.batch_size, protocol=protocol)
        # ScoringPasses compiles its passes when it is made, so the rounds time scoring alone.
        passes = ScoringPasses(build_model(config, shape), config.batch_size, config.jit_compile)
        speed = scoring_speed(passes, images, arguments.rounds)
        paper_rec, paper_dir = DGAD_SCORING_SPEED[(protocol, "rec")], DGAD_SCORING_SPEED[(protocol, "dir")]
        print(f"| {protocol} | {speed['rec']:.2f} | {speed['dir']:.2f} | {speed['rec'] / speed['dir']:.2f} | "
              f"{paper_rec:.2f} | {paper_dir:.2f} | {paper_rec / paper_dir:.2f} |", flush=True)
        rows.append({"protocol": protocol, "s_rec_images_per_second": speed["rec"],
                     "s_dir_images_per_second": speed["dir"], "ratio": speed["rec"] / speed["dir"],
                     "paper_s_rec": paper_rec, "paper_s_dir": paper_dir, "paper_ratio": paper_rec / paper_dir})
    if arguments.csv:
        arguments.csv.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(arguments.csv, rows_csv(rows))
        print(f"written to {arguments.csv}")


if __name__ == "__main__":
    main()
