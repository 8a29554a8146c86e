"""`bgtai.atomic.write_bytes` / `write_text` / `atomic_path`: whole file or old file, umask's mode, no leftovers."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import numpy as np
import pytest

from bgtai import atomic, cache


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o077])
def umask(request: pytest.FixtureRequest) -> int:
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def test_write_bytes_and_text_replace_the_file_with_the_umasks_mode(tmp_path: Path, umask: int) -> None:
    target = tmp_path / "new" / "folder" / "out.bin"  # parents are created
    assert atomic.write_bytes(target, b"first") == target
    assert atomic.write_bytes(target, b"second") == target
    assert target.read_bytes() == b"second" and _mode(target) == 0o666 & ~umask
    text = tmp_path / "notes.md"
    atomic.write_text(text, "Grüße\n")
    assert text.read_bytes() == "Grüße\n".encode() and _mode(text) == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "notes.md"]  # no temporaries left


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")

    def refuse(source: object, destination: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        atomic.write_text(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_atomic_path_renames_what_the_writer_wrote(tmp_path: Path, umask: int) -> None:
    target = tmp_path / "index.faiss"
    with atomic.atomic_path(target) as temporary:
        assert temporary.parent == tmp_path and temporary.name.startswith(".index.faiss.")
        assert temporary.suffix == ".tmp" and temporary.exists() and not target.exists()
        temporary.write_bytes(b"written by name")
    assert target.read_bytes() == b"written by name" and _mode(target) == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["index.faiss"]


def test_atomic_path_keeps_the_old_file_when_the_writer_fails(tmp_path: Path) -> None:
    target = tmp_path / "checkpoint.pt"
    target.write_bytes(b"previous")
    with pytest.raises(KeyboardInterrupt), atomic.atomic_path(target) as temporary:
        temporary.write_bytes(b"half")
        raise KeyboardInterrupt  # a Ctrl-C mid-write, not only an Exception
    assert target.read_bytes() == b"previous" and [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


def test_the_cache_writes_through_the_same_helper(tmp_path: Path) -> None:
    assert cache.write_bytes_atomic is atomic.write_bytes and cache.write_text_atomic is atomic.write_text
    path = tmp_path / "entry.npy"
    cache.save_npy_atomic(path, np.arange(6, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(np.load(path), np.arange(6, dtype=np.float32).reshape(2, 3))
    assert [p.name for p in tmp_path.iterdir()] == ["entry.npy"]


def test_cache_sweep_removes_old_temporaries_of_either_naming_and_keeps_fresh_ones(tmp_path: Path) -> None:
    old_new_style, old_old_style = tmp_path / ".entry.npy.k2j4_x9a.tmp", tmp_path / ".tmp-abc.npy"
    fresh, entry = tmp_path / ".other.npy.q1w2e3r4.tmp", tmp_path / "entry.npy"
    for path in (old_new_style, old_old_style, fresh, entry):
        path.write_bytes(b"x")
    two_hours_ago = time.time() - 7200
    for path in (old_new_style, old_old_style, entry):
        os.utime(path, (two_hours_ago, two_hours_ago))
    assert cache.sweep_orphans(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.npy.q1w2e3r4.tmp", "entry.npy"]
