"""DGAD-TF command line: train and test one-class anomaly detectors, one class at a time.

    python main.py                               # train every CIFAR-10 class in turn (paper settings)
    python main.py --phase test                  # test every class; results in ./results
    python main.py --phase test --test_object 1  # test class 1 (automobile) only
    python main.py --dataset digits --phase both --width 16 --iterations 400   # CPU-sized, no download
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from utils.config import Config  # noqa: E402  (TF logging must be configured before TF loads)

DATASETS = ("cifar10", "mnist", "digits", "npz")
PHASES = ("train", "test", "both")


class OneLineErrorParser(argparse.ArgumentParser):
    """Bad flags get one line naming the problem, not the whole usage block."""

    def error(self, message):
        self.exit(2, f"error: {message} (see python main.py --help)\n")


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def seed_value(text: str) -> int:
    value = int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 2**32 - 1, got {text}")
    return value


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = Config()
    parser = OneLineErrorParser(
        description="DGAD: one-class anomaly detection with discriminator-guided generative representation "
                    "learning. Defaults are the paper's settings (GPU-sized); see README for CPU-sized runs.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--phase", choices=PHASES, default="train",
                        help="train the models, test trained models, or both in turn")
    parser.add_argument("--dataset", choices=DATASETS, default=defaults.dataset,
                        help="digits is scikit-learn's embedded handwritten digits (no download); npz reads "
                             "--data_dir FILE.npz with keys x_train, y_train, x_test, y_test")
    parser.add_argument("--data_dir", default=None,
                        help="read the dataset from local files instead of downloading it with "
                             "tensorflow-datasets (CIFAR-10 python pickles folder, MNIST IDX folder, or .npz file)")
    parser.add_argument("--train_object", type=int, default=None,
                        help="train only this class index (default: every class in turn)")
    parser.add_argument("--test_object", type=int, default=None,
                        help="test only this class index (default: every class in turn)")
    parser.add_argument("--protocol", type=int, choices=(1, 2, 3), default=defaults.protocol,
                        help="pretext task: 1 rotation, 2 jigsaw, 3 jigsaw + tile rotation")
    parser.add_argument("--iterations", type=positive_int, default=defaults.iterations,
                        help="training iterations per class (one D and one G update each)")
    parser.add_argument("--batch_size", type=positive_int, default=defaults.batch_size, help="batch size")
    parser.add_argument("--width", type=positive_int, default=defaults.width,
                        help="base channel count of every network (the paper's is 64; 16 suits a CPU)")
    parser.add_argument("--learning_rate", type=float, default=defaults.learning_rate, help="Adam learning rate")
    parser.add_argument("--seed", type=seed_value, default=defaults.seed,
                        help="fixes data order, initialisation and pretext transformations")
    parser.add_argument("--no_xla", action="store_true",
                        help="run the training step without XLA compilation (XLA is about 2x faster on CPU "
                             "but takes ~20 s to compile)")
    parser.add_argument("--checkpoint_every", type=positive_int, default=defaults.checkpoint_every,
                        help="save a checkpoint every N iterations (and at the end)")
    parser.add_argument("--results_dir", default=defaults.results_dir, help="where results are written")
    parser.add_argument("--checkpoint_dir", default=defaults.checkpoint_dir, help="where checkpoints are written")
    parser.add_argument("--run_name", default=None,
                        help="folder name of this run under <results_dir>/<dataset>/ and <checkpoint_dir>/<dataset>/ "
                             "(default: built from method, protocol, width, iterations, batch size and seed)")
    return parser.parse_args(argv)


def config_from_arguments(arguments: argparse.Namespace) -> Config:
    return Config(dataset=arguments.dataset, data_dir=arguments.data_dir, protocol=arguments.protocol,
                  iterations=arguments.iterations, batch_size=arguments.batch_size, width=arguments.width,
                  learning_rate=arguments.learning_rate, seed=arguments.seed, jit_compile=not arguments.no_xla,
                  checkpoint_every=arguments.checkpoint_every, results_dir=arguments.results_dir,
                  checkpoint_dir=arguments.checkpoint_dir, run_name=arguments.run_name)


class UsageError(Exception):
    """A flag value that only the loaded dataset can show to be wrong."""


def selected_classes(requested: int | None, class_names: tuple[str, ...], flag: str) -> list[int]:
    if requested is None:
        return list(range(len(class_names)))
    if not 0 <= requested < len(class_names):
        raise UsageError(f"{flag} {requested} is out of range: this dataset has classes 0..{len(class_names) - 1} "
                         f"({', '.join(class_names)})")
    return [requested]


def main(argv: list[str] | None = None) -> int:
    sys.stdout.reconfigure(line_buffering=True)
    arguments = parse_arguments(argv)
    config = config_from_arguments(arguments)

    from data.sources import DatasetError, load_dataset
    from utils.experiment import Experiment, ExperimentError
    from utils.training import TrainingDiverged

    try:
        dataset = load_dataset(config.dataset, config.data_dir)
        experiment = Experiment(config, dataset)
        if arguments.phase in ("train", "both"):
            for class_index in selected_classes(arguments.train_object, dataset.class_names, "--train_object"):
                experiment.train_class(class_index)
        if arguments.phase in ("test", "both"):
            requested = arguments.test_object if arguments.phase == "test" or arguments.test_object is not None \
                else arguments.train_object
            experiment.test_classes(selected_classes(requested, dataset.class_names, "--test_object"))
    except (DatasetError, ExperimentError, TrainingDiverged, UsageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; training iterations done so far are checkpointed: run the same command to resume, "
              "it skips what is finished", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
