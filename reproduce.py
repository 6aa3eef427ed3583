"""Regenerate one table of the DGAD paper, or compare DGAD with AD-CGAN, with the papers' numbers beside ours.

    python reproduce.py --table 1                    # MNIST, Protocols 1 and 2, paper budget (GPU-sized)
    python reproduce.py --table 4 --budget cpu --dataset npz --data_dir ../shared/data/mnist-subset.npz \\
        --classes 0 1 2                              # the ablations at a CPU-sized budget (8000 iterations)
    python reproduce.py --table 5 --budget cpu --iterations 300   # s_rec vs s_dir scoring speed
    python reproduce.py --table compare --budget cpu --dataset npz --data_dir ../shared/data/mnist-subset.npz \\
        --paper_dataset mnist --scheme all_vs_one --classes 0 1 2   # DGAD and AD-CGAN side by side
    python reproduce.py --table 1 --budget cpu --seeds 0,1,2   # the grid once per seed: mean ± sd per cell

Runs that finished earlier (same settings) are reused, so an interrupted command resumes when it
is started again. Tables go to <results_dir>/tables/ as Markdown and CSV.

Across machines or GPUs that share the results and checkpoint folders, each runs one shard of the
table's runs, and --collect then writes the table (the same flags otherwise):

    python reproduce.py --table 2 --shard 3/8        # the third of 8 shards; writes no table
    python reproduce.py --table 2 --collect          # the table from the runs that exist, missing ones marked
"""

import argparse
import dataclasses
import os
import re
import shlex
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from data.pipeline import SCHEMES  # noqa: E402
from data.sources import DATASET_NAMES  # noqa: E402
from models.dgad.method import PROTOCOLS  # noqa: E402
from models.registry import METHODS  # noqa: E402
from utils.running.cli import (OneLineErrorParser, UsageError, add_xla_flags, interrupt_on_terminate,  # noqa: E402
                               positive_int, seed_value, selected_classes)
from utils.running.config import Config, config_for_dataset  # noqa: E402
from utils.running.devices import DISTRIBUTIONS, PRECISIONS  # noqa: E402
from utils.studies.table_parts import BUDGETS  # noqa: E402
from utils.studies.tables import TABLES  # noqa: E402

# The datasets both papers report per-class results on by class index.
PAPER_DATASETS = ("mnist", "fashion_mnist", "cifar10", "cats_vs_dogs")
# The tables that are a grid of trained runs, which --shard splits and --collect gathers.
GRID_TABLES = tuple(str(number) for number in TABLES if number != 5) + ("compare",)


def shard_value(text: str) -> tuple[int, int]:
    """--shard K/N: (K, N), the K-th (1 to N) of N shards."""
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if match is None or not 1 <= int(match[1]) <= int(match[2]):
        raise argparse.ArgumentTypeError(f"expected K/N with 1 <= K <= N, e.g. 3/8 for the third of 8 shards; "
                                         f"got {text}")
    return int(match[1]), int(match[2])


def seed_list(text: str) -> tuple[int, ...]:
    """--seeds 0,1,2: two or more distinct seeds, in the order given."""
    parts = text.split(",")
    try:
        seeds = tuple(seed_value(part.strip()) for part in parts)
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(f"expected two or more comma-separated seeds from 0 to 2**32 - 1, e.g. "
                                         f"0,1,2; got {text!r}") from None
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"each seed once, got {text}")
    if len(seeds) < 2:
        raise argparse.ArgumentTypeError(f"a standard deviation needs two or more seeds, got {text} "
                                         "(one seed: --seed)")
    return seeds


