"""Training-efficiency curves (BGTAI Fig. 2): accuracy of every epoch's model against epoch and wall time.

A run trained with `--snapshots` keeps each epoch's model in `RUN/epochs/<stage>-<epoch>` and
its log (`RUN/log.csv`) says how long each epoch took and how many pairs it trained on. For
each snapshot this scores, on audio never trained on:

- `zeroshot-esc50`: zero-shot top-1 on ESC-50 fold 4 (50-way);
- `zeroshot-urbansound8k-fold10`: zero-shot top-1 on UrbanSound8K fold 10 (10-way);
- `probe-esc50`, `probe-urbansound8k`: a linear probe on the model's joint audio embeddings,
  ESC-50 fold 4 with grouped 4-fold CV, and UrbanSound8K tested on fold 10 only (trained on
  the other folds): the joint models train on folds 1-3, so scoring folds 1 and 2 would score
  clips the model has seen with their labels. Every `probe_every` epochs and at the last one
  (they cost the most).

Frozen features of the evaluation audio are read once through the feature cache; each snapshot
only runs its trainable parts over them.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bgtai.eval.datasets import ClassificationSet

METRICS: tuple[str, ...] = ("zeroshot-esc50", "zeroshot-urbansound8k-fold10", "probe-esc50", "probe-urbansound8k")
METRIC_LABELS: dict[str, str] = {
    "zeroshot-esc50": "zero-shot top-1, ESC-50 fold 4",
    "zeroshot-urbansound8k-fold10": "zero-shot top-1, UrbanSound8K fold 10",
    "probe-esc50": "linear probe on joint audio embeddings, ESC-50 fold 4",
    "probe-urbansound8k": "linear probe on joint audio embeddings, UrbanSound8K fold 10",
}
PROBE_SETS: dict[str, str] = {"esc50": "probe-esc50", "urbansound8k": "probe-urbansound8k"}  # set key -> metric
PROBE_TEST_FOLDS: dict[str, tuple[int, ...]] = {"urbansound8k": (10,)}  # folds 1-3 are joint-space training data


@dataclass(frozen=True)
class Snapshot:
    epoch: int  # counted over all stages, from 1
    model: Path
    seconds: float  # training wall time up to the end of this epoch (validation included)
    pairs: int  # pairs trained on in this epoch
    cpu_seconds: float | None = None  # the training process's CPU time up to here (logs from before it: None)


@dataclass
class EpochScores:
    epoch: int
    seconds: float
    pairs: int
    metrics: dict[str, float] = field(default_factory=dict)
    cpu_seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
            "pairs": self.pairs,
            **self.metrics,
        }


def read_snapshots(run: str | Path) -> list[Snapshot]:
    """The epoch models of a run trained with snapshots, with cumulative training time from its log."""
    folder = Path(run)
    log, epochs = folder / "log.csv", folder / "epochs"
    if not log.is_file() or not epochs.is_dir():
        raise FileNotFoundError(f"{folder}: no log.csv or epochs/ (train it with --snapshots)")
    with open(log, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    snapshots, elapsed = [], 0.0
    cpu: float | None = 0.0
    for number, row in enumerate(rows, start=1):
        elapsed += float(row["seconds"])
        cpu = cpu + float(row["cpu_seconds"]) if cpu is not None and row.get("cpu_seconds") else None
        model = epochs / f"{row['stage']}-{int(row['epoch']):03d}"
        if not model.is_dir():
            raise FileNotFoundError(f"{folder}: log has {row['stage']} epoch {row['epoch']} but {model} is missing")
        pairs = int(row["pairs"]) if row.get("pairs") else 0
        snapshots.append(Snapshot(number, model, round(elapsed, 3), pairs, None if cpu is None else round(cpu, 3)))
    if not snapshots:
        raise FileNotFoundError(f"{folder}: log.csv has no epochs")
    return snapshots


class _PrecomputedAudio:
    """An embedder for zero-shot scoring whose audio "inputs" are indices into frozen features held in memory."""

    def __init__(self, model: Any, audio: Sequence[np.ndarray]) -> None:
        self.model = model
        self.audio = audio

    def encode(self, modality: str, inputs: Sequence[Any]) -> np.ndarray:
        if modality == "audio":
            return self.model.embed_sequences("audio", [self.audio[int(i)] for i in inputs])
        return self.model.encode(modality, list(inputs), progress=False)


def score_snapshot(
    model: Any,
    sets: dict[str, tuple[ClassificationSet, list[np.ndarray]]],
    probe: bool,
    seed: int = 0,
) -> dict[str, float]:
    """The metrics of one model; `sets` maps "esc50" and "urbansound8k-fold10" to (items, frozen audio features)."""
    from bgtai.eval.probe import fold_splits, run_probe
    from bgtai.eval.zeroshot import zero_shot_classify

    scores: dict[str, float] = {}
    for key, (data, features) in sets.items():
        if key.startswith("probe:"):
            continue
        embedder = _PrecomputedAudio(model, features)
        result = zero_shot_classify(embedder, list(range(len(features))), list(data.labels))
        scores[f"zeroshot-{key}"] = float(result.metrics["top1"])
    for name, metric in PROBE_SETS.items():
        # the probe's own set when given (every UrbanSound8K slice), else the zero-shot set (ESC-50 fold 4)
        found = sets.get(f"probe:{name}") or sets.get(name)
        if probe and found is not None:
            data, features = found
            splits = fold_splits(data.folds, PROBE_TEST_FOLDS[name]) if name in PROBE_TEST_FOLDS else data.splits(seed)
            embedded = model.embed_sequences("audio", features)
            scores[metric] = run_probe(embedded, data.labels, splits, data.groups, "linear", seed).mean
    return scores


def evaluation_sets(front_end: str, progress: bool = True) -> dict[str, tuple[ClassificationSet, list[np.ndarray]]]:
    """ESC-50 fold 4, UrbanSound8K fold 10 (zero-shot) and every UrbanSound8K slice (`probe:urbansound8k`),
    with their frozen `front_end` features (cached)."""
    from bgtai.embed import encode_sequence
    from bgtai.eval.datasets import load_classification_set, load_zeroshot_set

    sets = {}
    for key, data in (
        ("esc50", load_zeroshot_set("esc50")),
        ("urbansound8k-fold10", load_zeroshot_set("urbansound8k")),
        ("probe:urbansound8k", load_classification_set("urbansound8k")),
    ):
        features = encode_sequence("audio", data.inputs, encoder=front_end, progress=progress).features
        sets[key] = (data, list(features))
    return sets


def efficiency_curves(
    runs: dict[str, str | Path],
    probe_every: int = 2,
    progress: Callable[[str], None] | None = None,
) -> dict[str, list[EpochScores]]:
    """Scores of every epoch of every run; all runs must share the audio front-end."""
    from bgtai.model.joint import load_model

    snapshots = {name: read_snapshots(run) for name, run in runs.items()}
    front_ends = {load_model(s[0].model).config.front_ends["audio"] for s in snapshots.values()}
    if len(front_ends) != 1:
        raise ValueError(f"the runs use different audio front-ends ({sorted(front_ends)}): compare like with like")
    sets = evaluation_sets(front_ends.pop(), progress=progress is not None)
    curves: dict[str, list[EpochScores]] = {}
    for name, items in snapshots.items():
        curves[name] = []
        for snapshot in items:
            probe = snapshot.epoch % probe_every == 0 or snapshot is items[-1]
            metrics = score_snapshot(load_model(snapshot.model), sets, probe)
            curves[name].append(
                EpochScores(snapshot.epoch, snapshot.seconds, snapshot.pairs, metrics, snapshot.cpu_seconds)
            )
            if progress is not None:
                shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
                cpu = "" if snapshot.cpu_seconds is None else f", {snapshot.cpu_seconds:.0f} s CPU"
                progress(f"{name} epoch {snapshot.epoch} ({snapshot.seconds:.0f} s wall{cpu}): {shown}")
    return curves


def summary_metrics(curves: dict[str, list[EpochScores]]) -> dict[str, float]:
    """Flat `CONFIG/NAME` figures for the result file: last-epoch and best scores, time, pairs trained."""
    out: dict[str, float] = {}
    for name, points in curves.items():
        last = points[-1]
        out[f"{name}/seconds"] = last.seconds
        if last.cpu_seconds is not None:
            out[f"{name}/cpu_seconds"] = last.cpu_seconds
        out[f"{name}/pairs"] = float(sum(p.pairs for p in points))
        for metric in METRICS:
            values = [p.metrics[metric] for p in points if metric in p.metrics]
            if values:
                out[f"{name}/{metric}"] = last.metrics.get(metric, values[-1])
                out[f"{name}/best-{metric}"] = max(values)
    return out


def plot_curves(curves: dict[str, list[EpochScores]], path: str | Path, title: str) -> Path:
    """One row per metric, against epoch, training wall time and (when logged) training CPU time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [m for m in METRICS if any(m in p.metrics for points in curves.values() for p in points)]
    axes_x: list[tuple[str, Callable[[EpochScores], float | None]]] = [
        ("epoch", lambda p: p.epoch),
        ("training wall time (s)", lambda p: p.seconds),
    ]
    if all(p.cpu_seconds is not None for points in curves.values() for p in points):
        axes_x.append(("training CPU time (s, one thread)", lambda p: p.cpu_seconds))
    figure, axes = plt.subplots(
        len(metrics), len(axes_x), figsize=(5.2 * len(axes_x), 3.2 * len(metrics)), squeeze=False
    )
    for row, metric in enumerate(metrics):
        for name, points in curves.items():
            kept = [p for p in points if metric in p.metrics]
            for column, (_, x_of) in enumerate(axes_x):
                axes[row, column].plot(
                    [x_of(p) for p in kept], [p.metrics[metric] for p in kept], marker="o", label=name
                )
        axes[row, 0].set_ylabel(METRIC_LABELS[metric], fontsize=8)
        for column, (label, _) in enumerate(axes_x):
            axes[row, column].set_xlabel(label)
            axes[row, column].grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
