"""DGAD-TF command line: train and test one-class anomaly detectors, one class at a time.

    python main.py                               # train every CIFAR-10 class in turn (paper settings)
    python main.py --phase test                  # test every class; results in ./results
    python main.py --phase test --test_object 1  # test class 1 (automobile) only
    python main.py --dataset digits --phase both   # embedded data, CPU-sized defaults: minutes, no download
    python main.py --method adcgan --dataset digits --phase both --train_object 0   # AD-CGAN, one class
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from data.sources import DATASET_NAMES as DATASETS  # noqa: E402  (imported after the TF log level is set)
from utils.config import (ADCGAN_EPOCHS, DATASET_DEFAULTS, METHOD_DEFAULTS, METHODS, PROTOCOLS, SCHEMES,  # noqa: E402
                          SCORES, VARIANTS, Config, config_for_dataset)

PHASES = ("train", "test", "both")


class OneLineErrorParser(argparse.ArgumentParser):
    """Bad flags get one line naming the problem, not the whole usage block."""

    def error(self, message):
        self.exit(2, f"error: {message} (see python {self.prog} --help)\n")


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or a positive integer, got {text}")
    return value


def seed_value(text: str) -> int:
    value = int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 2**32 - 1, got {text}")
    return value


def dataset_default(name: str) -> str:
    """The help text's default of a setting that the method or the dataset changes."""
    texts = []
    for method in METHODS:
        default = getattr(Config(method=method), name)
        special = ", ".join(f"{value} for {dataset}" for dataset, settings in DATASET_DEFAULTS[method].items()
                            for setting, value in settings.items() if setting == name)
        if default is None and name == "iterations":
            default = "the paper's epochs"
        if default is not None or special:
            texts.append(f"{method}: {default}" + (f" ({special})" if special else ""))
    return "default: " + "; ".join(texts)


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = Config()
    parser = OneLineErrorParser(
        description="DGAD: one-class anomaly detection with discriminator-guided generative representation "
                    "learning. Defaults are the paper's settings (GPU-sized); see README for CPU-sized runs.")
    parser.add_argument("--method", choices=METHODS, default=defaults.method,
                        help="dgad (the DGAD paper) or adcgan (the AD-CGAN paper, the comparison method) "
                             f"(default: {defaults.method})")
    parser.add_argument("--phase", choices=PHASES, default="train",
                        help="train the models, test trained models, or both in turn (default: train)")
    parser.add_argument("--dataset", choices=DATASETS, default=defaults.dataset,
                        help="digits is scikit-learn's embedded handwritten digits (no download); npz reads "
                             "--data_dir FILE.npz; folder reads --data_dir with train/ and test/good, test/<other> "
                             f"(default: {defaults.dataset})")
    parser.add_argument("--data_dir", default=None,
                        help="read the dataset from local files instead of downloading it with tensorflow-datasets "
                             "(README, 'Data', lists what to put there)")
    parser.add_argument("--train_object", default=None,
                        help="train only this class, by index or name (default: every class in turn)")
    parser.add_argument("--test_object", default=None,
                        help="test only this class, by index or name (default: every class in turn)")
    parser.add_argument("--scheme", choices=SCHEMES, default=defaults.scheme,
                        help="one_vs_all: the class is normal; all_vs_one: the class is the anomaly (AD-CGAN) "
                             f"(default: {defaults.scheme})")
    parser.add_argument("--protocol", type=int, choices=PROTOCOLS, default=None,
                        help="pretext task: 1 rotation, 2 jigsaw, 3 jigsaw + tile rotation "
                             f"({dataset_default('protocol')})")
    parser.add_argument("--variant", choices=VARIANTS, default=defaults.variant,
                        help="DGAD only: the paper's Table 4 ablations: gan restores transformed images by pixel-level "
                             "reconstruction instead of discriminator guidance; no_compactness drops L_cmp; "
                             "zero_padding and coordconv add absolute position information "
                             f"(default: {defaults.variant})")
    parser.add_argument("--score", choices=tuple(choice for method in METHODS for choice in SCORES[method]),
                        default=None,
                        help="test-phase anomaly score. DGAD: rec is s_rec (eq 15, fast), dir the Dirichlet score "
                             "s_dir (eq 17, the discriminator only), both writes each. AD-CGAN: gf is the normality "
                             "score NS (eqs 4-5); lg, lfe, lfl its Table 4 ablations; all writes the four "
                             f"(default: {METHOD_DEFAULTS['dgad']['score']} for dgad, "
                             f"{METHOD_DEFAULTS['adcgan']['score']} for adcgan)")
    parser.add_argument("--iterations", type=positive_int, default=None,
                        help="training iterations per class, one update of every network each "
                             f"({dataset_default('iterations')})")
    parser.add_argument("--epochs", type=positive_int, default=None,
                        help="AD-CGAN: epochs after the warm-up, used when --iterations is not given (default: "
                             + ", ".join(f"{epochs} for {scheme}" for scheme, (epochs, _) in ADCGAN_EPOCHS.items()) + ")")
    parser.add_argument("--warmup_epochs", type=non_negative_int, default=None,
                        help="AD-CGAN: autoencoder-only epochs first; with --iterations, the warm-up takes the same "
                             "share of them (default: "
                             + ", ".join(f"{warmup} for {scheme}" for scheme, (_, warmup) in ADCGAN_EPOCHS.items()) + ")")
    parser.add_argument("--latent_size", type=positive_int, default=None,
                        help=f"AD-CGAN's latent vector size ({dataset_default('latent_size')})")
    parser.add_argument("--batch_size", type=positive_int, default=None,
                        help=f"batch size ({dataset_default('batch_size')})")
    parser.add_argument("--image_size", type=positive_int, default=None,
                        help=f"model input size in pixels, a multiple of 4 ({dataset_default('image_size')})")
    parser.add_argument("--max_zoom", type=float, default=None,
                        help=f"random zoom-in augmentation up to 1 + this factor ({dataset_default('max_zoom')})")
    parser.add_argument("--width", type=positive_int, default=None,
                        help=f"base channel count of every network; the paper's is 64, 8 suits a CPU "
                             f"({dataset_default('width')})")
    parser.add_argument("--learning_rate", type=float, default=None,
                        help="Adam learning rate; AD-CGAN's CGAN and D_z "
                             f"(default: {METHOD_DEFAULTS['dgad']['learning_rate']} for dgad, "
                             f"{METHOD_DEFAULTS['adcgan']['learning_rate']} for adcgan)")
    parser.add_argument("--autoencoder_learning_rate", type=float, default=defaults.autoencoder_learning_rate,
                        help=f"AD-CGAN's autoencoder learning rate (default: {defaults.autoencoder_learning_rate})")
    parser.add_argument("--ns_lambda", type=float, default=defaults.ns_lambda,
                        help=f"AD-CGAN's lambda in NS, the feature share of L_Gr (default: {defaults.ns_lambda})")
    parser.add_argument("--ns_rho", type=float, default=defaults.ns_rho,
                        help=f"AD-CGAN's rho in NS, the L_FE share of L_Fr (default: {defaults.ns_rho})")
    parser.add_argument("--seed", type=seed_value, default=defaults.seed,
                        help=f"fixes data order, initialisation and pretext transformations (default: {defaults.seed})")
    parser.add_argument("--no_xla", action="store_true",
                        help="run the training step without XLA (XLA is about 2x faster on CPU but compiles ~20 s)")
    parser.add_argument("--checkpoint_every", type=positive_int, default=defaults.checkpoint_every,
                        help=f"save a checkpoint every N iterations and at the end (default: {defaults.checkpoint_every})")
    parser.add_argument("--results_dir", default=defaults.results_dir,
                        help=f"where results are written (default: {defaults.results_dir})")
    parser.add_argument("--checkpoint_dir", default=defaults.checkpoint_dir,
                        help=f"where checkpoints are written (default: {defaults.checkpoint_dir})")
    parser.add_argument("--run_name", default=None,
                        help="folder name of this run under <results_dir>/<dataset>/ and <checkpoint_dir>/<dataset>/ "
                             "(default: built from method, variant, protocol, scheme, width, length, batch size, seed)")
    return parser.parse_args(argv)


