"""Sequence alignment in the joint trainer: the Result Filter term and DS-Net's self-paced pair selection."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from test_train_joint import _free_port, _states_equal, make_data, tiny_recipe

from bgtai.align.pair_alignment import AlignmentConfig, alignment_view, reference_paths
from bgtai.losses.alignment import dtw_targets
from bgtai.train.joint import JointTrainer, batch_inputs, modalities_of, train


def aligned_recipe(ds_net: bool = True, result_filter: bool = True, epochs: int = 3, **alignment):
    settings = {
        "ds_net": ds_net,
        "result_filter": result_filter,
        "weight": 0.5,
        "interpolate_to": 4,
        "hidden": 8,
        "threshold": 0.05,
        "growth": 2.0,
        "min_fraction": 0.3,
        **alignment,
    }
    return tiny_recipe("moco", epochs=epochs, dropout=0.0, alignment=settings)


def test_view_is_language_to_picture_else_text_to_audio() -> None:
    assert alignment_view(["audio", "image", "text"]) == ("text", "image")
    assert alignment_view(["image", "text"]) == ("text", "image")
    assert alignment_view(["audio", "text"]) == ("text", "audio")
    assert alignment_view(["audio", "image"]) == ("audio", "image")
    assert alignment_view(["text"]) is None and alignment_view(["image"]) is None


def test_reference_paths_are_dtw_targets_per_pair_with_padding_marked() -> None:
    rng = np.random.default_rng(0)
    source = torch.tensor(rng.standard_normal((2, 6, 5)), dtype=torch.float32)
    target = torch.tensor(rng.standard_normal((2, 4, 5)), dtype=torch.float32)
    source_mask = torch.tensor([[True] * 6, [True] * 3 + [False] * 3])
    target_mask = torch.tensor([[True] * 4, [True] * 2 + [False] * 2])
    paths = reference_paths(source, source_mask, target, target_mask, interpolate_to=8).numpy()
    expected0 = dtw_targets(source[0].double().numpy(), target[0].double().numpy(), "cosine", 8)
    expected1 = dtw_targets(source[1, :3].double().numpy(), target[1, :2].double().numpy(), "cosine", 8)
    assert paths[0].tolist() == expected0.tolist()
    assert paths[1, :2].tolist() == expected1.tolist() and paths[1, 2:].tolist() == [-1, -1]
    assert paths[1, :2].max() < 3  # indices stay inside the pair's own source


def _alignment_grads(result_filter: bool) -> tuple[dict, dict]:
    """Gradients of the alignment term alone: on the joint model's parameters and on the aligner's."""
    trainer = JointTrainer(
        aligned_recipe(ds_net=True, result_filter=result_filter), "unused", make_data(), progress=False
    )
    batch = next(b for b in trainer.task.plan(0) if "image" in modalities_of(b.terms))
    modalities = modalities_of(batch.terms)
    inputs = batch_inputs(trainer.task.data, batch.rows, batch.kind, modalities)
    _, align_loss, difficulty = trainer.task.aligned(inputs, alignment_view(modalities))
    assert align_loss is not None and difficulty is not None
    assert torch.all((difficulty >= 0) & (difficulty <= 1))
    align_loss.mean().backward()
    model = {n: p.grad for n, p in trainer.model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    aligner = {n: p.grad for n, p in trainer.task.aligned.aligner.named_parameters() if p.grad is not None}
    return model, aligner


def test_result_filter_trains_the_model_and_selection_alone_does_not() -> None:
    model, aligner = _alignment_grads(result_filter=True)
    assert aligner and any(name.startswith("image.") for name in model)
    model, aligner = _alignment_grads(result_filter=False)
    assert aligner and not model


def test_ds_net_admits_a_growing_share_after_a_full_warm_up_epoch(tmp_path) -> None:
    summary = train(aligned_recipe(result_filter=False, epochs=4), tmp_path / "run", data=make_data(), progress=False)
    pairs = [row["pairs"] for row in summary.history]
    assert max(pairs[1:]) < pairs[0]  # the first epoch trains every pair, then only the easy ones
    assert all(np.isfinite(row["align_loss"]) for row in summary.history)
    state = torch.load(tmp_path / "run" / "checkpoint.pt")
    difficulty = state["task"]["selection"]["difficulty"].numpy()
    scored = difficulty[np.isfinite(difficulty)]
    assert len(scored) > 0 and scored.min() >= 0 and scored.max() <= 1


def test_admitted_sets_grow_with_the_threshold_and_unscored_pairs_always_train() -> None:
    recipe = aligned_recipe(result_filter=False, threshold=0.2, growth=2.0)
    trainer = JointTrainer(recipe, "unused", make_data(), progress=False)
    rows = trainer.task.rows
    trainer.task.difficulty[rows] = np.linspace(0.0, 0.5, len(rows))
    trainer.task.difficulty[rows[:3]] = np.nan  # never scored
    admitted = [set(trainer.task.admitted_rows(epoch).tolist()) for epoch in range(5)]
    assert admitted[0] == set(rows.tolist())  # warm-up epoch
    assert admitted[1] < admitted[2] < admitted[3] <= admitted[4]
    assert set(rows[:3].tolist()) <= admitted[1]
    threshold = trainer.task.recipe.alignment.threshold * trainer.task.recipe.alignment.growth
    easy = {int(r) for r in rows[3:] if trainer.task.difficulty[r] <= threshold}
    assert easy <= admitted[2] and len(admitted[1]) >= 0.3 * (len(rows) - 3)


def test_without_selection_every_epoch_trains_every_pair(tmp_path) -> None:
    summary = train(aligned_recipe(ds_net=False, epochs=2), tmp_path / "run", data=make_data(), progress=False)
    assert summary.history[0]["pairs"] == summary.history[1]["pairs"]


def test_killed_and_resumed_aligned_run_equals_an_uninterrupted_one(tmp_path) -> None:
    data = make_data()
    whole = train(aligned_recipe(), tmp_path / "whole", data=data, progress=False)

    def kill(step: int) -> None:
        if step == whole.history[0]["step"] + 1:  # inside the first selecting epoch
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(aligned_recipe(), tmp_path / "killed", data=data, progress=False, on_step=kill)
    resumed = train(aligned_recipe(), tmp_path / "killed", data=data, progress=False, resume=True)
    assert [r["pairs"] for r in resumed.history] == [r["pairs"] for r in whole.history]
    assert [r["val_loss"] for r in resumed.history] == [r["val_loss"] for r in whole.history]
    a, b = torch.load(tmp_path / "whole" / "checkpoint.pt"), torch.load(tmp_path / "killed" / "checkpoint.pt")
    a, b = a["task"], b["task"]
    a["difficulty"], b["difficulty"] = a["selection"]["difficulty"], b["selection"]["difficulty"]
    assert _states_equal(a["model"], b["model"]) and _states_equal(a["aligner"], b["aligner"])
    assert torch.equal(a["difficulty"].isnan(), b["difficulty"].isnan())
    assert torch.equal(a["difficulty"].nan_to_num(), b["difficulty"].nan_to_num())


def test_snapshots_keep_one_model_per_epoch(tmp_path) -> None:
    train(aligned_recipe(epochs=2), tmp_path / "run", data=make_data(), progress=False, snapshots=True)
    assert sorted(p.name for p in (tmp_path / "run" / "epochs").iterdir()) == ["main-001", "main-002"]


def test_alignment_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="interpolate_to"):
        AlignmentConfig(interpolate_to=1)
    with pytest.raises(ValueError):
        AlignmentConfig(min_fraction=1.5)
    with pytest.raises(ValueError, match="loss"):
        AlignmentConfig(loss="mse")
    assert not AlignmentConfig().enabled and AlignmentConfig(result_filter=True).enabled


def _aligned_run(out: str) -> dict:
    # one epoch: with two processes an odd-sized group loses a row to the world size in later
    # plans, so what must match is the difficulty every rank scored, which selection reads
    summary = train(aligned_recipe(epochs=1), out, data=make_data(), progress=False)
    state = torch.load(os.path.join(out, "checkpoint.pt"))
    return {"history": summary.history, "difficulty": state["task"]["selection"]["difficulty"]}


def _ddp_worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world))
    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo", rank=rank, world_size=world)
    try:
        result = _aligned_run(out)
        if rank == 0:
            torch.save(result, os.path.join(out, "result.pt"))
    finally:
        torch.distributed.destroy_process_group()


def test_two_process_selection_equals_one_process(tmp_path) -> None:
    out = tmp_path / "two"
    mp.start_processes(_ddp_worker, args=(2, _free_port(), str(out)), nprocs=2, join=True, start_method="fork")
    two = torch.load(out / "result.pt")
    one = _aligned_run(str(tmp_path / "one"))
    assert [r["pairs"] for r in one["history"]] == [r["pairs"] for r in two["history"]]
    assert torch.isfinite(two["difficulty"]).sum() == one["history"][0]["pairs"]  # rank 1's rows arrived too
    assert torch.equal(one["difficulty"].isnan(), two["difficulty"].isnan())
    assert torch.allclose(one["difficulty"].nan_to_num(), two["difficulty"].nan_to_num(), atol=1e-4)
    for a, b in zip(one["history"], two["history"], strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)


def test_cli_flags_switch_on_selection_and_the_result_filter() -> None:
    from test_train_joint import _train_parser

    from bgtai.cli.train_joint import recipe_overrides
    from bgtai.train.recipes import load_recipe

    parser = _train_parser()
    both = parser.parse_args(["train", "--recipe", "unibrivl-moco", "--ds-net", "--result-filter", "--snapshots"])
    recipe = load_recipe(both.recipe, recipe_overrides(both))
    assert recipe.alignment.ds_net and recipe.alignment.result_filter and both.snapshots
    plain = parser.parse_args(["train", "--recipe", "unibrivl-moco", "--set", "alignment.weight=0.3"])
    recipe = load_recipe(plain.recipe, recipe_overrides(plain))
    assert not recipe.alignment.enabled and recipe.alignment.weight == 0.3


def test_audio_cut_keeps_the_first_frames_and_the_pairs() -> None:
    data = make_data()
    cut = data.with_audio_cut(2)
    assert len(cut) == len(data) and cut.rows is data.rows
    for whole, short in zip(data.features["audio"], cut.features["audio"], strict=True):
        assert np.array_equal(short, whole[:2])
    assert data.with_audio_cut(0) is data


@pytest.mark.parametrize("loss", ["ce", "sp", "l2", "total"])
def test_every_alignment_loss_trains_and_selection_still_uses_sp(tmp_path, loss: str) -> None:
    summary = train(aligned_recipe(epochs=2, loss=loss), tmp_path / loss, data=make_data(), progress=False)
    assert all(np.isfinite(row["align_loss"]) for row in summary.history)
    difficulty = torch.load(tmp_path / loss / "checkpoint.pt")["task"]["selection"]["difficulty"].numpy()
    scored = difficulty[np.isfinite(difficulty)]
    assert scored.size and scored.max() <= 1.0  # SP-Loss, even when training on the unbounded CE


def test_rescoring_every_third_epoch_leaves_the_epochs_between_without_alignment(tmp_path) -> None:
    recipe = aligned_recipe(result_filter=False, epochs=5, rescore_every=3)
    assert [recipe.alignment.aligns_in(e) for e in range(5)] == [True, False, False, True, False]
    summary = train(recipe, tmp_path / "run", data=make_data(), progress=False)
    scored = [np.isfinite(row["align_loss"]) for row in summary.history]
    assert scored == [True, False, False, True, False]
    with_filter = aligned_recipe(result_filter=True, rescore_every=3)
    assert all(with_filter.alignment.aligns_in(e) for e in range(5))  # the Result Filter term needs every step
