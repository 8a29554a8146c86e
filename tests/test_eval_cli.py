"""`bgtai eval` and `bgtai report` driven through their parsers on made-up features."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import bgtai.cli
from bgtai.cli import eval as eval_cli
from bgtai.cli import report as report_cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bgtai")
    subparsers = parser.add_subparsers()
    eval_cli.register(subparsers)
    report_cli.register(subparsers)
    return parser


def _main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    return args.func(args)


def _tiny_features(path: Path) -> Path:
    """3 classes x 8 clips from 12 sources, in 4 folds; class = direction of the feature vector."""
    rng = np.random.default_rng(0)
    labels = np.repeat(["dog_bark", "rain", "siren"], 8)
    groups = np.repeat(np.arange(12), 2)
    folds = np.array([[1, 2, 3, 10][g % 4] for g in groups])
    features = np.eye(3)[np.repeat(np.arange(3), 8)] * 3 + rng.normal(size=(24, 3)) * 0.2
    np.savez(path, features=features, labels=labels, groups=groups, folds=folds)
    return path


@pytest.mark.parametrize("dataset", ["esc50", "urbansound8k"])
def test_probe_on_made_up_features_writes_json_and_plot(
    tmp_path: Path, dataset: str, capsys: pytest.CaptureFixture
) -> None:
    features = _tiny_features(tmp_path / "f.npz")
    out = tmp_path / "results" / "probe.json"
    assert _main(["eval", "probe", "--dataset", dataset, "--features", str(features), "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["task"] == "probe" and data["dataset"] == dataset
    assert data["metrics"]["accuracy"] == 1.0
    expected_folds = 4 if dataset == "esc50" else 3
    assert len(data["details"]["folds"]) == expected_folds
    assert (out.parent / data["plots"][0]).read_bytes()[:4] == b"\x89PNG"
    assert "accuracy 1.0000" in capsys.readouterr().out
    report = tmp_path / "RESULTS.md"
    assert _main(["report", str(out.parent), "--out", str(report)]) == 0
    assert "[1.0000](results/probe.json)" in report.read_text()


def test_bad_features_file_names_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, features=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="bad.npz"):
        _main(["eval", "probe", "--dataset", "esc50", "--features", str(bad)])


def test_cross_modal_retrieval_with_a_raw_encoder_is_a_clear_error(capsys: pytest.CaptureFixture) -> None:
    from bgtai.eval.embedders import ModelUnavailableError, load_embedder

    embedder = load_embedder("tiny-audio")
    with pytest.raises(ModelUnavailableError, match="cross-modal"):
        embedder.encode("text", ["a dog"])
    with pytest.raises(ModelUnavailableError, match="neither a model"):
        load_embedder("no-such-model")


def test_a_folder_that_is_no_joint_model_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from bgtai.cli.main import main

    model_dir = tmp_path / "model"
    model_dir.mkdir()
    assert main(["eval", "zeroshot", "--dataset", "esc50", "--model", str(model_dir)]) == 2
    error = capsys.readouterr().err
    # either joint models do not exist yet, or the folder is not one: both name the problem in one line
    assert "load_model" in error or "not a saved joint model" in error


def test_eval_tasks_from_other_modules_are_discovered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = tmp_path / "eval_fake.py"
    plugin.write_text(
        "def register(subparsers):\n    p = subparsers.add_parser('fake')\n    p.set_defaults(func=lambda args: 7)\n"
    )
    monkeypatch.setattr(bgtai.cli, "__path__", [*bgtai.cli.__path__, str(tmp_path)])
    monkeypatch.delitem(sys.modules, "bgtai.cli.eval_fake", raising=False)
    assert _main(["eval", "fake"]) == 7
