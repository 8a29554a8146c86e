"""Atomic writes whose results respect the umask, and sweeping what a killed writer left behind.

A file or folder is written under a temporary name beside its target, then renamed over it
(`os.replace`, atomic on one filesystem). `tempfile.mkstemp` / `mkdtemp` create the temporary
private (0600 / 0700) whatever the umask, and the rename keeps that mode, so every output
would be unreadable to the group: `temporary_file` and `temporary_folder` give it the mode
a plain `open()` / `mkdir()` would (0666 / 0777 less the umask).

Files: `write_bytes` / `write_text` for content already in memory, `atomic_path` for a writer
that wants a file name (torch.save, faiss, a subprocess). Both flush the file to disk before the
rename and the folder after it, so a crash leaves the old file or the new one, never a torn one,
and both remove their temporary on any failure.

Temporaries are named `.NAME.<random>.tmp` beside the target `NAME`; a folder being replaced
waits as `.NAME.old` for the instant of the swap. `sweep(folder, NAME)` removes what a killed
run left of these (restoring `.NAME.old` when `NAME` itself is gone).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bgtai.errors import BadInputError

_PROC_STATUS = Path("/proc/self/status")


def current_umask() -> int:
    """The process umask, read without changing it where the system allows (Linux >= 4.7)."""
    try:
        for line in _PROC_STATUS.read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    # elsewhere the only way is to set it and set it back (briefly visible to other threads)
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def apply_umask(path: str | Path) -> None:
    """Give a file made by `mkstemp` (or a folder by `mkdtemp`) the mode `open()` (or `mkdir()`) would."""
    full = 0o777 if os.path.isdir(path) else 0o666
    os.chmod(path, full & ~current_umask())


def temporary_file(target: str | Path) -> tuple[int, Path]:
    """(open handle, path) of a new temporary file beside `target`, with the umask's file mode."""
    target = Path(target)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    apply_umask(name)
    return handle, Path(name)


def temporary_folder(target: str | Path) -> Path:
    """A new empty temporary folder beside `target`, with the umask's folder mode."""
    target = Path(target)
    path = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    apply_umask(path)
    return path


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable; skipped where a folder cannot be opened (not every platform)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` atomically (parent folders created): a reader sees the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = temporary_file(path)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return path


def write_text(path: str | Path, text: str) -> Path:
    """`write_bytes` of `text` in UTF-8."""
    return write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """A temporary path beside `target` (parent folders created) for a writer that wants a file name.

    When the block ends normally the file is flushed to disk and renamed over `target`; when it
    raises, the temporary is removed and `target` is untouched. The temporary exists (empty, with
    the umask's mode) on entry and ends in `.tmp`: a writer that picks its format from the
    extension must be told the format.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = temporary_file(target)
    os.close(handle)
    try:
        yield temporary
        written = os.open(temporary, os.O_RDONLY)
        try:
            os.fsync(written)
        finally:
            os.close(written)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)


def check_target(path: str | Path, folder: bool = False) -> None:
    """Raise `BadInputError` naming the path unless a file (or with `folder`, a folder) can be written there.

    Meant for the start of a command, before any work: an output that is an existing folder
    (file wanted) or file (folder wanted), or that lies under a file or an unwritable folder.
    """
    path = Path(path)
    if path.is_dir() and not folder:
        raise BadInputError(str(path), "is a folder; give a file name to write")
    if path.exists() and folder and not path.is_dir():
        raise BadInputError(str(path), "exists and is not a folder")
    ancestor = path.absolute().parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise BadInputError(str(path), f"cannot be created: {ancestor} is a file, not a folder")
    writes_into = path if (folder and path.is_dir()) else ancestor
    if not os.access(writes_into, os.W_OK | os.X_OK):
        raise BadInputError(str(path), f"cannot be written: no write permission in {writes_into}")


def replace_folder(staging: Path, folder: Path) -> Path:
    """Put the finished folder `staging` in place of `folder` (moved aside to `.NAME.old`, then removed)."""
    old = folder.with_name(f".{folder.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if folder.exists():
        os.replace(folder, old)
    os.replace(staging, folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder


def sweep(folder: str | Path, target: str | None) -> list[Path]:
    """Remove the temporaries a killed writer of `folder/target` (None: of anything in `folder`) left.

    A `.NAME.old` with no `NAME` beside it is the previous version caught mid-swap: it is
    renamed back instead. Call it only when nobody else is writing there (a run's start).
    Returns the paths removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    name = ".+" if target is None else re.escape(target)
    # `.NAME.` + mkstemp's 8 random characters, with `.tmp` (this module) or without (older runs)
    leftover = re.compile(rf"\.({name})\.(old|[a-z0-9_]{{8}}(\.tmp)?)")
    removed: list[Path] = []
    for path in sorted(folder.iterdir()):
        match = leftover.fullmatch(path.name)
        if match is None:
            continue
        original = folder / match.group(1)
        if match.group(2) == "old" and not original.exists():
            os.replace(path, original)
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed
