"""Where data and caches live, read from the environment each time (tests change it)."""

from __future__ import annotations

import os
from pathlib import Path

# The checkout sits beside shared/: <root>/main/src/bgtai/config.py -> <root>/shared/data
_REPO_ROOT = Path(__file__).resolve().parents[2]
_DEFAULT_DATA_CANDIDATES = (_REPO_ROOT.parent / "shared" / "data", Path.cwd().parent / "shared" / "data")


def data_root() -> Path | None:
    """`BGTAI_DATA` if set, else `../shared/data` beside the checkout when it exists, else None."""
    env = os.environ.get("BGTAI_DATA")
    if env:
        return Path(env).expanduser()
    for candidate in _DEFAULT_DATA_CANDIDATES:
        if candidate.is_dir():
            return candidate
    return None


def require_data_root() -> Path:
    root = data_root()
    if root is None or not root.is_dir():
        raise FileNotFoundError(
            "no data root: set BGTAI_DATA to the folder holding the datasets "
            f"(looked for {', '.join(str(c) for c in _DEFAULT_DATA_CANDIDATES)})"
        )
    return root


def cache_dir() -> Path:
    """Feature cache and unpacked weights: `BGTAI_CACHE`, else `$XDG_CACHE_HOME/bgtai`, else `~/.cache/bgtai`."""
    env = os.environ.get("BGTAI_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "bgtai"
