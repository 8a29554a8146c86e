"""Reading metadata tables (CSV, TSV) and finding the files their rows name.

Every loader reports a row that names a missing file the same way: the metadata file,
its line and the path looked for. `on_missing` decides what happens next.
"""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bgtai.config import require_data_root
from bgtai.errors import BadInputError
from bgtai.io.audio import AUDIO_SUFFIXES, resolve_audio_path

OnMissing = Literal["error", "skip", "keep"]
ON_MISSING: tuple[str, ...] = ("error", "skip", "keep")


@dataclass(frozen=True)
class Row:
    line: int  # line in the file where the row ends (header is line 1)
    values: dict[str, str]


def dataset_root(root: Path | str | None, folder: str) -> Path:
    """`root` as given, else `<data root>/<folder>`; an absent folder is an error naming it."""
    base = Path(root) if root is not None else require_data_root() / folder
    if not base.is_dir():
        raise BadInputError(str(base), "no such dataset folder")
    return base


@dataclass(frozen=True)
class Table:
    path: Path
    columns: list[str]
    rows: list[Row]


def read_table(path: Path, required: Sequence[str], delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL) -> Table:
    """A CSV/TSV file with a header; a missing column is an error listing those present."""
    if not path.is_file():
        raise BadInputError(str(path), "metadata file not found")
    rows: list[Row] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter, quoting=quoting)
        columns = list(reader.fieldnames or [])
        absent = [name for name in required if name not in columns]
        if absent:
            raise BadInputError(
                str(path),
                f"no column {', '.join(repr(a) for a in absent)}; the file has columns: {', '.join(columns) or '(none)'}",
            )
        for values in reader:
            if None in values:  # more cells than header columns
                raise BadInputError(str(path), f"line {reader.line_num}: more cells than the header's {len(columns)}")
            rows.append(Row(reader.line_num, {k: (v if v is not None else "") for k, v in values.items()}))
    return Table(path, columns, rows)


def check_on_missing(on_missing: str) -> None:
    if on_missing not in ON_MISSING:
        raise ValueError(f"on_missing must be one of {', '.join(ON_MISSING)}, not {on_missing!r}")


class MissingFiles:
    """Collects rows whose files are absent and applies the loader's `on_missing` policy."""

    def __init__(self, metadata: Path, on_missing: OnMissing) -> None:
        check_on_missing(on_missing)
        self.metadata = metadata
        self.on_missing = on_missing
        self.reports: list[str] = []

    def audio(self, path: Path, line: int) -> tuple[Path | None, bool]:
        """(the file, possibly under another audio suffix, or None; whether to keep the item)."""
        try:
            return resolve_audio_path(path), True
        except BadInputError:
            return None, self._missing(path, line, "audio file not found (under any audio suffix)")

    def file(self, path: Path, line: int) -> tuple[Path | None, bool]:
        if path.is_file():
            return path, True
        return None, self._missing(path, line, "file not found")

    def _missing(self, path: Path, line: int, problem: str) -> bool:
        report = f"{self.metadata} line {line}: {path}"
        if self.on_missing == "error":
            raise BadInputError(str(self.metadata), f"line {line} names {path}: {problem}")
        self.reports.append(report)
        return self.on_missing == "keep"

    def warn(self) -> None:
        """Say once how many rows were skipped, so that a skip is never silent."""
        if self.reports and self.on_missing == "skip":
            warnings.warn(
                f"{self.metadata}: skipped {len(self.reports)} row(s) whose file is missing, e.g. {self.reports[0]}",
                stacklevel=3,
            )


class FolderIndex:
    """The audio files of one folder, listed once: finding thousands of names costs no file-system calls.

    Resolves a name like `resolve_audio_path` does: the name itself, else the same stem under
    another audio suffix (in `AUDIO_SUFFIXES` order).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.names: set[str] = set()
        if folder.is_dir():
            self.names = {entry.name for entry in os.scandir(folder) if entry.is_file()}

    def resolve(self, name: str) -> Path | None:
        if name in self.names:
            return self.folder / name
        stem = Path(name).stem
        for suffix in AUDIO_SUFFIXES:
            if stem + suffix in self.names:
                return self.folder / (stem + suffix)
        return None
