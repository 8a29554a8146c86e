"""A dataset of your own: a CSV or JSONL manifest with audio, image and/or text columns.

Relative paths are resolved against the manifest's folder; audio may sit under another
audio suffix than the one listed. A column left at its default is used when present; a
column named by the caller must be present. In JSONL a text cell may be a list of texts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from bgtai.data.item import Dataset, Item
from bgtai.data.tables import MissingFiles, OnMissing, read_table
from bgtai.errors import BadInputError

# the column each role is read from when the caller names none (used only when present)
_DEFAULTS = {role: role for role in ("id", "audio", "image", "text", "label", "group", "fold", "split")}


def load_manifest(
    path: Path | str,
    audio_col: str | None = None,
    image_col: str | None = None,
    text_col: str | Sequence[str] | None = None,
    label_col: str | None = None,
    group_col: str | None = None,
    fold_col: str | None = None,
    split_col: str | None = None,
    id_col: str | None = None,
    on_missing: OnMissing = "error",
    name: str | None = None,
) -> Dataset:
    """Items of a `.csv` or `.jsonl` manifest; the other columns go to `meta` as strings."""
    path = Path(path)
    rows, columns = _read_rows(path)
    asked = {
        "id": id_col,
        "audio": audio_col,
        "image": image_col,
        "label": label_col,
        "group": group_col,
        "fold": fold_col,
        "split": split_col,
    }
    chosen: dict[str, str | None] = {role: _column(path, columns, role, given) for role, given in asked.items()}
    text_cols = _text_columns(path, columns, text_col)
    if chosen["audio"] is None and chosen["image"] is None and not text_cols:
        raise BadInputError(
            str(path),
            f"no audio, image or text column (columns: {', '.join(columns) or '(none)'}); name them with audio_col=...",
        )
    used = {c for c in chosen.values() if c is not None} | set(text_cols)
    missing = MissingFiles(path, on_missing)
    items: list[Item] = []
    for line, row in rows:
        audio = image = None
        if chosen["audio"] is not None and _cell(row, chosen["audio"]):
            audio, keep = missing.audio(_resolve(path, _cell(row, chosen["audio"])), line)
            if not keep:
                continue
        if chosen["image"] is not None and _cell(row, chosen["image"]):
            image, keep = missing.file(_resolve(path, _cell(row, chosen["image"])), line)
            if not keep:
                continue
        texts = tuple(text for column in text_cols for text in _texts(row.get(column)) if text)
        fold = _cell(row, chosen["fold"]) if chosen["fold"] else ""
        if fold and not fold.lstrip("-").isdigit():
            raise BadInputError(str(path), f"line {line}: fold {fold!r} is not a whole number")
        items.append(
            Item(
                id=_cell(row, chosen["id"]) if chosen["id"] else str(len(items)),
                audio=audio,
                image=image,
                texts=texts,
                label=(_cell(row, chosen["label"]) or None) if chosen["label"] else None,
                group=(_cell(row, chosen["group"]) or None) if chosen["group"] else None,
                fold=int(fold) if fold else None,
                split=(_cell(row, chosen["split"]) or None) if chosen["split"] else None,
                meta={key: _cell(row, key) for key in row if key not in used},
            )
        )
    missing.warn()
    labels = {item.label for item in items if item.label is not None}
    return Dataset(name or path.stem, path.parent, items, sorted(labels) if chosen["label"] else None, missing.reports)


def _read_rows(path: Path) -> tuple[list[tuple[int, dict]], list[str]]:
    """((line, row) pairs, column names in first-seen order)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = read_table(path, ())
        return [(row.line, dict(row.values)) for row in table.rows], table.columns
    if suffix in (".jsonl", ".ndjson"):
        if not path.is_file():
            raise BadInputError(str(path), "manifest file not found")
        rows_j: list[tuple[int, dict]] = []
        columns_j: dict[str, None] = {}
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as error:
                raise BadInputError(str(path), f"line {number}: not JSON ({error.msg})") from error
            if not isinstance(row, dict):
                raise BadInputError(str(path), f"line {number}: a JSON object was expected")
            columns_j.update(dict.fromkeys(row))
            rows_j.append((number, row))
        return rows_j, list(columns_j)
    raise BadInputError(str(path), "a manifest must be .csv or .jsonl")


def _column(path: Path, columns: list[str], role: str, given: str | None) -> str | None:
    if given is None:
        return _DEFAULTS[role] if _DEFAULTS[role] in columns else None
    if given not in columns:
        raise BadInputError(
            str(path), f"no {role} column {given!r}; the manifest has columns: {', '.join(columns) or '(none)'}"
        )
    return given


def _text_columns(path: Path, columns: list[str], given: str | Sequence[str] | None) -> list[str]:
    if given is None:
        return ["text"] if "text" in columns else []
    names = [given] if isinstance(given, str) else list(given)
    absent = [n for n in names if n not in columns]
    if absent:
        raise BadInputError(
            str(path),
            f"no text column {', '.join(repr(a) for a in absent)}; the manifest has columns: {', '.join(columns)}",
        )
    return names


def _cell(row: dict, column: str | None) -> str:
    value = row.get(column) if column is not None else None
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value)


def _texts(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value]
    return [str(value).strip()]


def _resolve(manifest: Path, listed: str) -> Path:
    candidate = Path(listed).expanduser()
    return candidate if candidate.is_absolute() else manifest.parent / candidate
