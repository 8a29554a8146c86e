"""Re-run the command a committed result records and compare the metrics: does it still reproduce?

    python scripts/rescore_results.py results/zeroshot-esc50-default.json results/align-bbc-text.json

Each result's `command` field is run again (`python -m bgtai.cli.main ...`) with its `--json` sent
to a temporary folder, so nothing under results/ changes; the metrics are compared exactly and a
table says, per file, how many metrics differ and by how much at most. Exit status 1 when any
result does not reproduce. Results whose command is not a `bgtai eval` command, or whose `--model`
folder is not here (runs/ is not committed), are skipped.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def rescore(path: Path, folder: Path) -> tuple[str, int, float, float]:
    """(status, metrics that differ, largest difference, seconds) for one result file."""
    record = json.loads(path.read_text(encoding="utf-8"))
    words = shlex.split(record.get("command", ""))
    if words[:2] != ["bgtai", "eval"] or "--json" not in words:
        return "skipped (not a bgtai eval command)", 0, 0.0, 0.0
    models = [words[i + 1] for i, word in enumerate(words[:-1]) if word == "--model"]
    missing = [m for m in models if "/" in m and not Path(m).exists()]
    if missing:
        return f"skipped ({missing[0]} is not here)", 0, 0.0, 0.0
    # a command writing several results (retrieval: one per pair set and direction) names them after its --json
    at = words.index("--json") + 1
    words[at] = str(folder / Path(words[at]).name)
    fresh = folder / path.name
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bgtai.cli.main", *words[1:]], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        return f"failed: {(done.stderr.strip().splitlines() or ['no output'])[-1]}", 0, math.nan, seconds
    if not fresh.is_file():
        return f"failed: the command wrote no {fresh.name}", 0, math.nan, seconds
    old, new = record["metrics"], json.loads(fresh.read_text(encoding="utf-8"))["metrics"]
    differ, largest = 0, 0.0
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        same = a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
        if not same:
            differ += 1
            if isinstance(a, (int, float)) and isinstance(b, (int, float)):
                largest = max(largest, abs(float(a) - float(b)))
            else:
                largest = math.inf
    return ("identical" if differ == 0 else "DIFFERS"), differ, largest, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="+", type=Path, help="result JSON files (their recorded commands are run)")
    args = parser.parse_args()
    print("| result | status | metrics differing | largest difference | seconds |")
    print("|---|---|---|---|---|")
    failed = False
    with tempfile.TemporaryDirectory() as folder:
        for path in args.results:
            status, differ, largest, seconds = rescore(path, Path(folder))
            failed |= status not in ("identical",) and not status.startswith("skipped")
            print(f"| {path} | {status} | {differ} | {largest:.3g} | {seconds:.0f} |", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
