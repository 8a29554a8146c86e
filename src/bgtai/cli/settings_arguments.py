"""One command-line flag per field of a settings dataclass, with its default in the help."""

from __future__ import annotations

import argparse
from collections.abc import Container
from dataclasses import fields
from typing import Any


def _int_tuple(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated whole numbers like 32,64,128, got {text!r}"
        ) from error


def add_settings_arguments(
    parser: argparse.ArgumentParser, settings_class: Any, skip: Container[str] = (), only_given: bool = False
) -> None:
    """`--field-name` for each field not in `skip`: booleans get --x/--no-x, tuples of ints a comma list.

    With `only_given` a flag left out sets nothing (its attribute is absent from the parsed arguments),
    so the flags given can override settings read elsewhere (a recipe); the help still names the default.
    """
    defaults = settings_class()
    for item in fields(settings_class):
        if item.name in skip:
            continue
        value = getattr(defaults, item.name)
        flag = f"--{item.name.replace('_', '-')}"
        default = argparse.SUPPRESS if only_given else value
        if isinstance(value, bool):  # --shared-vocab / --no-shared-vocab
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=default, help=f"(default {value!r})"
            )
        elif isinstance(value, tuple):
            parser.add_argument(
                flag, type=_int_tuple, default=default, help=f"comma-separated (default {','.join(map(str, value))})"
            )
        else:
            parser.add_argument(flag, type=type(value), default=default, help=f"(default {value!r})")
