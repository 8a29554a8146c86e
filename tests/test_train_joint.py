"""The joint trainer on made-up features: learning, resume after a kill, DDP on two CPU processes, stages."""

from __future__ import annotations

import csv
import os
import socket

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from bgtai.losses.infonce import NO_LABEL
from bgtai.model.joint import load_model
from bgtai.train.joint import TrainData, plan_epoch, train, warmup_cosine
from bgtai.train.recipes import Recipe

DIM = 16


def make_data(seed: int = 0, trimodal: int = 24, audio_text: int = 16, image_text: int = 16) -> TrainData:
    """Pairs whose features all derive from one of 6 hidden concepts, so there is something to learn."""
    rng = np.random.default_rng(seed)
    prototypes = rng.standard_normal((6, DIM))
    mixes = {m: rng.standard_normal((DIM, DIM)) / 4 for m in ("audio", "image", "text")}
    features: dict[str, list[np.ndarray]] = {"audio": [], "image": [], "text": []}

    def add(modality: str, concept: int) -> int:
        length = int(rng.integers(2, 6))
        base = prototypes[concept] @ mixes[modality]
        features[modality].append((base + 0.3 * rng.standard_normal((length, DIM))).astype(np.float32))
        return len(features[modality]) - 1

    rows: dict[str, list[int]] = {"audio": [], "image": [], "text:av": [], "text:audio": [], "text:visual": []}
    labels, groups = [], []
    kinds = (
        [("audio", "image", "text")] * trimodal + [("audio", "text")] * audio_text + [("image", "text")] * image_text
    )
    for number, present in enumerate(kinds):
        concept = number % 6
        rows["audio"].append(add("audio", concept) if "audio" in present else -1)
        rows["image"].append(add("image", concept) if "image" in present else -1)
        text = add("text", concept)
        for kind in ("av", "audio", "visual"):
            rows[f"text:{kind}"].append(text)
        labels.append(concept if number % 2 else NO_LABEL)
        groups.append(f"item{number}")
    return TrainData(
        features, {k: np.asarray(v) for k, v in rows.items()}, np.asarray(labels), groups, ["made-up"] * len(groups)
    )


def tiny_recipe(objective: str = "moco", epochs: int = 3, dropout: float = 0.1, **changes) -> Recipe:
    data = {
        "name": "tiny",
        "model": {
            "front_ends": {"text": "tiny-text", "audio": "tiny-audio", "image": "tiny-image"},
            "language": {"width": 16, "layers": 1, "heads": 2, "ffn": 32, "dropout": dropout},
            "image": {
                "width": 16,
                "layers": 1,
                "heads": 2,
                "ffn": 32,
                "dropout": dropout,
                "max_patches": 8,
                "mlp_hidden": 16,
                "out_dim": 16,
            },
            "heads": {"dim": 8, "hidden": 16},
        },
        "objective": {"kind": objective, "queue_size": 40},
        "stages": [{"variant": "av", "epochs": epochs}],
        "optim": {"lr": 3e-3, "batch_size": 8, "val_fraction": 0.2, "warmup_fraction": 0.1},
        "seed": 3,
    }
    data.update(changes)
    return Recipe.from_dict(data)


def _states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("objective", ["moco", "slava"])
def test_training_lowers_validation_loss_and_keeps_the_best(tmp_path, objective: str) -> None:
    summary = train(tiny_recipe(objective, epochs=4), tmp_path / "run", data=make_data(), progress=False)
    losses = [row["val_loss"] for row in summary.history]
    assert len(losses) == 4 and losses[-1] < losses[0]
    assert summary.best_val == min(losses)
    best = load_model(tmp_path / "run" / "best")
    assert best.dim == 8
    from bgtai.eval.embedders import training_provenance

    provenance = training_provenance(str(tmp_path / "run" / "best"))  # how the model was made travels with it
    assert provenance["recipe"] == tiny_recipe(objective).name and provenance["trained_by"]
    with open(tmp_path / "run" / "log.csv", newline="") as file:
        logged = list(csv.DictReader(file))
    assert [float(r["val_loss"]) for r in logged] == pytest.approx(losses)