def without_flag(argv: list[str], flag: str, takes_value: bool) -> list[str]:
    """argv without flag and its value, however argparse accepted it (--flag V, --flag=V, a prefix of it)."""
    kept, skip_value = [], False
    for token in argv:
        name = token.split("=", 1)[0]
        if skip_value:
            skip_value = False
        elif len(name) > 2 and name.startswith("--") and flag.startswith(name):
            skip_value = takes_value and "=" not in token
        else:
            kept.append(token)
    return kept


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = OneLineErrorParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", choices=tuple(str(number) for number in TABLES) + ("compare",), required=True,
                        help="the DGAD paper's table number, or compare: DGAD and AD-CGAN on the same data, scheme, "
                             "classes and budget")
    parser.add_argument("--budget", choices=tuple(BUDGETS), default="paper",
                        help="paper: each paper's width, batch and length; cpu (both methods alike): "
                             + ", ".join(f"{name} {value}" for name, value in BUDGETS["cpu"].items())
                             + " (default: paper)")
    parser.add_argument("--dataset", choices=DATASET_NAMES, default=None,
                        help="the data to run on (default: the table's dataset: mnist for 1, mvtec for 3, else cifar10)")
    parser.add_argument("--data_dir", default=None, help="read the dataset from local files (see main.py --help)")
    parser.add_argument("--same_classes_as_paper", action="store_true",
                        help="the npz / folder data is (a subset of) the table's dataset with the same class order: "
                             "print the paper's per-class values beside ours")
    parser.add_argument("--paper_dataset", choices=PAPER_DATASETS, default=None,
                        help="compare: the npz / folder data is (a subset of) this dataset with the same class order; "
                             "print the papers' values for it (default: --dataset, if it is one of the papers')")
    parser.add_argument("--classes", nargs="+", default=None,
                        help="class indices or names to run (default: every class; Table 5 times the lowest index given, or 0)")
    parser.add_argument("--protocols", type=int, nargs="+", choices=PROTOCOLS, default=None,
                        help="run only these protocols of the table (default: all the table has; compare: DGAD's "
                             "Protocol 1)")
    parser.add_argument("--width", type=positive_int, default=None, help="override the budget's width")
    parser.add_argument("--batch_size", type=positive_int, default=None, help="override the budget's batch size")
    parser.add_argument("--iterations", type=positive_int, default=None, help="override the budget's iterations")
    parser.add_argument("--rounds", type=positive_int, default=None, help="Table 5: timed rounds per score (default: 3)")
    parser.add_argument("--scheme", choices=SCHEMES, default="one_vs_all", help="(default: one_vs_all)")
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=seed_value, default=0, help="(default: 0)")
    seeds.add_argument("--seeds", type=seed_list, default=None, metavar="S1,S2,...",
                       help="run the table's grid once per seed (separate runs, each reused when finished) and "
                            "show mean ± standard deviation over them in each cell")
    add_xla_flags(parser)
    parser.add_argument("--distribute", choices=DISTRIBUTIONS, default="none",
                        help="train each run on several devices (see main.py --help) (default: none)")
    parser.add_argument("--precision", choices=PRECISIONS, default="float32",
                        help="the layers' compute precision (see main.py --help) (default: float32)")
    parser.add_argument("--results_dir", default="results", help="(default: results)")
    parser.add_argument("--checkpoint_dir", default="checkpoints", help="(default: checkpoints)")
    split = parser.add_mutually_exclusive_group()
    split.add_argument("--shard", type=shard_value, default=None, metavar="K/N",
                       help="run only the K-th of N disjoint shards of the table's runs (run group x class) and "
                            "write no table; every shard needs the same other flags and the same results and "
                            "checkpoint folders")
    split.add_argument("--collect", action="store_true",
                       help="train and test nothing: write the table from the runs that exist, marking the "
                            "missing ones")
    arguments = parser.parse_args(argv)
    # A flag that does nothing for the table asked for must not look as if it did.
    # Table 5 is two trainings whose scores are timed side by side: split across machines, its speeds would
    # not be comparable.
    whole = " (Table 5 times its scores on one machine: run it whole)"
    only_for = {"same_classes_as_paper": (("1", "2", "3", "4", "5"), " (compare takes --paper_dataset)"),
                "paper_dataset": (("compare",), ""), "rounds": (("5",), ""), "seeds": (GRID_TABLES, ""),
                "shard": (GRID_TABLES, whole), "collect": (GRID_TABLES, whole)}
    for name, (tables, note) in only_for.items():
        if getattr(arguments, name) not in (None, False) and arguments.table not in tables:
            parser.error(f"--{name} applies to --table {' | '.join(tables)} only{note}")
    return arguments


