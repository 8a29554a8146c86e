"""Building dataclasses from dicts (configs, recipes, options) without silently dropping a typo."""

from __future__ import annotations

from dataclasses import fields
from typing import Any


def require_known_fields(cls: type, data: dict[str, Any], what: str) -> None:
    """Raise ValueError naming every key of `data` that is not a field of dataclass `cls`."""
    known = {f.name for f in fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown {what} {sorted(unknown)}; known: {', '.join(sorted(known))}")