@pytest.mark.parametrize("objective", ["moco", "slava"])
def test_killed_and_resumed_run_equals_an_uninterrupted_one(tmp_path, objective: str) -> None:
    data = make_data()
    whole = train(tiny_recipe(objective), tmp_path / "whole", data=data, progress=False)

    def kill(step: int) -> None:
        if step == 9:  # in the middle of epoch 2 (5 steps per epoch)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(tiny_recipe(objective), tmp_path / "killed", data=data, progress=False, on_step=kill)
    with pytest.raises(FileExistsError):
        train(tiny_recipe(objective), tmp_path / "killed", data=data, progress=False)
    resumed = train(tiny_recipe(objective), tmp_path / "killed", data=data, progress=False, resume=True)
    assert resumed.steps == whole.steps
    assert [r["val_loss"] for r in resumed.history] == [r["val_loss"] for r in whole.history]
    whole_checkpoint = torch.load(tmp_path / "whole" / "checkpoint.pt")
    killed_checkpoint = torch.load(tmp_path / "killed" / "checkpoint.pt")
    whole_task, killed_task = whole_checkpoint["task"], killed_checkpoint["task"]
    assert _states_equal(whole_task["model"], killed_task["model"])
    assert _states_equal(whole_task["objective"]["loss"], killed_task["objective"]["loss"])


def _first_step(objective: str, out: str) -> dict:
    """The loss and gradients of the first global batch, and the history of a 1-epoch run."""
    from bgtai.train.joint import JointTrainer

    trainer = JointTrainer(tiny_recipe(objective, epochs=2, dropout=0.0), out + "-step", make_data(), progress=False)
    loss = trainer.batch_loss(trainer.task.plan(0)[0])
    loss.backward()
    grads = {n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None}
    value = loss.detach().clone()
    if torch.distributed.is_initialized():
        torch.distributed.all_reduce(value)
        value /= torch.distributed.get_world_size()
    # no dropout: two ranks would draw other masks for their rows than one process does
    summary = train(tiny_recipe(objective, epochs=1, dropout=0.0), out, data=make_data(), progress=False)
    return {"loss": float(value), "grads": grads, "history": summary.history}


def _ddp_worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world))
    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo", rank=rank, world_size=world)
    try:
        results = {objective: _first_step(objective, os.path.join(out, objective)) for objective in ("moco", "slava")}
        if rank == 0:
            torch.save(results, os.path.join(out, "results.pt"))
    finally:
        torch.distributed.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_ddp_equals_one_process(tmp_path) -> None:
    # fork, not spawn: the children need not import torch again (one thread each, set by conftest)
    mp.start_processes(
        _ddp_worker, args=(2, _free_port(), str(tmp_path / "two")), nprocs=2, join=True, start_method="fork"
    )
    two = torch.load(tmp_path / "two" / "results.pt")
    for objective in ("moco", "slava"):
        one = _first_step(objective, str(tmp_path / "one" / objective))
        assert one["loss"] == pytest.approx(two[objective]["loss"], rel=1e-5)
        assert one["grads"].keys() == two[objective]["grads"].keys()
        for name, grad in one["grads"].items():
            assert torch.allclose(grad, two[objective]["grads"][name], rtol=1e-4, atol=1e-7), (objective, name)
        for a, b in zip(one["history"], two[objective]["history"], strict=True):
            assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-4)
            assert a["val_loss"] == pytest.approx(b["val_loss"], rel=1e-4)
        one_state = torch.load(tmp_path / "one" / objective / "checkpoint.pt")
        two_state = torch.load(tmp_path / "two" / objective / "checkpoint.pt")
        if objective == "moco":  # the queues hold the same keys in the same order
            one_queues, two_queues = one_state["task"]["objective"]["loss"], two_state["task"]["objective"]["loss"]
            assert torch.allclose(one_queues["queue_text"], two_queues["queue_text"], atol=1e-4)
            assert torch.equal(one_queues["queue_labels_text"], two_queues["queue_labels_text"])