def config_from_arguments(arguments: argparse.Namespace) -> Config:
    return config_for_dataset(
        arguments.dataset, method=arguments.method, data_dir=arguments.data_dir, variant=arguments.variant,
        score=arguments.score, latent_size=arguments.latent_size, epochs=arguments.epochs,
        warmup_epochs=arguments.warmup_epochs, autoencoder_learning_rate=arguments.autoencoder_learning_rate,
        ns_lambda=arguments.ns_lambda, ns_rho=arguments.ns_rho,
        scheme=arguments.scheme, protocol=arguments.protocol,
        iterations=arguments.iterations, batch_size=arguments.batch_size, image_size=arguments.image_size,
        max_zoom=arguments.max_zoom, width=arguments.width, learning_rate=arguments.learning_rate,
        seed=arguments.seed, jit_compile=not arguments.no_xla, checkpoint_every=arguments.checkpoint_every,
        results_dir=arguments.results_dir, checkpoint_dir=arguments.checkpoint_dir, run_name=arguments.run_name)


class UsageError(Exception):
    """A flag value that is wrong for the run asked for, e.g. a class the loaded dataset does not have."""


def selected_classes(requested: str | None, dataset, flag: str) -> list[int]:
    """Every class, or the one named by index or by name (MVTec AD: the paper's category index)."""
    from data.sources import mvtec_category_index

    class_names = dataset.class_names
    if requested is None:
        return list(range(len(class_names)))
    if dataset.name == "mvtec":
        return [mvtec_category_index(requested, dataset)]
    if requested in class_names:
        return [class_names.index(requested)]
    if requested.isdigit() and int(requested) < len(class_names):
        return [int(requested)]
    raise UsageError(f"{flag} {requested} is not a class of this dataset: give an index 0..{len(class_names) - 1} "
                     f"or a name ({', '.join(class_names)})")


