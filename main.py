"""DGAD-TF command line: train and test one-class anomaly detectors, one class at a time.

    python main.py                               # train every CIFAR-10 class in turn (paper settings)
    python main.py --phase test                  # test every class; results in ./results
    python main.py --phase test --test_object 1  # test class 1 (automobile) only
    python main.py --dataset digits --phase both   # embedded data, CPU-sized defaults: minutes, no download
    python main.py --method adcgan --dataset digits --phase both --train_object 0   # AD-CGAN, one class
    python main.py --dataset folder --data_dir DIR --phase predict --images new/   # score new image files
    python main.py --dataset folder --data_dir DIR --phase export   # a SavedModel of the trained class
    python main.py --dataset digits --phase diagnose --test_object 5   # which anomalies it misses, and why
"""

import argparse
import dataclasses
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from data.sources import DATASET_NAMES  # noqa: E402  (imported after the TF log level is set)
from data.pipeline import SCHEMES  # noqa: E402
from models.registry import METHODS  # noqa: E402
from models.settings import value_type  # noqa: E402
from utils.running.cli import (OneLineErrorParser, UsageError, add_xla_flags, interrupt_on_terminate,  # noqa: E402
                               parse_bool, positive_int, seed_value, selected_classes)
from utils.running import devices  # noqa: E402
from utils.running.config import VALIDATION_FRACTIONS, Config, config_for_dataset  # noqa: E402
from utils.running.devices import DISTRIBUTIONS, PRECISIONS  # noqa: E402

PHASES = ("train", "test", "both", "predict", "export", "diagnose")
# The phases that use a trained and tested class without reading its dataset.
INFERENCE_PHASES = ("predict", "export")


