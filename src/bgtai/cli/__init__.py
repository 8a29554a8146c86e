"""The `bgtai` command line: one module per command (see `bgtai.cli.main`), plus shared helpers."""

from __future__ import annotations

from collections.abc import Sequence


class CommandError(Exception):
    """A user-facing failure: `bgtai` prints the message (no traceback) and exits with code 2."""


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table with left-aligned columns, a header and a rule under it."""
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