def test_two_stages_train_only_their_parts(tmp_path) -> None:
    separate = {"shared_language_encoder": False, "heads": {"dim": 8, "hidden": 16, "shared_language_head": False}}
    recipe = tiny_recipe("slava", epochs=1)
    model = {**recipe.model, **separate}
    stages = [
        {"name": "visual-text", "variant": "wav2clip-stage1", "epochs": 2, "train": ["image", "text"]},
        {"name": "audio-text", "variant": "wav2clip-stage2", "epochs": 2, "train": ["audio"], "freeze": ["text"]},
    ]
    recipe = tiny_recipe("slava", model=model, stages=stages)
    torch.manual_seed(recipe.seed)
    from bgtai.model.joint import JointModel

    initial = JointModel(recipe.joint_config()).state_dict()
    summary = train(recipe, tmp_path / "run", data=make_data(), progress=False)
    assert [r["stage"] for r in summary.history] == ["visual-text"] * 2 + ["audio-text"] * 2
    final = load_model(tmp_path / "run" / "best").state_dict()
    stage1 = torch.load(tmp_path / "run" / "checkpoint.pt")  # the end of stage 2
    changed = {k for k in final if not torch.equal(final[k], initial[k])}
    assert any(k.startswith("language.audio.") for k in changed)  # stage 2 trained audio
    assert any(k.startswith("image.") for k in changed)  # stage 1 trained images
    assert stage1["stage_index"] == 1
    # text parts changed in stage 1 only: the best of stage 1 and the final model agree on them


def test_frozen_text_does_not_move_in_stage_two(tmp_path) -> None:
    separate = {"shared_language_encoder": False, "heads": {"dim": 8, "hidden": 16, "shared_language_head": False}}
    base = tiny_recipe("slava")
    stage1 = [{"name": "vt", "variant": "wav2clip-stage1", "epochs": 1, "train": ["image", "text"]}]
    both = stage1 + [{"name": "at", "variant": "wav2clip-stage2", "epochs": 2, "train": ["audio"], "freeze": ["text"]}]
    first = train(
        tiny_recipe("slava", model={**base.model, **separate}, stages=stage1),
        tmp_path / "a",
        data=make_data(),
        progress=False,
    )
    second = train(
        tiny_recipe("slava", model={**base.model, **separate}, stages=both),
        tmp_path / "b",
        data=make_data(),
        progress=False,
    )
    assert first.steps < second.steps
    after_one = load_model(tmp_path / "a" / "best").state_dict()
    after_two = load_model(tmp_path / "b" / "best").state_dict()
    text = [k for k in after_one if k.startswith(("language.text.", "heads.heads.text."))]
    audio = [k for k in after_one if k.startswith("language.audio.")]
    assert text and all(torch.equal(after_one[k], after_two[k]) for k in text)
    assert any(not torch.equal(after_one[k], after_two[k]) for k in audio)


def test_plan_is_deterministic_homogeneous_and_divisible() -> None:
    data = make_data()
    rows = np.arange(len(data))
    plan = plan_epoch(data, rows, "av", 6, 2, (1, 0, 0))
    again = plan_epoch(data, rows, "av", 6, 2, (1, 0, 0))
    assert [b.rows.tolist() for b in plan] == [b.rows.tolist() for b in again]
    assert [b.rows.tolist() for b in plan] != [b.rows.tolist() for b in plan_epoch(data, rows, "av", 6, 2, (1, 0, 1))]
    for batch in plan:
        assert len(batch.rows) % 2 == 0
        kinds = {tuple(data.present(int(r), "av")) for r in batch.rows}
        assert len(kinds) == 1
    # A&V: picture-caption batches only ever draw visual captions
    for batch in plan_epoch(data, rows, "a-and-v", 6, 1, (0,)):
        if data.rows["audio"][batch.rows[0]] < 0:
            assert batch.kind == "visual" and batch.terms == ("VT",)