def defaults_text(name: str, methods=tuple(METHODS.values())) -> str:
    """The help text's default of a setting, per method: the method's, the scheme's, the datasets' exceptions."""
    texts = []
    for method in methods:
        if "scheme" in method.derived_from.get(name, ()):
            default = ", ".join(f"{getattr(Config(method=method.name, scheme=scheme), name)} for {scheme}"
                                for scheme in SCHEMES)
        else:
            default = getattr(Config(method=method.name), name)
        special = ", ".join(f"{settings[name]} for {dataset}" for dataset, settings in method.dataset_defaults.items()
                            if name in settings)
        if default is not None or special:
            texts.append((f"{method.name}: " if len(methods) > 1 else "") + f"{'unset' if default is None else default}"
                         + (f"; {special}" if special else ""))
    return "default: " + "; ".join(texts)


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = Config()
    parser = OneLineErrorParser(
        description="DGAD: one-class anomaly detection with discriminator-guided generative representation "
                    "learning. Defaults are the paper's settings (GPU-sized); see README for CPU-sized runs.")
    parser.add_argument("--method", choices=tuple(METHODS), default=defaults.method,
                        help="; ".join(f"{method.name}: {method.description}" for method in METHODS.values())
                             + f" (default: {defaults.method})")
    parser.add_argument("--phase", choices=PHASES, default="train",
                        help="train the models, test trained models, or both in turn; predict scores new image "
                             "files (--images) with a tested class, export writes it as a TensorFlow SavedModel; "
                             "diagnose breaks a trained class's AUCs down by anomalous class and compares its "
                             "reconstruction error on training and unseen images with the PCA floor's "
                             "(default: train)")
    parser.add_argument("--images", default=None,
                        help="--phase predict: the images to score: a file, a folder (searched recursively) or a "
                             "quoted glob such as 'new/*.png'")
    parser.add_argument("--save_maps", action="store_true",
                        help="--phase predict: also save each image beside its reconstruction and anomaly map")
    parser.add_argument("--threshold", type=float, default=None,
                        help="decision threshold on the normalised score (0 = the lowest test score, 1 = the "
                             "highest); default: chosen by the test phase, F1-optimal on the test split, or the "
                             "--threshold_percentile-th percentile of its scores when it holds normal images only")
    parser.add_argument("--threshold_percentile", type=float, default=defaults.threshold_percentile,
                        help="test phase: the percentile of the normal test images' scores that is the threshold "
                             f"when the test split has no anomalies (default: {defaults.threshold_percentile:g}, so about "
                             f"{100 - defaults.threshold_percentile:g}%% of new normal images are flagged)")
    parser.add_argument("--val_fraction", type=float, default=None,
                        help="the share of each class's normal training images held out of training as its "
                             "validation split; with one, the test phase sets the threshold at --target_fpr on its "
                             "scores and fits the normalisation on them, so neither sees the test split, and "
                             "training logs the validation / training reconstruction error (memorisation) "
                             f"(default: {VALIDATION_FRACTIONS.get('folder'):g} for --dataset folder, 0 for the "
                             "papers' datasets, whose protocols train on every normal image)")
    parser.add_argument("--target_fpr", type=float, default=defaults.target_fpr,
                        help="with a validation split: the share of new normal images the threshold may flag; "
                             "the test phase reports the rate it measures on the normal test images beside it "
                             f"(default: {defaults.target_fpr:g})")
    parser.add_argument("--dataset", choices=DATASET_NAMES, default=defaults.dataset,
                        help="digits is scikit-learn's embedded handwritten digits (no download); npz reads "
                             "--data_dir FILE.npz; folder reads --data_dir with train/ and test/good, test/<other> "
                             f"(default: {defaults.dataset})")
    parser.add_argument("--data_dir", default=None,
                        help="read the dataset from local files instead of downloading it with tensorflow-datasets "
                             "(README, 'Data', lists what to put there)")
    parser.add_argument("--train_object", default=None,
                        help="train only this class, by index or name (default: every class in turn)")
    parser.add_argument("--test_object", default=None,
                        help="test (or diagnose) only this class, by index or name (default: every class in turn); "
                             "predict and export: the class whose model to use (default: the run's only tested class)")
    parser.add_argument("--scheme", choices=SCHEMES, default=defaults.scheme,
                        help="one_vs_all: the class is normal; all_vs_one: the class is the anomaly (AD-CGAN) "
                             f"(default: {defaults.scheme})")
    parser.add_argument("--score", choices=tuple(dict.fromkeys(choice for method in METHODS.values()
                                                               for choice in method.score_choices)),
                        default=None,
                        help="the anomaly score of the test and diagnose phases. " + " ".join(
                            f"{method.title}: {method.score_help} (default: {method.defaults['score']})."
                            for method in METHODS.values()))
    parser.add_argument("--iterations", type=positive_int, default=None,
                        help="training iterations per class, one update of every network each; where unset, "
                             f"the length is --epochs ({defaults_text('iterations')})")
    parser.add_argument("--batch_size", type=positive_int, default=None,
                        help=f"batch size ({defaults_text('batch_size')})")
    parser.add_argument("--image_size", type=positive_int, default=None,
                        help=f"model input size in pixels; DGAD's a multiple of 4 ({defaults_text('image_size')})")
    parser.add_argument("--max_zoom", type=float, default=None,
                        help=f"random zoom-in augmentation up to 1 + this factor ({defaults_text('max_zoom')})")
    parser.add_argument("--width", type=positive_int, default=None,
                        help=f"base channel count of every network; the paper's is 64, 8 suits a CPU "
                             f"({defaults_text('width')})")
    parser.add_argument("--learning_rate", type=float, default=None,
                        help="Adam learning rate; AD-CGAN's of the CGAN and D_z "
                             f"({defaults_text('learning_rate')})")
    parser.add_argument("--seed", type=seed_value, default=defaults.seed,
                        help=f"fixes data order, initialisation and pretext transformations (default: {defaults.seed})")
    add_xla_flags(parser)
    parser.add_argument("--distribute", choices=DISTRIBUTIONS, default=defaults.distribute,
                        help="train on several devices: mirrored over every visible GPU (or logical CPU device), "
                             "multi_worker over the machines the TF_CONFIG environment variable lists; --batch_size "
                             f"is the global batch (default: {defaults.distribute})")
    parser.add_argument("--precision", choices=PRECISIONS, default=defaults.precision,
                        help="the layers' compute precision; the mixed ones keep variables, losses and scores in "
                             f"float32 (default: {defaults.precision})")
    parser.add_argument("--cpu_devices", type=positive_int, default=None,
                        help="testing aid: split the CPU into N logical devices, so that --distribute mirrored can "
                             "be tried without a GPU")
    parser.add_argument("--checkpoint_every", type=positive_int, default=defaults.checkpoint_every,
                        help=f"save a checkpoint every N iterations and at the end (default: {defaults.checkpoint_every})")
    parser.add_argument("--eval_every", type=positive_int, default=None,
                        help="also score the test split every N training iterations (and at the last) into a learning "
                             "curve: AUC of every score, of its parts and of the PCA and kNN floors against iterations, "
                             "as CSV and PNG in <results_dir>/<dataset>/<run>/learning_curves/; training is unchanged "
                             "(a multiple of 10 keeps it as fast: the compiled loop runs up to gcd(N, 10, ...) steps per "
                             "call)")
    parser.add_argument("--results_dir", default=defaults.results_dir,
                        help=f"where results are written (default: {defaults.results_dir})")
    parser.add_argument("--checkpoint_dir", default=defaults.checkpoint_dir,
                        help=f"where checkpoints are written (default: {defaults.checkpoint_dir})")
    parser.add_argument("--run_name", default=None,
                        help="folder name of this run under <results_dir>/<dataset>/ and <checkpoint_dir>/<dataset>/ "
                             "(default: built from the method's settings that change the model)")
    add_method_flags(parser)
    return parser.parse_args(argv)


