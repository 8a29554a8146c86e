"""A worker started with `exit_with_parent` ends when its parent is killed, instead of running on as an orphan."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PARENT = r"""
import multiprocessing, sys, time
from concurrent.futures import ProcessPoolExecutor

def work(pid_file, watched):
    import os, time
    if watched:
        from bgtai.train.parent_watch import exit_with_parent
        exit_with_parent(poll_seconds=0.1)
    open(pid_file, "w").write(str(os.getpid()))
    time.sleep(60)

if __name__ == "__main__":
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pool.submit(work, sys.argv[1], sys.argv[2] == "1").result()
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")  # a zombie has ended; only its exit status waits to be collected


def _orphan_outlives_parent(tmp_path: Path, watched: bool) -> bool:
    script, pid_file = tmp_path / "parent.py", tmp_path / f"worker-{int(watched)}.pid"
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script), str(pid_file), "1" if watched else "0"])
    try:
        for _ in range(600):
            if pid_file.is_file() and pid_file.read_text():
                break
            time.sleep(0.05)
        worker = int(pid_file.read_text())
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        for _ in range(100):  # 5 s: 50 of the watcher's polls
            if not _running(worker):
                return False
            time.sleep(0.05)
        return True
    finally:
        if pid_file.is_file() and pid_file.read_text() and _running(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads process states from /proc (Linux)")
def test_watched_worker_ends_with_its_killed_parent_and_an_unwatched_one_does_not(tmp_path: Path) -> None:
    assert not _orphan_outlives_parent(tmp_path, watched=True)
    assert _orphan_outlives_parent(tmp_path, watched=False)
