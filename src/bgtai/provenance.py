"""Where a result or a model came from: the code's git commit, the date, and the versions that made it.

Written into every result JSON (`bgtai.eval.results.write_result`) and every `training.json`, so
a stale figure can be told from a fresh one. Gathering it never fails: without git, outside a
checkout, or when git hangs, the commit is "unknown"; a package that is not installed is
"not installed".
"""

from __future__ import annotations

import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

UNKNOWN = "unknown"
NOT_INSTALLED = "not installed"
NOT_RECORDED = "not recorded"  # result files written before provenance was recorded
# the packages whose versions can move a figure: the models' runtime, the numerics, the metrics
KEY_PACKAGES = (
    "bgtai",
    "torch",
    "numpy",
    "scikit-learn",
    "onnxruntime",
    "transformers",
    "sentence-transformers",
    "faster-whisper",
    "ctranslate2",
    "sacrebleu",
    "jiwer",
    "matplotlib",
)
# the tracked paths whose changes change what a command computes; results/, docs/ and RESULTS.md are its
# outputs: rewriting a result must not mark the next one "+dirty"
CODE_PATHS = (":(top)src", ":(top)configs", ":(top)scripts", ":(top)pyproject.toml")
GIT_TIMEOUT_S = 10.0
PACKAGE_DIR = Path(__file__).resolve().parent


def _git(folder: Path, *args: str) -> str | None:
    """stdout of `git args` run in `folder`; None when git is missing, fails or hangs."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def git_commit(folder: Path = PACKAGE_DIR, marker: str = "__init__.py") -> str:
    """The commit checked out at `folder`, with "+dirty" when code there differs from it; "unknown" otherwise.

    `marker` must be a tracked file in `folder`: that proves the checkout is the one holding this
    code, not some repository an installed copy happens to sit in.
    """
    if not folder.is_dir() or _git(folder, "ls-files", "--error-unmatch", "--", marker) is None:
        return UNKNOWN
    commit = _git(folder, "rev-parse", "HEAD")
    if commit is None or not commit.strip():
        return UNKNOWN
    # untracked files count too (a new module changes what runs); .gitignore'd ones (caches, runs/) do not
    status = _git(folder, "status", "--porcelain", "--", *CODE_PATHS)
    if status is None:
        return f"{commit.strip()}+unknown-status"
    return commit.strip() + ("+dirty" if status.strip() else "")


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str]:
    """{name: installed version}, "not installed" for the missing ones (read from metadata: nothing is imported)."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = NOT_INSTALLED
    return versions


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def provenance() -> dict[str, Any]:
    """{"git_commit", "date" (UTC, ISO 8601), "python", "packages": {name: version}} for this process."""
    return {
        "git_commit": git_commit(),
        "date": utc_now(),
        "python": platform.python_version(),
        "packages": package_versions(),
    }


def describe(block: Any) -> tuple[str, str]:
    """(short commit, day) of a provenance block as read back from a file; "not recorded" for old files."""
    if not isinstance(block, dict) or not block:
        return NOT_RECORDED, NOT_RECORDED
    commit = str(block.get("git_commit") or UNKNOWN)
    sha, plus, suffix = commit.partition("+")
    short = (sha[:10] if sha != UNKNOWN else sha) + plus + suffix
    date = str(block.get("date") or UNKNOWN)
    return short, date[:10] if len(date) >= 10 else date
