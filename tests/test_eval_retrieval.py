"""Retrieval pair sets: duplicate texts merged, both directions scored, several answers per query."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bgtai.eval.retrieval import (
    PairSet,
    Side,
    direction_label,
    evaluate_pairs,
    pairs_from_texts,
)


class DigitEmbedder:
    """Audio 'utt-<d>-<n>' and the text '<d>' both map to the one-hot of digit d."""

    def encode(self, modality: str, inputs: Sequence[Any]) -> np.ndarray:
        digits = [int(x.split("-")[1]) if modality == "audio" else int(x) for x in inputs]
        return np.eye(10)[digits] + 0.01


def _digits() -> PairSet:
    utterances = [f"utt-{d}-{n}" for d in range(10) for n in range(3)]
    texts, links = pairs_from_texts(utterances, [[u.split("-")[1]] for u in utterances])
    return PairSet("digits", Side("speech", "audio", utterances), Side("transcript", "text", texts), links, "class")


def test_identical_texts_become_one_gallery_item() -> None:
    texts, links = pairs_from_texts(["a", "b", "c"], [["x", "y"], ["y"], ["z", "x"]])
    assert texts == ["x", "y", "z"]
    assert links == [{0, 1}, {1}, {2, 0}]


def test_both_directions_with_many_correct_items() -> None:
    pairs = _digits()
    assert len(pairs.b.inputs) == 10
    results = evaluate_pairs(DigitEmbedder(), pairs)
    assert set(results) == {"A->T", "T->A"}
    for result in results.values():
        assert result.metrics["R@1"] == 1.0 and result.metrics["mAP@10"] == 1.0
    # text -> audio: each digit has 3 correct recordings
    assert results["T->A"].scored == 10 and results["A->T"].scored == 30


def test_a_wrong_model_scores_low() -> None:
    class Shifted(DigitEmbedder):
        def encode(self, modality: str, inputs: Sequence[Any]) -> np.ndarray:
            vectors = super().encode(modality, inputs)
            return np.roll(vectors, 1, axis=1) if modality == "text" else vectors

    results = evaluate_pairs(Shifted(), _digits())
    assert results["A->T"].metrics["R@1"] == 0.0


def test_direction_labels_and_link_count_check() -> None:
    assert direction_label(Side("sound", "audio", []), Side("picture", "image", [])) == "A->I"
    assert direction_label(Side("speech", "audio", []), Side("sound", "audio", [])) == "speech->sound"
    with pytest.raises(ValueError, match="link sets"):
        PairSet("bad", Side("s", "audio", [1, 2]), Side("t", "text", ["x"]), [{0}])


def test_captioned_pairs_skip_items_without_input_or_text_and_merge_captions() -> None:
    from pathlib import Path

    from bgtai.data import Item
    from bgtai.eval.retrieval import captioned_pairs

    items = [
        Item(id="a", image=Path("a.jpg"), texts=("a cat", "a small cat")),
        Item(id="b", image=Path("b.jpg"), texts=("a cat", "a dog")),
        Item(id="c", image=None, texts=("lost",)),
        Item(id="d", image=Path("d.jpg")),
    ]
    pairs = captioned_pairs("toy", items, "image", "picture", "toy set")
    assert pairs.a.inputs == [Path("a.jpg"), Path("b.jpg")]
    assert pairs.b.inputs == ["a cat", "a small cat", "a dog"]
    assert pairs.links == [{0, 1}, {0, 2}]
    assert pairs.reverse_links() == [{0, 1}, {0}, {1}]
    assert direction_label(pairs.a, pairs.b) == "I->T"


def test_retrieval_scores_the_test_fold_the_model_left_out(tmp_path: Path) -> None:
    import json

    from bgtai.cli import CommandError
    from bgtai.cli.eval import _test_fold
    from bgtai.eval.embedders import ModelUnavailableError

    model = tmp_path / "best"
    model.mkdir()
    (model / "training.json").write_text(json.dumps({"recipe": {"name": "slava-av", "data": {"test_fold": 1}}}))
    assert _test_fold(str(model), None, "test") == 1
    assert _test_fold(str(model), 1, "test") == 1
    with pytest.raises(CommandError, match="data.test_fold=1: test fold 0 holds its training items"):
        _test_fold(str(model), 0, "test")
    assert _test_fold(str(model), 0, "all") == 0  # every item anyway: nothing is claimed held out
    assert _test_fold("aisfx", None, "test") == 0 and _test_fold("aisfx", 2, "test") == 2  # an encoder trained on none
    with pytest.raises(CommandError, match="--test-fold: test fold 5"):
        _test_fold("aisfx", 5, "test")
    (model / "training.json").write_text(json.dumps({"recipe": {"name": "slava-av", "data": {"test_fold": "one"}}}))
    with pytest.raises(ModelUnavailableError, match="data.test_fold is 'one'"):
        _test_fold(str(model), None, "test")
