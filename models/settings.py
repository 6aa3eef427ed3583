"""A method's own settings: one frozen dataclass per method, held by the run's Config.

Each field carries everything the program needs to know of it: its paper default (None where the
method derives it from other settings), its --help text, its allowed values and whether it changes
the trained model or only the scores. The command line, the range checks and config.json are all
generated from the fields, so a method adds a setting in one line of its own package.
"""

import dataclasses
import math
import numbers
import types
import typing
from typing import Any, Callable, NamedTuple


def is_integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class Allowed(NamedTuple):
    """A setting's allowed values: a test, and the words that tell the user what to pass. NaN fails every
    comparison, so it is refused too."""

    test: Callable[[Any], bool]
    words: str


POSITIVE_INTEGER = Allowed(lambda value: is_integer(value) and value > 0, "a positive integer")
NON_NEGATIVE_INTEGER = Allowed(lambda value: is_integer(value) and value >= 0, "0 or a positive integer")
POSITIVE = Allowed(lambda value: 0 < value < math.inf, "greater than 0")
NON_NEGATIVE = Allowed(lambda value: 0 <= value < math.inf, "0 or more")
UNIT_INTERVAL = Allowed(lambda value: 0 <= value <= 1, "in [0, 1]")
HALF_OPEN_UNIT_INTERVAL = Allowed(lambda value: 0 <= value < 1, "in [0, 1)")

# What a change of a setting invalidates: the trained model, or only the scores computed from it.
TRAINING = "training"
SCORING = "scoring"


def setting(default=None, *, help: str, allowed: Allowed | None = None, choices: tuple | None = None,
            changes: str = TRAINING, flag: bool = True):
    """A field of a method's settings dataclass: `default` is the paper's value (None: derived by the method's
    resolve()), `help` the --help text, `allowed` or `choices` the values accepted, `changes` TRAINING or SCORING;
    flag=False keeps it off the command line (a setting another one decides, such as a variant's)."""
    if changes not in (TRAINING, SCORING):
        raise ValueError(f"changes must be {TRAINING!r} or {SCORING!r}, got {changes!r}")
    return dataclasses.field(default=default, metadata={"help": help, "allowed": allowed, "choices": choices,
                                                        "changes": changes, "flag": flag})


def value_type(field: dataclasses.Field) -> type:
    """The type a setting holds, without its Optional: `int | None` -> int."""
    kinds = [kind for kind in typing.get_args(field.type) if kind is not type(None)] \
        if isinstance(field.type, types.UnionType) or typing.get_origin(field.type) is typing.Union else [field.type]
    if len(kinds) != 1:
        raise TypeError(f"setting {field.name} must have one type (or that type | None), got {field.type}")
    return kinds[0]


@dataclasses.dataclass(frozen=True)
class MethodSettings:
    """Base of every method's settings dataclass; its fields are made with setting()."""

    @classmethod
    def names(cls, changes: str | None = None) -> tuple[str, ...]:
        """The settings' names, or those that change `changes` (TRAINING or SCORING)."""
        return tuple(field.name for field in dataclasses.fields(cls)
                     if changes is None or field.metadata["changes"] == changes)

    @classmethod
    def flags(cls) -> tuple[dataclasses.Field, ...]:
        """The settings given on the command line, as --<name>."""
        return tuple(field for field in dataclasses.fields(cls) if field.metadata["flag"])

    def check(self) -> None:
        """Raise ValueError, naming the flag and what it accepts, for a value outside a setting's allowed ones."""
        for field in dataclasses.fields(self):
            value, allowed, choices = getattr(self, field.name), field.metadata["allowed"], field.metadata["choices"]
            if value is None:
                continue
            if choices is not None and value not in choices:
                raise ValueError(f"unknown {field.name} {value!r}; expected one of {choices}")
            if allowed is not None and not allowed.test(value):
                raise ValueError(f"--{field.name} must be {allowed.words}, got {value}")