def test_selection(arguments: argparse.Namespace) -> tuple[str | None, str]:
    """(the class to test, the flag that named it): --test_object, else the class trained (--train_object),
    else every class."""
    if arguments.test_object is not None or arguments.train_object is None:
        return arguments.test_object, "--test_object"
    if arguments.phase == "test":
        print(f"note: testing class {arguments.train_object}, the one --train_object names "
              "(--test_object selects the classes to test)")
    return arguments.train_object, "--train_object"


def train_then_test(experiment, train_classes: list[int], test_classes: list[int],
                    failures: tuple[type[BaseException], ...]) -> str | None:
    """Train each class, then test test_classes (none: the run only trains); None if all went well, else
    the one-line error.

    A failed training stops the training, but the classes trained before it are still tested and
    summarised, so that the hours they took are not lost to the error.
    """
    for position, index in enumerate(train_classes):
        try:
            experiment.train_class(index)
        except failures as error:
            trained = train_classes[:position]
            message = f"training {experiment.describe(index)} failed: {error}"
            finished = [test_index for test_index in test_classes if test_index in trained]
            if finished:
                try:
                    experiment.test_classes(finished)
                    message += f"; tested and summarised the classes trained before it: " \
                               f"{class_list(experiment, finished)}"
                except failures as test_error:
                    message += f"; testing the classes trained before it failed too: {test_error}"
            elif test_classes:
                message += "; no class finished training, so none was tested"
            not_reached = train_classes[position + 1:]
            if not_reached:
                message += f"; not trained yet: {class_list(experiment, not_reached)}"
            return message
    if test_classes:
        experiment.test_classes(test_classes)
    return None


def class_list(experiment, classes: list[int]) -> str:
    return ", ".join(f"{index} ({experiment.dataset.class_names[index]})" for index in classes)


def main(argv: list[str] | None = None) -> int:
    sys.stdout.reconfigure(line_buffering=True)
    arguments = parse_arguments(argv)
    try:
        config = config_from_arguments(arguments)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    from data.sources import DatasetError, load_dataset
    from utils.experiment import Experiment, ExperimentError
    from utils.preflight import PreflightError, check_before_run
    from utils.training import TrainingDiverged

    trains, tests = arguments.phase in ("train", "both"), arguments.phase in ("test", "both")
    if arguments.test_object is not None and not tests:
        print("error: --test_object selects the classes to test, and --phase train tests none; use --train_object "
              "to choose the class to train, or --phase both", file=sys.stderr)
        return 2
    # OSError: a full disk or a folder that became unwritable while the run went on.
    failures = (DatasetError, ExperimentError, TrainingDiverged, OSError)
    try:
        dataset = load_dataset(config.dataset, config.data_dir, config.image_size)
        train_classes = selected_classes(arguments.train_object, dataset, "--train_object") if trains else []
        test_classes = []
        if tests:
            requested, flag = test_selection(arguments)
            test_classes = selected_classes(requested, dataset, flag)
        check_before_run([config], dataset, train_classes, "--train_object", trains, tests)
        failure = train_then_test(Experiment(config, dataset), train_classes, test_classes, failures)
    except (*failures, PreflightError, UsageError) as error:
        failure = str(error)
    except KeyboardInterrupt:
        print("interrupted; training iterations done so far are checkpointed: run the same command to resume, "
              "it skips what is finished", file=sys.stderr)
        return 130
    if failure is not None:
        print(f"error: {failure}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