def test_warmup_then_cosine() -> None:
    assert warmup_cosine(0, 4, 20) == pytest.approx(0.25)
    assert warmup_cosine(3, 4, 20) == pytest.approx(1.0)
    assert warmup_cosine(12, 4, 20) == pytest.approx(0.5)
    assert warmup_cosine(20, 4, 20, min_ratio=0.1) == pytest.approx(0.1)


def _train_parser():
    import argparse

    from bgtai.cli import train as train_cli

    # `bgtai train` itself registers the joint-space options next to its `gloss` sub-command
    top = argparse.ArgumentParser(prog="bgtai")
    subparsers = top.add_subparsers(dest="command")
    train_cli.register(subparsers)
    return top


def test_cli_hooks_into_bgtai_train_next_to_gloss() -> None:
    from bgtai.cli.train_joint import run

    parser = _train_parser()
    args = parser.parse_args(["train", "--recipe", "slava-av", "--set", "optim.lr=1e-4", "--set", "stages.0.epochs=1"])
    assert args.recipe == "slava-av" and args.overrides == ["optim.lr=1e-4", "stages.0.epochs=1"]
    assert args.func is not run and callable(args.func)  # the dispatcher, which runs the recipe
    gloss = parser.parse_args(["train", "gloss", "--corpus", "aslg"])
    assert gloss.func.__name__ == "_run_gloss"


@pytest.mark.integration
@pytest.mark.needs_data
def test_cli_trains_a_recipe_on_real_pairs_and_resumes(tmp_path, capsys) -> None:
    """Tiny encoders on real FSDD and COCO pairs, through the command line, then --resume of a finished run."""
    import json

    recipe = tiny_recipe("slava", epochs=2).to_dict()
    recipe["data"] = {"sources": ["fsdd", "coco"], "fsdd_max": 24}
    recipe["model"]["image"]["max_patches"] = 64
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(recipe))
    parser = _train_parser()
    out = tmp_path / "run"
    args = parser.parse_args(["train", "--recipe", str(path), "--out", str(out), "--no-progress"])
    assert args.func(args) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[0])
    assert report["epochs"] == 2 and report["steps"] > 0
    model = load_model(out / "best")
    vectors = model.encode("text", ["seven", "a cat on a sofa"])
    assert vectors.shape == (2, 8) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    from bgtai.cli import CommandError

    with pytest.raises(CommandError, match="resume"):
        args.func(args)
    again = parser.parse_args(["train", "--recipe", str(path), "--out", str(out), "--no-progress", "--resume"])
    assert again.func(again) == 0


def test_pairs_with_unreadable_inputs_are_dropped_with_a_warning(tmp_path) -> None:
    import soundfile as sf

    from bgtai.data.pairs import Pair

    good = tmp_path / "good.wav"
    sf.write(good, np.random.default_rng(0).standard_normal(8000).astype(np.float32) * 0.1, 16000)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not audio")
    pairs = [
        Pair("made-up", "test", "g1", audio=good, caption="a hiss", label="hiss"),
        Pair("made-up", "test", "g2", audio=broken, caption="a click"),
        Pair("made-up", "test", "g3", caption="a hum", audio=good),
    ]
    front_ends = {"text": "tiny-text", "audio": "tiny-audio", "image": "tiny-image"}
    with pytest.warns(UserWarning, match="broken.wav"):
        data = TrainData.from_pairs(pairs, front_ends, progress=False)
    assert len(data) == 2 and data.groups == ["g1", "g3"]
    assert data.rows["audio"].tolist() == [0, 0]  # the same clip, embedded once
    assert data.labels[0] != NO_LABEL and data.labels[1] == NO_LABEL
