"""Training-efficiency curves: snapshots read from a run, scores of a model built to be perfect, summaries."""

from __future__ import annotations

import numpy as np
import pytest
from test_train_alignment import aligned_recipe
from test_train_joint import make_data

from bgtai.eval.datasets import ClassificationSet
from bgtai.eval.efficiency import (
    EpochScores,
    plot_curves,
    read_snapshots,
    score_snapshot,
    summary_metrics,
)
from bgtai.train.joint import train

CLASSES = ["dog", "rain", "siren"]


class OneHotModel:
    """Audio features are the class id; a prompt embeds as the one-hot of the class it names."""

    def embed_sequences(self, modality: str, sequences) -> np.ndarray:
        assert modality == "audio"
        return np.eye(len(CLASSES), dtype=np.float32)[[int(s[0, 0]) for s in sequences]]

    def encode(self, modality: str, inputs, progress=None) -> np.ndarray:
        assert modality == "text"
        return np.stack([np.eye(len(CLASSES))[[c in text for c in CLASSES].index(True)] for text in inputs])


def _classification_set(
    labels: list[int], folds: list[int] | None = None
) -> tuple[ClassificationSet, list[np.ndarray]]:
    names = np.array([CLASSES[i] for i in labels])
    data = ClassificationSet(
        "esc50",
        "made-up",
        list(range(len(labels))),
        names,
        np.array([f"src{i}" for i in range(len(labels))]),
        np.asarray(folds if folds is not None else [1] * len(labels)),
    )
    return data, [np.full((2, 4), float(i), dtype=np.float32) for i in labels]


def test_a_perfect_model_scores_one_everywhere() -> None:
    labels = [i % 3 for i in range(24)]
    scores = score_snapshot(OneHotModel(), {"esc50": _classification_set(labels)}, probe=True)
    assert scores == {"zeroshot-esc50": 1.0, "probe-esc50": 1.0}
    # a probe set of its own is probed, never scored zero-shot
    # UrbanSound8K is probed on fold 10 only: the joint models train on folds 1-3
    folds = [10 if i % 4 == 0 else 1 + i % 3 for i in range(len(labels))]
    both = score_snapshot(
        OneHotModel(),
        {"esc50": _classification_set(labels), "probe:urbansound8k": _classification_set(labels, folds)},
        probe=True,
    )
    assert both == {"zeroshot-esc50": 1.0, "probe-esc50": 1.0, "probe-urbansound8k": 1.0}
    with pytest.raises(ValueError, match=r"\[10\]"):  # no fold 10: nothing it may test on
        score_snapshot(OneHotModel(), {"probe:urbansound8k": _classification_set(labels)}, probe=True)
    assert "probe-esc50" not in score_snapshot(OneHotModel(), {"esc50": _classification_set(labels)}, probe=False)


def test_snapshots_carry_cumulative_time_and_pairs(tmp_path) -> None:
    summary = train(aligned_recipe(epochs=3), tmp_path / "run", data=make_data(), progress=False, snapshots=True)
    snapshots = read_snapshots(tmp_path / "run")
    assert [s.epoch for s in snapshots] == [1, 2, 3]
    expected = np.cumsum([row["seconds"] for row in summary.history])
    assert [s.seconds for s in snapshots] == pytest.approx(expected, abs=1e-3)
    cpu = np.cumsum([row["cpu_seconds"] for row in summary.history])
    assert [s.cpu_seconds for s in snapshots] == pytest.approx(cpu, abs=1e-3) and cpu[-1] > 0
    assert [s.pairs for s in snapshots] == [row["pairs"] for row in summary.history]
    assert all(s.model.is_dir() for s in snapshots)


def test_a_run_without_snapshots_is_refused(tmp_path) -> None:
    train(aligned_recipe(epochs=1), tmp_path / "run", data=make_data(), progress=False)
    with pytest.raises(FileNotFoundError, match="--snapshots"):
        read_snapshots(tmp_path / "run")


def test_summary_takes_the_last_epoch_and_the_best(tmp_path) -> None:
    curves = {
        "base": [
            EpochScores(1, 10.0, 100, {"zeroshot-esc50": 0.2}),
            EpochScores(2, 20.0, 100, {"zeroshot-esc50": 0.1}),
        ],
        "ds-net": [
            EpochScores(1, 10.0, 100, {"zeroshot-esc50": 0.1}),
            EpochScores(2, 15.0, 50, {"zeroshot-esc50": 0.3}),
        ],
    }
    summary = summary_metrics(curves)
    assert summary["base/zeroshot-esc50"] == 0.1 and summary["base/best-zeroshot-esc50"] == 0.2
    assert summary["ds-net/seconds"] == 15.0 and summary["ds-net/pairs"] == 150.0
    assert plot_curves(curves, tmp_path / "curves.png", "test").stat().st_size > 0


def test_report_has_one_row_per_configuration_with_time_against_base(tmp_path) -> None:
    from bgtai.eval.report import build_report
    from bgtai.eval.results import EvalRecord, write_result

    curves = {
        "base": [{"epoch": 1, "seconds": 20.0, "pairs": 10, "zeroshot-esc50": 0.2}],
        "ds-net": [{"epoch": 1, "seconds": 15.0, "pairs": 5, "zeroshot-esc50": 0.25}],
    }
    metrics = {
        "base/seconds": 20.0,
        "base/cpu_seconds": 18.0,
        "ds-net/cpu_seconds": 9.0,
        "base/pairs": 10.0,
        "base/zeroshot-esc50": 0.2,
        "base/best-zeroshot-esc50": 0.2,
        "ds-net/seconds": 15.0,
        "ds-net/pairs": 5.0,
        "ds-net/zeroshot-esc50": 0.25,
        "ds-net/best-zeroshot-esc50": 0.25,
    }
    record = EvalRecord(
        "efficiency",
        "esc50",
        "made-up",
        "tiny",
        metrics,
        "bgtai eval efficiency ...",
        {"curves": curves, "trained_by": {"base": "bgtai train A", "ds-net": "bgtai train B"}},
    )
    write_result(record, tmp_path / "results" / "efficiency.json")
    text = build_report(tmp_path / "results", tmp_path / "RESULTS.md").pages["efficiency.md"]
    rows = [line for line in text.splitlines() if line.startswith(("| base", "| ds-net"))]
    assert rows[0].startswith("| base | 20 | 18 | 1.00x | 10 | 0.2000 (0.2000)")
    assert rows[1].startswith("| ds-net | 15 | 9 | 0.50x | 5 | 0.2500 (0.2500)")
    assert "`bgtai train B`" in text and text.count("# Training efficiency") == 1
