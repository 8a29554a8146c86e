"""ESC-50 fold 4 clips spread over the fold, and a cosine: shared by the benchmarks that compare encoder paths."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from bgtai.config import require_data_root
from bgtai.io.audio import resolve_audio_path


def fold4_clips(count: int) -> list[Path]:
    root = require_data_root() / "esc50"
    with open(root / "meta" / "esc50.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["fold"] == "4"]
    rows.sort(key=lambda r: r["filename"])
    step = max(1, len(rows) // count)  # spread over the fold, not one class
    return [resolve_audio_path(root / "audio" / r["filename"]) for r in rows[::step][:count]]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))
