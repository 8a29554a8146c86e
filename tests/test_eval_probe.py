"""Probe protocols: grouped folds never leak a source; probes learn what is learnable and no more."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bgtai.eval.probe import (
    Split,
    assert_no_group_leak,
    esc50_splits,
    fold_splits,
    plot_confusion,
    run_probe,
)


def _esc50_like(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """10 classes x 8 clips, clips cut from 1-4 clips per source recording, as in ESC-50."""
    rng = np.random.default_rng(seed)
    labels, groups = [], []
    source = 0
    for label in range(10):
        left = 8
        while left:
            take = min(left, int(rng.integers(1, 5)))
            labels += [label] * take
            groups += [source] * take
            source += 1
            left -= take
    return np.array(labels), np.array(groups)


@pytest.mark.parametrize("seed", range(5))
def test_esc50_splits_never_share_a_source_and_cover_every_clip_once(seed: int) -> None:
    labels, groups = _esc50_like(seed)
    splits = esc50_splits(labels, groups, seed=seed)
    assert len(splits) == 4
    tested = np.concatenate([s.test for s in splits])
    assert sorted(tested.tolist()) == list(range(len(labels)))
    for split in splits:
        assert not set(groups[split.train]) & set(groups[split.test])
        assert len(set(split.train) | set(split.test)) == len(labels)


def test_a_leaking_split_is_refused() -> None:
    groups = np.array([1, 1, 2, 2])
    with pytest.raises(ValueError, match="both sides"):
        assert_no_group_leak([Split("bad", np.array([0, 2]), np.array([1, 3]))], groups)


def test_fold_splits_test_only_the_named_folds_and_fold_3_only_trains() -> None:
    folds = np.array([1, 1, 2, 3, 3, 10])
    splits = fold_splits(folds)
    assert [s.name for s in splits] == ["fold1", "fold2", "fold10"]
    assert all(3 not in folds[s.test] for s in splits)
    assert all(set(folds[s.train]) == set(folds.tolist()) - set(folds[s.test]) for s in splits)
    with pytest.raises(ValueError, match="no items"):
        fold_splits(np.array([1, 3]))


def test_linear_probe_learns_separable_classes_and_reports_per_class() -> None:
    rng = np.random.default_rng(0)
    labels, groups = _esc50_like(1)
    centres = rng.normal(size=(10, 16)) * 4
    features = centres[labels] + rng.normal(size=(len(labels), 16))
    result = run_probe(features, labels, esc50_splits(labels, groups), groups, classifier="linear")
    assert result.mean == pytest.approx(1.0)
    assert result.confusion.sum() == len(labels)
    assert np.trace(result.confusion) == len(labels)
    assert set(result.per_class) == {str(c) for c in range(10)}
    assert all(c["C"] > 0 for c in result.chosen)


def test_probe_cannot_exploit_source_identity() -> None:
    # features identify the source recording exactly, labels are random per source: with a
    # leak the probe would memorise sources; without one it must be near chance (1/2).
    rng = np.random.default_rng(3)
    groups = np.repeat(np.arange(40), 4)
    labels = rng.integers(0, 2, 40)[groups]
    features = rng.normal(size=(40, 8))[groups]
    splits = esc50_splits(labels, groups)
    result = run_probe(features, labels, splits, groups, classifier="linear")
    assert result.mean < 0.8


def test_mlp_probe_and_confusion_plot(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    labels, groups = _esc50_like(2)
    features = np.eye(10)[labels] * 5 + rng.normal(size=(len(labels), 10)) * 0.3
    result = run_probe(features, labels, esc50_splits(labels, groups), groups, classifier="mlp")
    assert result.mean > 0.9
    png = plot_confusion(result, tmp_path / "cm.png", "test")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mismatched_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="do not match"):
        run_probe(np.zeros((3, 2)), np.array([0, 1]), [], np.array([0, 1, 2]))
