"""A made-up dataset and a made-up task, registered here and nowhere else, go through pairs, eval and the report.

The dataset ("tones": sine tones of three pitches, each with a caption, a label and a fold) is one
`register_dataset` call: its training pairs come from the same `PairOptions`/`build_pairs` path a
recipe's `data` section takes, its test items (hashed split) never become pairs, and the registered
`zeroshot` and `probe` tasks score it. The task ("centroid") is one `register_task` call plus its
command-line module, and `bgtai eval` and the report find it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from bgtai.data.item import Dataset, Item
from bgtai.data.pair_tools import class_caption_pairs, folder, trainable
from bgtai.data.pairs import Pair, PairOptions, build_pairs
from bgtai.data.registry import (
    ClassificationProtocol,
    DatasetEntry,
    SplitRule,
    dataset_entry,
    dataset_names,
    pair_sources,
    register_dataset,
    unregister_dataset,
)
from bgtai.data.splits import HASHED_TEST_FRACTION, ids_in_test
from bgtai.data.tables import dataset_root, read_table
from bgtai.eval.tasks import EvalTask, TaskLayout, eval_task, register_task, task_names, unregister_task

RATE = 8000
PITCHES = {"low": 220.0, "middle": 440.0, "high": 880.0}
TAKES = 6  # recordings of each pitch; takes 0-2 are fold 1, 3-5 fold 2


def load_tones(root: Path | None = None) -> Dataset:
    """`tones/tones.csv` (file, caption, pitch, fold) and the WAV files it names."""
    base = dataset_root(root, "tones")
    items = [
        Item(
            id=Path(row.values["file"]).stem,
            audio=base / row.values["file"],
            texts=(row.values["caption"],),
            label=row.values["pitch"],
            fold=int(row.values["fold"]),
        )
        for row in read_table(base / "tones.csv", ("file", "caption", "pitch", "fold")).rows
    ]
    return Dataset("tones", base, items, classes=sorted(PITCHES))


def tone_pairs(options: PairOptions, root: Path | None) -> Iterable[Pair]:
    """Each tone with its own caption; test tones (the hashed split) are left out."""
    for item in trainable(options, "tones", load_tones(folder(root, "tones"))):
        yield Pair(
            "tone caption", "tones", f"tones:{item.id}", audio=item.audio, caption=item.texts[0], label=item.label
        )


TONES = DatasetEntry(
    name="tones",
    folder="tones",
    display="Tones",
    loader=load_tones,
    split=SplitRule("hashed", "content-grouped tones, hashed 30 % test", shared="tones sharing a sound or caption"),
    protocol=ClassificationProtocol(
        name="tones-folds-1-2",
        display="Tones folds 1/2",
        zeroshot_name="tones-fold2-zeroshot-3way",
        zeroshot_key="tones-fold2",
        zeroshot_display="Tones fold 2",
        probe_test_folds=(1, 2),
        zeroshot_folds=(2,),
    ),
    pairs={"tones": tone_pairs, "tones_classes": class_caption_pairs("tones")},
)


def _write_tones(root: Path) -> None:
    base = root / "tones"
    base.mkdir(parents=True)
    rows = ["file,caption,pitch,fold"]
    time = np.arange(RATE // 2) / RATE
    for pitch, hertz in PITCHES.items():
        for take in range(TAKES):
            name = f"{pitch}-{take}.wav"
            # each take a little louder: no two files decode alike, so each is a content group of its own
            sf.write(base / name, (0.1 + 0.05 * take) * np.sin(2 * np.pi * hertz * time), RATE, subtype="PCM_16")
            rows.append(f"{name},a {pitch} pitched beep (take {take}),{pitch},{1 + take // 3}")
    (base / "tones.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def _peak(path: Path) -> float:
    samples, rate = sf.read(path, dtype="float64")
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.argmax(spectrum) * rate / len(samples))


class PitchModel:
    """A tiny joint space: a tone maps to the one-hot of its nearest pitch, a text to the pitch word it names."""

    def encode(self, modality: str, inputs: Sequence[Any]) -> np.ndarray:
        names = list(PITCHES)
        if modality == "audio":
            index = [int(np.argmin([abs(_peak(Path(p)) - h) for h in PITCHES.values()])) for p in inputs]
        else:
            index = [next(i for i, n in enumerate(names) if n in str(text)) for text in inputs]
        return np.eye(len(names))[index] + 0.01  # no all-zero vector


@pytest.fixture
def tones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    _write_tones(tmp_path / "data")
    monkeypatch.setenv("BGTAI_DATA", str(tmp_path / "data"))  # the data root every default loader reads
    register_dataset(TONES)
    try:
        yield tmp_path / "data"
    finally:
        unregister_dataset("tones")


def test_a_registered_dataset_is_known_everywhere_by_its_name(tones: Path) -> None:
    assert "tones" in dataset_names() and dataset_entry("tones") is TONES
    assert {"tones", "tones_classes"} <= set(pair_sources())
    assert "tones" in eval_task("zeroshot").datasets() and "tones" in eval_task("probe").datasets()
    assert len(dataset_entry("tones").load()) == len(PITCHES) * TAKES


def test_training_pairs_from_a_recipe_data_section_leave_the_test_split_out(tones: Path) -> None:
    from bgtai.train.recipes import load_recipe

    recipe_file = tones.parent / "tones-recipe.json"
    recipe_file.write_text(json.dumps({"name": "tones", "data": {"sources": ["tones"], "hold_out": []}}))
    recipe = load_recipe(recipe_file, ['data.sources=["tones", "tones_classes"]'])
    pairs = build_pairs(PairOptions.from_dict(recipe.data))  # what the trainer does with `recipe.data`

    items = load_tones()
    test = ids_in_test("tones", items.items)
    assert 0 < len(test) < len(items)  # about HASHED_TEST_FRACTION of the tones
    assert abs(len(test) / len(items) - HASHED_TEST_FRACTION) < 0.3
    test_audio = {item.audio for item in items if item.id in test}
    own = [p for p in pairs if p.how == "tone caption"]
    classes = [p for p in pairs if p.how == "class caption"]
    assert len(own) == len(classes) == len(items) - len(test)
    assert not {p.audio for p in pairs} & test_audio
    assert all(p.label in PITCHES and p.caption and p.label in p.caption for p in own)
    assert {p.label for p in classes} == {f"class:{pitch}" for pitch in PITCHES}
    # hold_out works on the new source like on any other
    held = build_pairs(PairOptions(sources=["tones", "tones_classes"], hold_out=["tones_classes"]))
    assert [p.how for p in held] == ["tone caption"] * len(own)


def test_the_registered_zeroshot_and_probe_tasks_score_the_made_up_dataset(tones: Path) -> None:
    from bgtai.eval.datasets import load_classification_set
    from bgtai.eval.report_tables import dataset_label

    result, data = eval_task("zeroshot").run(PitchModel(), "tones")  # type: ignore[misc]
    assert len(data.labels) == len(PITCHES) * TAKES // 2 and set(data.folds.tolist()) == {2}  # fold 2 only
    assert result.metrics["top1"] == 1.0 and result.classes == sorted(PITCHES)
    assert dataset_label("tones-fold2") == "Tones fold 2" and dataset_label("tones") == "Tones folds 1/2"

    every = load_classification_set("tones")
    features = PitchModel().encode("audio", every.inputs)
    probe = eval_task("probe").run(every, features)  # type: ignore[misc]
    assert probe.fold_names == ["fold1", "fold2"] and probe.mean == 1.0


def test_bgtai_eval_offers_the_made_up_dataset(tones: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bgtai.cli.main import main
    from bgtai.eval.datasets import load_classification_set

    every = load_classification_set("tones")
    npz = tones.parent / "tones.npz"
    np.savez(
        npz,
        features=PitchModel().encode("audio", every.inputs),
        labels=every.labels,
        groups=every.groups,
        folds=every.folds,
    )
    assert main(["eval", "probe", "--dataset", "tones", "--features", str(npz)]) == 0
    printed = capsys.readouterr().out
    assert "Tones folds 1/2 (tones-folds-1-2)" in printed and "accuracy 1.0000" in printed


CENTROID_CLI = """
from bgtai.eval.tasks import eval_task

