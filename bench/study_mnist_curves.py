"""Learning curves on the MNIST subset's digit 5: DGAD against its `gan` variant, and the latent's channel count.

    python bench/study_mnist_curves.py --data_dir ../shared/data/mnist-subset.npz
    python bench/study_mnist_curves.py --data_dir ../shared/data/mnist-subset.npz --runs dgad gan --iterations 500 \
        --output /tmp/short_curves
    python bench/study_mnist_curves.py --data_dir ../shared/data/mnist-subset.npz --runs dgad gan --digits 2 5 8 \
        --width 16 --iterations 2000 --eval_every 500 --output /tmp/wider     # longer, wider: hours on a CPU

Every run trains one digit (by default 5; Protocol 1, width 8, batch 32, seed 0, --score both) with --eval_every,
through main.py as a user runs it; the runs differ in one flag each:

- `dgad`: the defaults (a latent of 2 x width = 16 channels);
- `gan`: `--variant gan` (Table 4's GAN row: restorations learnt pixel by pixel, without the discriminator's guidance);
- `l1sum`: `--l1_reading sum` (the L1 norms of eqs 6 and 15 read as sums, not means);
- `latent<N>`: `--latent_channels N`, for N = 2, 4, 32 (width/4, width/2, 4 x width; the paper gives no count).

Writes, per run and evaluated iteration, the AUC of s_rec, its parts, s_dir and both floors to
`docs/findings/learning_curves/curves.csv` (the runs `dgad`, `gan` and `l1sum`) and
`docs/findings/latent_channels/curves.csv` (`dgad` and the `latent<N>` runs), and beside the latter

- `parameters.csv`: encoder + decoder parameters per latent channel count, at width 8 on grey 32x32 images (these
  runs) and at the paper's width 64 on RGB ones (CIFAR-10, where the paper counts "about 8.9M").

A study's files are written when one of its own runs (beside `dgad`) was chosen. `python bench/plot_findings.py`
draws `dgad_against_gan.png` and `latent_channels.png` from them.
"""

import argparse
from pathlib import Path

import tensorflow as tf

# study_runs puts the repository on sys.path, so it comes before the project's own imports.
from study_runs import FINDINGS, STUDY_BATCH_SIZE, STUDY_WIDTH, only_file, read_curve, run, run_folder_pattern
from models.dgad.networks import Decoder, Encoder, default_latent_channels
from models.dgad.paper_results import DGAD_PARAMETERS
from utils.reporting.files import write_text_atomically
from utils.reporting.reports import rows_csv

PAPER_WIDTH = 64
LATENT_FRACTIONS_OF_WIDTH = (0.25, 0.5, 4.0)
LATENT_RUNS = {f"latent{int(STUDY_WIDTH * fraction)}": ["--latent_channels", str(int(STUDY_WIDTH * fraction))]
               for fraction in LATENT_FRACTIONS_OF_WIDTH}
RUNS = {"dgad": [], "gan": ["--variant", "gan"], "l1sum": ["--l1_reading", "sum"], **LATENT_RUNS}


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", type=Path, required=True, help="the MNIST subset (.npz, shared/data)")
    parser.add_argument("--runs", nargs="+", choices=sorted(RUNS), default=list(RUNS))
    parser.add_argument("--digits", type=int, nargs="+", default=[5])
    parser.add_argument("--width", type=int, default=STUDY_WIDTH,
                        help="the networks' width (the latent runs keep their channel counts)")
    parser.add_argument("--iterations", default="1000")
    parser.add_argument("--eval_every", default="250")
    parser.add_argument("--seed", default="0")
    parser.add_argument("--work_folder", type=Path, default=Path("/tmp/study_mnist_curves"),
                        help="checkpoints and results (a finished run is reused)")
    parser.add_argument("--output", type=Path, default=FINDINGS, help="the findings folder")
    return parser.parse_args()


def curve(arguments, name: str, digit: int) -> list[dict]:
    """One run's learning_curve.csv rows, each led by the run's name, digit, width, variant and latent channels."""
    folder = arguments.work_folder / f"{name}-digit{digit}-width{arguments.width}"
    run(["--dataset", "npz", "--data_dir", str(arguments.data_dir), "--train_object", str(digit),
         "--phase", "train", "--score", "both", "--width", str(arguments.width), "--batch_size", str(STUDY_BATCH_SIZE),
         "--iterations", arguments.iterations, "--eval_every", arguments.eval_every, "--seed", arguments.seed,
         "--results_dir", str(folder / "results"), "--checkpoint_dir", str(folder / "checkpoints"), *RUNS[name]])
    run_folder = run_folder_pattern(arguments.iterations, arguments.seed)
    curve_file = only_file(folder / "results", f"{run_folder}/learning_curves/*/learning_curve.csv")
    flags = dict(zip(RUNS[name][::2], RUNS[name][1::2]))
    lead = {"run": name, "digit": digit, "width": arguments.width, "variant": flags.get("--variant", "dgad"),
            "l1_reading": flags.get("--l1_reading", "mean"),
            "latent_channels": int(flags.get("--latent_channels", default_latent_channels(arguments.width)))}
    return [{**lead, **row} for row in read_curve(curve_file)]


def generator_parameters(width: int, latent_channels: int, image_channels: int) -> int:
    encoder, decoder = Encoder(width, latent_channels=latent_channels), Decoder(width, image_channels)
    decoder(encoder(tf.zeros((1, 32, 32, image_channels))))
    return encoder.count_params() + decoder.count_params()


def parameter_rows() -> list[dict]:
    fractions = sorted((*LATENT_FRACTIONS_OF_WIDTH, default_latent_channels(STUDY_WIDTH) / STUDY_WIDTH))
    return [{"latent_fraction_of_width": fraction,
             "latent_channels_width8": int(STUDY_WIDTH * fraction),
             "parameters_width8_grey": generator_parameters(STUDY_WIDTH, int(STUDY_WIDTH * fraction), 1),
             "latent_channels_width64": int(PAPER_WIDTH * fraction),
             "parameters_width64_rgb": generator_parameters(PAPER_WIDTH, int(PAPER_WIDTH * fraction), 3),
             "paper_parameters": DGAD_PARAMETERS["encoder_decoder"]} for fraction in fractions]


def main_study():
    arguments = parse_arguments()
    rows = [row for digit in arguments.digits for name in arguments.runs for row in curve(arguments, name, digit)]
    for study, own_runs in (("learning_curves", {"gan", "l1sum"}), ("latent_channels", set(LATENT_RUNS))):
        if not own_runs & set(arguments.runs):
            continue
        chosen = [row for row in rows if row["run"] in own_runs | {"dgad"}]
        (arguments.output / study).mkdir(parents=True, exist_ok=True)
        write_text_atomically(arguments.output / study / "curves.csv", rows_csv(chosen))
        if study == "latent_channels":
            write_text_atomically(arguments.output / study / "parameters.csv", rows_csv(parameter_rows()))
        print(f"written to {arguments.output / study}")


if __name__ == "__main__":
    main_study()
