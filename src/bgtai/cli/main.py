"""`bgtai`: argparse with one sub-command per module in `COMMAND_MODULES`.

Each module `bgtai.cli.<name>` defines `register(subparsers) -> None`, which adds its parser
and sets `func` (called with the parsed namespace, returning the exit code). A command
module that does not exist is left out; any other error while importing one surfaces.
Bad inputs and `CommandError`s print one line per problem and exit with code 2;
`--verbose` shows the traceback as well. Ctrl-C prints one line and exits with 130 (128 +
SIGINT); a command that can continue where it stopped sets `args.resumable = True`, and the
line then gives the same command with `--resume`.
"""

from __future__ import annotations

import argparse
import importlib
import shlex
import sys
import traceback
from types import ModuleType

from bgtai import __version__
from bgtai.cli import CommandError
from bgtai.errors import BadInputError, BadItemsError

COMMAND_MODULES = [
    "embed",
    "transcribe",
    "encoders",
    "datasets",
    "eval",
    "report",
    "gloss",
    "train",
    "align",
    "demo",
    "index",
    "search",
    "serve",
    "generate",
]


def command_modules() -> list[ModuleType]:
    """The command modules that exist, in `COMMAND_MODULES` order."""
    found = []
    for name in COMMAND_MODULES:
        qualified = f"bgtai.cli.{name}"
        try:
            found.append(importlib.import_module(qualified))
        except ModuleNotFoundError as error:
            if error.name != qualified:
                raise  # the command exists but something it imports is missing: say so
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bgtai", description="One embedding space for text, speech, sound, images and any sequence."
    )
    parser.add_argument("--version", action="version", version=f"bgtai {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks of errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in command_modules():
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    from bgtai.plugins import load_plugins

    try:
        load_plugins()  # before the parser: a plugin's datasets and encoders are valid choices
    except BadInputError as error:
        print(f"bgtai: {error.source}: {error.problem}", file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        _report_interrupt(args, sys.argv[1:] if argv is None else argv)
        return 130
    except BadItemsError as error:
        _report(args, f"{len(error.bad)} bad input(s):", [f"  [{b.index}] {b.source}: {b.problem}" for b in error.bad])
    except BadInputError as error:
        _report(args, f"{error.source}: {error.problem}", [])
    except CommandError as error:
        _report(args, str(error), [])
    return 2


def _report_interrupt(args: argparse.Namespace, argv: list[str]) -> None:
    if getattr(args, "verbose", False):
        traceback.print_exc(file=sys.stderr)
    hint = ""
    if getattr(args, "resumable", False):
        again = ["bgtai", *argv, *([] if "--resume" in argv else ["--resume"])]
        hint = f"; continue with: {shlex.join(again)}"
    # a fresh line: Ctrl-C usually lands in the middle of a progress bar
    print(f"\nbgtai {args.command}: interrupted{hint}", file=sys.stderr)


def _report(args: argparse.Namespace, headline: str, lines: list[str]) -> None:
    if getattr(args, "verbose", False):
        traceback.print_exc(file=sys.stderr)
    print(f"bgtai {args.command}: error: {headline}", file=sys.stderr)
    for line in lines:
        print(line, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
