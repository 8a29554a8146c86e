"""Zero-shot classification checked with hand-made joint embedders whose answers are known."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from bgtai.eval.zeroshot import (
    JointEmbedder,
    class_prompts,
    clean_class_name,
    zero_shot_classify,
)

CLASSES = [f"class_{i:02d}" for i in range(50)]


class KeywordEmbedder:
    """Text -> one-hot of the class name it mentions; audio (a class index) -> that class's one-hot,
    or, when shuffled, a fixed random class unrelated to the true one."""

    def __init__(self, shuffled: bool = False, seed: int = 0) -> None:
        self.shuffled = shuffled
        self.rng = np.random.default_rng(seed)

    def encode(self, modality: str, inputs: Sequence[Any]) -> np.ndarray:
        out = np.zeros((len(inputs), len(CLASSES)))
        for row, item in enumerate(inputs):
            if modality == "text":
                hits = [i for i, c in enumerate(CLASSES) if clean_class_name(c) in item]
                assert len(hits) == 1, item
                out[row, hits[0]] = 1.0
            else:
                out[row, int(self.rng.integers(len(CLASSES))) if self.shuffled else int(item)] = 1.0
        return out + 0.01  # no all-zero rows; does not change the ranking


def _data() -> tuple[list[int], list[str]]:
    inputs = [i % len(CLASSES) for i in range(1000)]
    return inputs, [CLASSES[i] for i in inputs]


def test_perfect_model_scores_one() -> None:
    model = KeywordEmbedder()
    assert isinstance(model, JointEmbedder)
    inputs, labels = _data()
    result = zero_shot_classify(model, inputs, labels, classes=CLASSES)
    assert result.metrics["top1"] == 1.0 and result.metrics["top5"] == 1.0
    assert all(v == 1.0 for v in result.per_class.values())


def test_shuffled_model_is_near_chance() -> None:
    inputs, labels = _data()
    result = zero_shot_classify(KeywordEmbedder(shuffled=True), inputs, labels, classes=CLASSES)
    # chance is 1/50 = 0.02; 1000 items put 0.06 far outside what chance produces
    assert result.metrics["top1"] < 0.06
    # ties among the 49 wrong classes count against top-5: a miss at top-1 stays a miss
    assert result.metrics["top5"] == pytest.approx(result.metrics["top1"])


def test_constant_model_gets_no_credit_from_ties() -> None:
    class Constant:
        def encode(self, modality: str, inputs: Sequence[Any]) -> np.ndarray:
            return np.ones((len(inputs), 4))

    result = zero_shot_classify(Constant(), [0, 1, 2], ["a", "b", "c"])
    assert result.metrics["top1"] == 0.0


def test_class_names_are_cleaned_and_synonyms_expand_prompts() -> None:
    assert clean_class_name("dog_bark") == "dog bark"
    assert clean_class_name("car_horn") == "car horn"
    assert clean_class_name("Crackling-fire") == "crackling fire"
    assert clean_class_name("airConditioner") == "air conditioner"
    prompts = class_prompts(["dog_bark"], templates=["the sound of a {}"], synonyms={"dog_bark": ["dog barking"]})
    assert prompts == [["the sound of a dog bark", "the sound of a dog barking"]]


def test_labels_outside_the_classes_are_refused() -> None:
    with pytest.raises(ValueError, match="not among the classes"):
        zero_shot_classify(KeywordEmbedder(), [0], ["unknown"], classes=CLASSES)
