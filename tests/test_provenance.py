"""Provenance: the commit (with +dirty), the date and the versions; "unknown" where git cannot say."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bgtai import provenance as module
from bgtai.provenance import NOT_INSTALLED, NOT_RECORDED, UNKNOWN, describe, git_commit, package_versions, provenance

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=folder,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def _checkout(tmp_path: Path) -> tuple[Path, Path]:
    """A repository with src/pkg/__init__.py committed; (its root, the package folder)."""
    package = tmp_path / "repo" / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("x = 1\n")
    (tmp_path / "repo" / "results").mkdir()
    (tmp_path / "repo" / "results" / "r.json").write_text("{}\n")
    _git(tmp_path / "repo", "init", "-q")
    _git(tmp_path / "repo", "add", ".")
    _git(tmp_path / "repo", "commit", "-q", "-m", "first")
    return tmp_path / "repo", package


@needs_git
def test_commit_of_a_clean_checkout_and_dirty_when_code_changes(tmp_path: Path) -> None:
    root, package = _checkout(tmp_path)
    head = _git(root, "rev-parse", "HEAD")
    assert git_commit(package) == head
    # an output changing (a result rewritten) does not make the code dirty
    (root / "results" / "r.json").write_text('{"a": 1}\n')
    assert git_commit(package) == head
    (package / "__init__.py").write_text("x = 2\n")
    assert git_commit(package) == f"{head}+dirty"
    _git(root, "checkout", "-q", "--", ".")
    (package / "new_module.py").write_text("y = 1\n")  # untracked code runs too
    assert git_commit(package) == f"{head}+dirty"


@needs_git
def test_outside_a_checkout_of_this_code_the_commit_is_unknown(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "__init__.py").write_text("")
    assert git_commit(plain) == UNKNOWN
    root, package = _checkout(tmp_path)
    (package / "copied").mkdir()
    (package / "copied" / "__init__.py").write_text("")  # inside a repository, but not tracked there
    assert git_commit(package / "copied") == UNKNOWN
    assert git_commit(tmp_path / "missing") == UNKNOWN


def test_without_git_the_commit_is_unknown_and_the_rest_is_still_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_git(*args: object, **kwargs: object) -> None:
        raise FileNotFoundError("git")

    monkeypatch.setattr(module.subprocess, "run", no_git)
    block = provenance()
    assert block["git_commit"] == UNKNOWN
    assert block["date"].endswith("Z") and block["python"].count(".") == 2
    assert block["packages"]["numpy"] != NOT_INSTALLED


def test_hanging_git_gives_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    def hang(*args: object, **kwargs: object) -> None:
        raise subprocess.TimeoutExpired("git", module.GIT_TIMEOUT_S)

    monkeypatch.setattr(module.subprocess, "run", hang)
    assert git_commit() == UNKNOWN


def test_versions_of_missing_packages_and_how_a_block_is_described() -> None:
    versions = package_versions(("numpy", "no-such-package-bgtai"))
    assert versions["numpy"].split(".")[0].isdigit() and versions["no-such-package-bgtai"] == NOT_INSTALLED
    assert describe(
        {"git_commit": "0123456789abcdef0123456789abcdef01234567+dirty", "date": "2025-01-02T03:04:05Z"}
    ) == ("0123456789+dirty", "2025-01-02")
    assert describe({"git_commit": UNKNOWN, "date": "2025-01-02T03:04:05Z"}) == (UNKNOWN, "2025-01-02")
    assert describe({}) == (NOT_RECORDED, NOT_RECORDED) and describe(None) == (NOT_RECORDED, NOT_RECORDED)


def test_training_json_carries_the_provenance_block(tmp_path: Path) -> None:
    from bgtai.train.joint import TRAINING_FILE, save_model_atomically

    class Saved:  # stands in for a JointModel: only its save is called
        def save(self, folder: Path) -> None:
            (Path(folder) / "model.safetensors").write_bytes(b"weights")

    best = save_model_atomically(
        Saved(), tmp_path / "run" / "best", {"recipe": {"name": "r"}, "command": "bgtai train"}
    )
    record = json.loads((best / TRAINING_FILE).read_text())
    assert record["recipe"] == {"name": "r"} and record["command"] == "bgtai train"
    assert set(record["provenance"]) == {"git_commit", "date", "python", "packages"}
