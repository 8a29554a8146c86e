"""Worker processes that end with the process that started them.

A `ProcessPoolExecutor` worker whose parent is killed (Ctrl-C in a terminal reaches the whole
group, but `kill PID` of a long training command does not) keeps running and keeps writing into
the run folder, where a restarted run then finds two writers. `exit_with_parent()` makes such a
worker stop on its own within `poll_seconds`; what it had written atomically stays valid.
"""

from __future__ import annotations

import os
import threading
import time


def exit_with_parent(poll_seconds: float = 2.0) -> threading.Thread:
    """Start a daemon thread that ends this process as soon as its parent process is gone."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(poll_seconds)
            if os.getppid() != parent:  # re-parented: the process that started us has died
                os._exit(1)

    watcher = threading.Thread(target=watch, name="exit-with-parent", daemon=True)
    watcher.start()
    return watcher
