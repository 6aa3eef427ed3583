"""The command-line pieces main.py and reproduce.py share: the parser, flag types and class selection."""

import argparse

from utils.running.stopping import stop_on_signals


class OneLineErrorParser(argparse.ArgumentParser):
    """Bad flags get one line naming the problem, not the whole usage block."""

    def error(self, message):
        self.exit(2, f"error: {message} (see python {self.prog} --help)\n")


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def parse_bool(text: str) -> bool:
    """A setting's true or false, as written on the command line."""
    words = {"true": True, "false": False}
    if text.lower() not in words:
        raise argparse.ArgumentTypeError(f"must be true or false, got {text}")
    return words[text.lower()]


def seed_value(text: str) -> int:
    value = int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 2**32 - 1, got {text}")
    return value


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


def add_xla_flags(parser: argparse.ArgumentParser):
    """--xla / --no_xla into `jit_compile`, None when neither is given: the method's default then applies."""
    xla = parser.add_mutually_exclusive_group()
    xla.add_argument("--xla", dest="jit_compile", action="store_const", const=True, default=None,
                     help="train and score with XLA (the default for DGAD, about 1.6x faster on a CPU once it has "
                          "compiled, in 15-30 s)")
    xla.add_argument("--no_xla", dest="jit_compile", action="store_const", const=False,
                     help="train and score without XLA (the default for AD-CGAN, whose step XLA slows down on a CPU)")


def interrupt_on_terminate():
    """Treat SIGTERM (a scheduler's time limit, scancel, kill) as Ctrl-C: training stops after the step under way
    and saves it, anything else is interrupted, and the run locks are let go, so the same command resumes, on this
    machine or another."""
    stop_on_signals()