def add_method_flags(parser: argparse.ArgumentParser) -> None:
    """A flag for each setting of each method's own (models/<method>/method.py), one --help group per method; a
    setting of several methods (each reading it its own way) is one flag in a group of its own."""
    owners = {}
    for method in METHODS.values():
        for field in method.settings.flags():
            owners.setdefault(field.name, []).append((method, field))
    shared = parser.add_argument_group("settings of several methods, each reading them its own way")
    for method in METHODS.values():
        group = parser.add_argument_group(f"{method.title} only (--method {method.name})")
        for field in method.settings.flags():
            if len(owners[field.name]) == 1:
                group.add_argument(f"--{field.name}", type=flag_type(field), choices=field.metadata["choices"],
                                   default=None,
                                   help=f"{field.metadata['help']} ({defaults_text(field.name, (method,))})")
    for name, declared in owners.items():
        if len({value_type(field) for _, field in declared}) > 1:
            raise TypeError(f"--{name} is declared by several methods with different types")
        if len(declared) > 1:
            shared.add_argument(f"--{name}", type=flag_type(declared[0][1]), default=None, help="; ".join(
                f"{owner.title}: {field.metadata['help']} ({defaults_text(name, (owner,))})"
                for owner, field in declared))


def flag_type(field):
    """The parser of a setting's flag: its type, but a bool from the words true and false."""
    kind = value_type(field)
    return parse_bool if kind is bool else kind


def config_from_arguments(arguments: argparse.Namespace) -> Config:
    own = {name for method in METHODS.values() for name in method.settings.names()}
    shared = {field.name for field in dataclasses.fields(Config)} - {"settings"}
    settings = {name: value for name, value in vars(arguments).items() if name in shared | own}
    return config_for_dataset(settings.pop("dataset"), **settings)


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


def diagnose_classes(experiment, classes: list[int]) -> None:
    """--phase diagnose: write and print the diagnosis of each trained class."""
    from utils.running.diagnosis import diagnose, diagnosis_markdown, write_diagnosis

    for index in classes:
        diagnosis = diagnose(experiment, index)
        path = write_diagnosis(experiment, index, diagnosis)
        print(diagnosis_markdown(diagnosis) + f"\n(written to {path})")


def class_list(experiment, classes: list[int]) -> str:
    return ", ".join(f"{index} ({experiment.dataset.class_names[index]})" for index in classes)


def main(argv: list[str] | None = None) -> int:
    sys.stdout.reconfigure(line_buffering=True)
    interrupt_on_terminate()
    arguments = parse_arguments(argv)
    try:
        config = config_from_arguments(arguments)
        if arguments.cpu_devices is not None:
            devices.split_cpu(arguments.cpu_devices)
        # Now, before TensorFlow runs an operation: a multi-worker strategy cannot be made after one.
        devices.start(config)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if config.threshold is not None and not 0 <= config.threshold <= 1:
        print(f"note: --threshold {config.threshold:g} is outside [0, 1], the test split's range of normalised scores: "
              f"valid, since new images can score outside it, but it flags "
              f"{'none' if config.threshold > 1 else 'all'} of the test images")

    from data.sources import DatasetError, load_dataset
    from utils.running.experiment import Experiment, ExperimentError
    from utils.running.preflight import PreflightError, check_before_run
    from utils.running.training import TrainingDiverged

    if (arguments.images is not None or arguments.save_maps) != (arguments.phase == "predict"):
        print("error: --images (and --save_maps) go with --phase predict, which needs --images PATH",
              file=sys.stderr)
        return 2
    if arguments.eval_every is not None and arguments.phase not in ("train", "both"):
        print("error: --eval_every follows training, so it goes with --phase train or both", file=sys.stderr)
        return 2
    if arguments.phase in INFERENCE_PHASES:
        return use_trained_class(arguments, config)

    trains, tests = arguments.phase in ("train", "both"), arguments.phase in ("test", "both", "diagnose")
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
        experiment = Experiment(config, dataset)
        failure = None
        if arguments.phase == "diagnose":
            diagnose_classes(experiment, test_classes)
        else:
            failure = train_then_test(experiment, train_classes, test_classes, failures)
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


def use_trained_class(arguments: argparse.Namespace, config: Config) -> int:
    """--phase predict or export, on the class --test_object (or --train_object) names."""
    from data.sources import DatasetError
    from utils.running.inference import InferenceError, TrainedDetector, export, predict, tested_class_folder
    from utils.running.preflight import PreflightError, check_writable

    requested = arguments.test_object if arguments.test_object is not None else arguments.train_object
    try:
        folder = tested_class_folder(config, requested)
        # Before the images are scored, which takes long for many.
        if arguments.phase == "predict":
            check_writable(str(config.predictions_folder()), "--results_dir")
        else:
            check_writable(str(folder), "--checkpoint_dir")
        detector = TrainedDetector(config, folder)
        if arguments.phase == "predict":
            predict(detector, arguments.images, arguments.save_maps)
        else:
            export(detector)
    except (DatasetError, InferenceError, PreflightError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
