"""`bgtai eval <task>`: evaluations that print a summary and can write result JSON.

Every task is an `EvalTask` of the registry (`bgtai.eval.tasks`): its `cli` module (`bgtai.cli.eval_<task>`)
defines `register(subparsers)`, which adds its sub-parser to the `eval` sub-commands, in registration
order. Modules `bgtai.cli.eval_<name>` that no registered task names are added too (after the tasks).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil

from bgtai.cli.eval_probe import run_probe  # noqa: F401 (re-exported)
from bgtai.cli.eval_retrieval import _chance, _test_fold, run_retrieval  # noqa: F401 (re-exported)
from bgtai.cli.eval_zeroshot import _provenance, run_zeroshot  # noqa: F401 (re-exported)
from bgtai.eval.tasks import eval_tasks


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="evaluate encoders and models: probes, zero-shot, retrieval")
    parser.set_defaults(func=run, eval_parser=parser)
    tasks = parser.add_subparsers(dest="eval_task", metavar="TASK")
    for task in eval_tasks():
        importlib.import_module(task.cli).register(tasks)
    for module in _plugin_modules():
        module.register(tasks)


def _plugin_modules() -> list:
    """The `bgtai.cli.eval_*` modules not named by a registered task (their parsers plug in by name alone)."""
    import bgtai.cli

    claimed = {task.cli for task in eval_tasks()}
    found = sorted(m.name for m in pkgutil.iter_modules(bgtai.cli.__path__) if m.name.startswith("eval_"))
    return [importlib.import_module(f"bgtai.cli.{n}") for n in found if f"bgtai.cli.{n}" not in claimed]


def run(args: argparse.Namespace) -> int:
    args.eval_parser.print_help()
    return 2
