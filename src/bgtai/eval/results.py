"""One JSON file per evaluation run, written atomically, and reading a folder of them.

Schema: {"task", "dataset", "protocol", "model", "metrics": {name: number}, "command"}, plus
optional "details" (any JSON: per-class accuracy, fold scores...) and "plots" (paths of
images, relative to the JSON file's folder). `write_result` adds "provenance" (git commit,
UTC date, package versions: `bgtai.provenance`); files written before it have none, and read
back with an empty one.
"""

from __future__ import annotations

import json
import math
import shlex
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bgtai.atomic import write_text
from bgtai.errors import BadInputError
from bgtai.provenance import provenance as current_provenance

REQUIRED = ("task", "dataset", "protocol", "model", "metrics", "command")


@dataclass(frozen=True)
class EvalRecord:
    task: str
    dataset: str
    protocol: str
    model: str
    metrics: dict[str, float]
    command: str
    details: dict[str, Any] = field(default_factory=dict)
    plots: list[str] = field(default_factory=list)
    path: Path | None = None  # where it was read from (not written)
    provenance: dict[str, Any] = field(default_factory=dict)  # as read back; write_result records the current one

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("path")
        return data


def current_command() -> str:
    """The command line of this process, as a user would type it again."""
    program = Path(sys.argv[0]).name if sys.argv else "python"
    # `python -m bgtai.cli.main` and `python -m bgtai` run as main.py / __main__.py: the user-facing name is bgtai
    return shlex.join(["bgtai" if program in ("main.py", "__main__.py") else program, *sys.argv[1:]])


def _json_safe(value: Any) -> Any:
    """NaN (an empty class's accuracy, say) becomes null: strict JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_result(record: EvalRecord, path: str | Path) -> Path:
    """Write `record` to `path` atomically: a reader never sees half a file."""
    data = record.to_json()
    # a record read from an old file and written again keeps the provenance it came with
    data["provenance"] = record.provenance or current_provenance()
    data["metrics"] = {name: float(v) for name, v in record.metrics.items()}
    data = _json_safe(data)
    text = json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n"
    return write_text(path, text)


def read_result(path: str | Path) -> EvalRecord:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadInputError(str(path), f"not a readable JSON file ({error})") from error
    if not isinstance(data, dict):
        raise BadInputError(str(path), "expected a JSON object")
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise BadInputError(str(path), f"missing key(s) {', '.join(missing)}")
    if not isinstance(data["metrics"], dict):
        raise BadInputError(str(path), "'metrics' must be an object of name: number")
    metrics = {}
    for name, value in data["metrics"].items():
        if value is not None and not isinstance(value, (int, float)):
            raise BadInputError(str(path), f"metric {name!r} is not a number: {value!r}")
        metrics[str(name)] = float("nan") if value is None else float(value)
    return EvalRecord(
        task=str(data["task"]),
        dataset=str(data["dataset"]),
        protocol=str(data["protocol"]),
        model=str(data["model"]),
        metrics=metrics,
        command=str(data["command"]),
        details=data.get("details") or {},
        plots=[str(p) for p in data.get("plots") or []],
        path=path,
        provenance=data["provenance"] if isinstance(data.get("provenance"), dict) else {},
    )


def read_results(folder: str | Path) -> list[EvalRecord]:
    """Every `*.json` result under `folder` (recursively), sorted by path."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInputError(str(folder), "not a folder of result JSON files")
    return [read_result(p) for p in sorted(folder.rglob("*.json"))]
