"""DS-Net trained on the shared loop: it learns the gold paths, and a killed run resumes to the same model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bgtai.align import evaluate as ev
from bgtai.errors import BadInputError
from bgtai.train.dsnet import TrainConfig, train_dsnet


def made_up_pairs(count: int = 40, seed: int = 0) -> ev.AlignmentSet:
    """Articles of random sentence vectors; each summary copies a few of them, in order, with noise."""
    rng = np.random.default_rng(seed)
    articles, summaries, golds = [], [], []
    for _ in range(count):
        length, picked = int(rng.integers(6, 12)), int(rng.integers(2, 5))
        article = rng.standard_normal((length, 8)).astype(np.float32)
        gold = np.sort(rng.choice(length, picked, replace=False))
        articles.append(article)
        summaries.append((article[gold] + 0.3 * rng.standard_normal((picked, 8))).astype(np.float32))
        golds.append(gold)
    return ev.AlignmentSet(articles, summaries, golds, ["made-up"] * count)


CONFIG = TrainConfig(epochs=6, batch_size=8, hidden=16, lr=1e-2, seed=1)


def test_dsnet_learns_the_gold_paths_better_than_uniform() -> None:
    train, test = made_up_pairs(seed=0), made_up_pairs(count=20, seed=1)
    model = train_dsnet(train, CONFIG)
    learnt = ev.score(ev.dsnet_aligner(model), test).sentence_accuracy
    uniform = ev.score(ev.uniform, test).sentence_accuracy
    assert learnt > uniform + 0.2, (learnt, uniform)


def test_killed_and_resumed_dsnet_equals_an_uninterrupted_one(tmp_path) -> None:
    train = made_up_pairs()
    whole = train_dsnet(train, CONFIG, out=tmp_path / "whole")

    def kill(step: int) -> None:
        if step == 12:  # inside epoch 3 (5 steps an epoch)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_dsnet(train, CONFIG, out=tmp_path / "cut", on_step=kill)
    with pytest.raises(FileExistsError):
        train_dsnet(train, CONFIG, out=tmp_path / "cut")
    resumed = train_dsnet(train, CONFIG, out=tmp_path / "cut", resume=True)
    for name, value in whole.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[name], value, rtol=0, atol=0, msg=name)
    assert (tmp_path / "cut" / "best" / "dsnet.pt").is_file() and (tmp_path / "cut" / "log.csv").is_file()


def test_with_no_readable_checkpoint_the_run_starts_over_from_the_best_model(tmp_path) -> None:
    train = made_up_pairs()
    train_dsnet(train, CONFIG, out=tmp_path / "run")
    for name in ("checkpoint.pt", "checkpoint.previous.pt"):
        (tmp_path / "run" / name).write_bytes(b"truncated")
    with pytest.warns(UserWarning, match="starting the run over from the weights of .*best"):
        again = train_dsnet(train, CONFIG, out=tmp_path / "run", resume=True)
    assert ev.score(ev.dsnet_aligner(again), train).sentence_accuracy > ev.score(ev.uniform, train).sentence_accuracy
    (tmp_path / "run" / "best" / "dsnet.pt").unlink()
    for name in ("checkpoint.pt", "checkpoint.previous.pt"):
        (tmp_path / "run" / name).write_bytes(b"truncated")
    with pytest.raises(BadInputError, match="cannot be loaded"):
        train_dsnet(train, CONFIG, out=tmp_path / "run", resume=True)