def selected_class_indices(requested: list[str] | None, dataset) -> list[int]:
    return sorted({index for name in (requested or [None]) for index in selected_classes(name, dataset, "--classes")})


def base_config(arguments: argparse.Namespace, dataset_name: str, method: str = "dgad") -> Config:
    """One method's settings for every run of the table: the budget, then the flags given."""
    budget = {**BUDGETS[arguments.budget], **{name: getattr(arguments, name) for name in
                                                ("width", "batch_size", "iterations")
                                                if getattr(arguments, name) is not None}}
    try:
        return config_for_dataset(dataset_name, method=method, data_dir=arguments.data_dir, scheme=arguments.scheme,
                                  seed=arguments.seed, jit_compile=arguments.jit_compile,
                                  distribute=arguments.distribute, precision=arguments.precision,
                                  results_dir=arguments.results_dir, checkpoint_dir=arguments.checkpoint_dir,
                                  **budget)
    except ValueError as error:  # a setting Config refuses, e.g. --data_dir with the digits
        raise UsageError(str(error)) from error


def reporting_errors(work) -> int:
    """Run work() (the runs, then a table or a shard's report); return the exit code.

    Problems the user can fix become one-line errors; Ctrl-C says how to resume.
    """
    from data.sources import DatasetError
    from utils.running.experiment import ExperimentError
    from utils.running.preflight import PreflightError
    from utils.running.training import TrainingDiverged

    try:
        work()
    # OSError: a full disk or a folder that became unwritable while the runs went on.
    except (DatasetError, ExperimentError, TrainingDiverged, UsageError, PreflightError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; run the same command again to finish: finished runs are reused", file=sys.stderr)
        return 130
    return 0


def print_table(markdown_path) -> None:
    print(markdown_path.read_text())
    print(f"table written to {markdown_path} and {markdown_path.with_suffix('.csv')}")


def run_shard(shard: tuple[int, int], bases: dict[str, Config], dataset, groups: list, classes: list[int],
              collect_command: str, seeds: tuple[int, ...]):
    """Run one shard of the grid of groups x classes (of each seed's grid), then say what it ran and how the
    table is written."""
    from utils.studies.runner import pairs_text, run_grid, shard_pairs, with_seed

    index, count = shard
    pairs = shard_pairs(len(groups), classes, index, count)
    total = len(groups) * len(classes)
    print(f"shard {index}/{count}: {len(pairs)} of the table's {total} runs (run group x class)"
          + (f", for each of seeds {', '.join(map(str, seeds))}" if len(seeds) > 1 else ""))
    for seed in seeds if pairs else ():
        run_grid(with_seed(bases, seed), dataset, groups, classes, pairs)
    ran = (f": {pairs_text(bases, dataset, groups, pairs)}" if pairs
           else f" (the table has fewer runs than {count} shards)")
    print(f"shard {index}/{count} ran {len(pairs)} of the table's {total} runs{ran}")
    print(f"once every shard has finished, write the table with: {collect_command}")


def checked_classes(arguments: argparse.Namespace, configs: list[Config], dataset, first_only: bool = False):
    """The classes to run (Table 5: the lowest only), once the pre-flight checks passed for them."""
    from utils.running.preflight import check_before_run

    classes = selected_class_indices(arguments.classes, dataset)
    check_before_run(configs, dataset, classes[:1] if first_only else classes, "--classes")
    return classes


def run_comparison(arguments: argparse.Namespace, command: str, grid_command: str) -> int:
    """DGAD and AD-CGAN on the same dataset, scheme, classes and budget, in one table (or one shard of its runs)."""
    from data.sources import load_dataset
    from utils.studies.comparison import collect_comparison, compare, comparison_groups

    dataset_name = arguments.dataset or "cifar10"
    paper_dataset = arguments.paper_dataset or (dataset_name if dataset_name in PAPER_DATASETS else None)
    # Sorted and once each: the grid, and so every shard's slice of it, must not depend on how the flag was written.
    protocols = tuple(sorted(set(arguments.protocols or (1,))))
    seeds = arguments.seeds or (arguments.seed,)

    def work():
        # Each method sees the images at its own paper's size (MNIST: 32 for DGAD, 28 for AD-CGAN), as
        # main.py does, so that both commands share their runs.
        bases = {method: base_config(arguments, dataset_name, method) for method in METHODS}
        dataset = load_dataset(dataset_name, arguments.data_dir, bases["dgad"].image_size)
        if arguments.collect:
            print_table(collect_comparison(bases, dataset, selected_class_indices(arguments.classes, dataset),
                                           protocols, paper_dataset, command, grid_command, seeds))
            return
        classes = checked_classes(arguments, list(bases.values()), dataset)
        if arguments.shard:
            run_shard(arguments.shard, bases, dataset, comparison_groups(protocols), classes,
                      f"{grid_command} --collect", seeds)
        else:
            print_table(compare(bases, dataset, classes, protocols, paper_dataset, command, seeds))

    return reporting_errors(work)


def main(argv: list[str] | None = None) -> int:
    sys.stdout.reconfigure(line_buffering=True)
    interrupt_on_terminate()
    argv = sys.argv[1:] if argv is None else argv
    arguments = parse_arguments(argv)
    command = "python reproduce.py " + shlex.join(argv)
    # The command of the whole grid, which each shard and --collect are parts of.
    grid_command = "python reproduce.py " + shlex.join(without_flag(without_flag(argv, "--shard", True),
                                                                    "--collect", False))
    if arguments.table == "compare":
        return run_comparison(arguments, command, grid_command)
    spec = TABLES[int(arguments.table)]
    dataset_name = arguments.dataset or spec.paper_dataset
    groups = tuple(group for group in spec.groups
                   if arguments.protocols is None or group.setting("protocol") in arguments.protocols)
    if not groups:
        print(f"error: Table {spec.number} has no protocol {arguments.protocols}; it has "
              f"{sorted({group.setting('protocol') for group in spec.groups})}", file=sys.stderr)
        return 2
    # Every DGAD table is one-vs-all: under all-vs-one the paper has nothing to compare with.
    same_data = dataset_name == spec.paper_dataset or arguments.same_classes_as_paper
    spec = dataclasses.replace(spec, groups=groups, per_class_comparable=same_data,
                               paper_scheme_matches=arguments.scheme == "one_vs_all")
    from data.sources import load_dataset
    from utils.studies.tables import collect, regenerate

    seeds = arguments.seeds or (arguments.seed,)

    def work():
        base = base_config(arguments, dataset_name)
        dataset = load_dataset(base.dataset, base.data_dir, base.image_size)
        if arguments.collect:
            print_table(collect(spec, base, dataset, selected_class_indices(arguments.classes, dataset), command,
                                grid_command, seeds))
            return
        classes = checked_classes(arguments, [base], dataset, spec.number == 5)
        if arguments.shard:
            run_shard(arguments.shard, {"dgad": base}, dataset, list(spec.groups), classes, f"{grid_command} --collect",
                      seeds)
        else:
            print_table(regenerate(spec, base, dataset, classes, command, arguments.rounds or 3, seeds))

    return reporting_errors(work)


if __name__ == "__main__":
    sys.exit(main())