def register(subparsers):
    task = eval_task("centroid")
    parser = subparsers.add_parser("centroid", help=task.help)
    parser.add_argument("--dataset", choices=task.datasets(), required=True)
    parser.set_defaults(func=lambda args: print(f"centroid {task.run(args.dataset):.4f}") or 0)
"""


def _centroid_distance(dataset: str) -> float:
    """Mean distance of each clip's pitch from its class's mean pitch (Hz): a made-up evaluation."""
    from bgtai.eval.datasets import load_classification_set

    data = load_classification_set(dataset)
    peaks = np.array([_peak(Path(p)) for p in data.inputs])
    return float(np.mean([abs(peaks[i] - peaks[data.labels == data.labels[i]].mean()) for i in range(len(peaks))]))


def test_a_registered_task_is_a_bgtai_eval_command_and_a_report_page(
    tones: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bgtai.cli.main import main
    from bgtai.eval.report import build_report
    from bgtai.eval.results import EvalRecord, write_result

    (tmp_path / "centroid_cli.py").write_text(CENTROID_CLI)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "centroid_cli", raising=False)
    layout = TaskLayout("Pitch spread around each class", ("tones",), ("spread",))
    register_task(EvalTask("centroid", "pitch spread", lambda: ("tones",), _centroid_distance, "centroid_cli", layout))
    try:
        assert task_names()[-1] == "centroid"
        assert main(["eval", "centroid", "--dataset", "tones"]) == 0
        assert capsys.readouterr().out.strip() == "centroid 0.0000"  # every take of a pitch peaks alike
        results = tmp_path / "results"
        write_result(
            EvalRecord("centroid", "tones", "made-up", "none", {"spread": 0.0}, "bgtai eval centroid"),
            results / "c.json",
        )
        report = build_report(results, tmp_path / "RESULTS.md")
        page = report.pages["centroid.md"]
        assert "# Pitch spread around each class (`centroid`)" in page and "Tones folds 1/2" in page
    finally:
        unregister_task("centroid")
    assert "centroid" not in task_names()


def test_registration_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="unknown dataset 'nope'; known: esc50, urbansound8k"):
        dataset_entry("nope")
    with pytest.raises(ValueError, match="'esc50' is already registered"):
        register_dataset(DatasetEntry("esc50", "elsewhere", "ESC-50 again", loader=load_tones))
    with pytest.raises(ValueError, match="pair source.*coco.*by coco"):
        register_dataset(DatasetEntry("coco2", "coco2", "COCO again", loader=load_tones, pairs={"coco": tone_pairs}))
    assert "coco2" not in dataset_names()
    with pytest.raises(ValueError, match="exactly one of loader"):
        DatasetEntry("empty", "empty", "nothing")
    with pytest.raises(ValueError, match="needs is_test"):
        SplitRule("official")
    with pytest.raises(ValueError, match=r"unknown pair sources \['tones'\]; known: esc50"):
        PairOptions(sources=["tones"])
    with pytest.raises(ValueError, match="unknown evaluation task 'nope'; known: probe, zeroshot, retrieval"):
        eval_task("nope")
    with pytest.raises(ValueError, match="'zeroshot' is already registered"):
        register_task(EvalTask("zeroshot", "again", tuple, None, "bgtai.cli.eval_zeroshot"))
    with pytest.raises(ValueError, match="clotho has no classification protocol; classification sets: esc50"):
        from bgtai.eval.datasets import classification_protocol

        classification_protocol("clotho")


def test_registering_twice_is_an_error_and_unregistering_forgets(tmp_path: Path) -> None:
    register_dataset(TONES)
    try:
        with pytest.raises(ValueError, match="'tones' is already registered"):
            register_dataset(TONES)
    finally:
        unregister_dataset("tones")
    assert "tones" not in dataset_names() and "tones" not in pair_sources()
    with pytest.raises(ValueError, match="unknown dataset 'tones'"):
        unregister_dataset("tones")


def test_a_pair_set_of_the_made_up_dataset_is_scored_by_the_registered_retrieval_task(tones: Path) -> None:
    from bgtai.eval.retrieval import BUILTIN_PAIRS, captioned_pairs, register_pair_set, select_split

    def build(split: Any, fold: int) -> Any:
        items, split_name = select_split("tones", load_tones(), split, fold)
        return captioned_pairs("tones-sound-caption", items, "audio", "sound", f"tones; {split_name}")

    register_pair_set("tones-sound-caption", build)
    try:
        assert "tones-sound-caption" in eval_task("retrieval").datasets()
        with pytest.raises(ValueError, match="already registered"):
            register_pair_set("tones-sound-caption", build)
        pairs, results = eval_task("retrieval").run(PitchModel(), "tones-sound-caption")  # type: ignore[misc]
        test = ids_in_test("tones", load_tones().items)
        assert len(pairs.a.inputs) == len(test) and "content-grouped tones" in pairs.description
        assert results["A->T"].scored == len(test) and 0 < results["A->T"].metrics["R@10"] <= 1
    finally:
        BUILTIN_PAIRS.pop("tones-sound-caption", None)
