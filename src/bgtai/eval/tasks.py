"""The evaluation-task registry: every task `bgtai eval` runs and `bgtai report` shows is one `EvalTask`.

A task has a name (the `bgtai eval <name>` sub-command and the `task` of its result files), the
datasets it applies to, a run function (the library call that scores a model; `None` for tasks
whose whole run is their command), the module that adds its command line (`register(subparsers)`),
and how the report shows it: its table (`TaskLayout`), the front page's link text, its rows in the
headline table (`Pick`) and its columns in the joint-space table.

The built-in tasks are in `bgtai.eval.builtin_tasks`, imported the first time the registry is read.
A new task is one module that ends with `register_task(EvalTask(...))`, imported before `bgtai eval`
builds its parser (docs/CONTRIBUTING.md, "Add an evaluation task").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TaskLayout:
    """A task's table in the report (`bgtai.eval.report_tables`)."""

    title: str
    datasets: tuple[str, ...]  # columns always shown, in this order; others found in results follow
    metrics: tuple[str, ...]  # preferred metric order; other metrics found follow
    only_preferred: bool = False  # True: columns for the preferred metrics only (the JSON has the rest)
    methods_as_rows: bool = False  # True: a metric named "method.metric" goes to row "model: method"
    datasets_as_rows: bool = False  # True: one row per (model, dataset), metrics as columns (many datasets)


@dataclass(frozen=True)
class Pick:
    """One row of the front page's headline: the best result of `task` on datasets starting with `dataset`."""

    label: str
    task: str
    dataset: str  # a dataset key, or the start of one (gloss keys carry their counts)
    metric: str


# (header, task, dataset key, metric): one column of the joint-space table (`bgtai.eval.joint_summary`)
JointColumn = tuple[str, str, str, str]


def _nothing() -> tuple[Any, ...]:
    return ()


@dataclass(frozen=True)
class EvalTask:
    """One evaluation task. `datasets()` is computed on each call, so datasets registered later count.

    `report_rank`: tasks with a rank have a report page even before any result (the papers' tasks; the
    placeholders say what is not run here), in rank order; the others get one when results exist, by
    name. `own_page`: the task renders its own page (efficiency), not a generic table.
    """

    name: str
    help: str
    datasets: Callable[[], tuple[str, ...]]
    run: Callable[..., Any] | None
    cli: str  # module defining register(subparsers) for `bgtai eval <name>`
    layout: TaskLayout | None = None  # None: a generic table titled "Task `<name>`"
    short_title: str = ""  # the front page's link text; default: the layout's title
    report_rank: int | None = None
    own_page: bool = False
    headline: Callable[[], tuple[Pick, ...]] = _nothing
    joint_columns: Callable[[], tuple[JointColumn, ...]] = _nothing

    def __post_init__(self) -> None:
        if not self.name or not self.cli:
            raise ValueError("an evaluation task needs a name and its command-line module")


_TASKS: dict[str, EvalTask] = {}
_builtins_loaded = False


def _load_builtins() -> None:
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True  # before the import: the built-ins register through `register_task`
        try:
            import bgtai.eval.builtin_tasks  # noqa: F401 (registers on import)
        except BaseException:
            _builtins_loaded = False
            raise


def register_task(task: EvalTask) -> EvalTask:
    """Make `task` known to `bgtai eval` and the report; a name already taken is an error."""
    if not isinstance(task, EvalTask):
        raise TypeError(f"register_task takes an EvalTask, not {type(task).__name__}")
    _load_builtins()
    if task.name in _TASKS:
        raise ValueError(f"evaluation task {task.name!r} is already registered")
    _TASKS[task.name] = task
    return task


def unregister_task(name: str) -> None:
    eval_task(name)
    del _TASKS[name]


def task_names() -> tuple[str, ...]:
    """Every registered task, in registration order (the order `bgtai eval --help` lists them)."""
    _load_builtins()
    return tuple(_TASKS)


def eval_task(name: str) -> EvalTask:
    """The task `name`; an unknown name is an error listing the known ones."""
    _load_builtins()
    if name not in _TASKS:
        raise ValueError(f"unknown evaluation task {name!r}; known: {', '.join(_TASKS)}")
    return _TASKS[name]


def eval_tasks() -> list[EvalTask]:
    return [eval_task(name) for name in task_names()]


def report_order() -> list[EvalTask]:
    """Ranked tasks by rank, then the others by name: the report's page order and the headline's row order."""
    tasks = eval_tasks()
    ranked = sorted((t for t in tasks if t.report_rank is not None), key=lambda t: t.report_rank or 0)
    return ranked + sorted((t for t in tasks if t.report_rank is None), key=lambda t: t.name)


def layouts() -> dict[str, TaskLayout]:
    """Task name -> its report table, for the tasks that have one."""
    return {task.name: task.layout for task in eval_tasks() if task.layout is not None}


def headline_picks() -> tuple[Pick, ...]:
    return tuple(pick for task in report_order() for pick in task.headline())


def joint_columns() -> tuple[JointColumn, ...]:
    return tuple(column for task in report_order() for column in task.joint_columns())
