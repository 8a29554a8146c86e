"""Concept bridges on a tiny made-up vocabulary (tiny encoders, no real weights)."""

from __future__ import annotations

import numpy as np
import pytest

from bgtai import embed
from bgtai.bridges import VOCABULARIES, BridgeSpace, Vocabulary, concept_mix, label_vectors
from bgtai.bridges.vocabulary import prompts_for

TOY_NAMES = [f"thing{i}" for i in range(16)]  # tiny-audio gives 16 numbers per clip: one "score" per name


@pytest.fixture
def toy_vocabulary():
    vocabulary = Vocabulary("toy", "tiny-audio", "audio", lambda: list(TOY_NAMES), ("{}", "the sound of {}"))
    VOCABULARIES["toy"] = vocabulary
    label_vectors.cache_clear()
    yield vocabulary
    del VOCABULARIES["toy"]
    label_vectors.cache_clear()


def test_concept_mix_keeps_only_the_top_classes_weighted_by_score():
    labels = np.eye(4)
    scores = np.array([[0.6, 0.3, 0.1, 0.0], [0.0, 0.0, 0.0, 0.0]])
    mixed = concept_mix(scores, labels, top_k=2)
    expected = np.array([0.6, 0.3, 0.0, 0.0]) / np.hypot(0.6, 0.3)
    np.testing.assert_allclose(mixed[0], expected, atol=1e-6)
    # all-zero scores: the plain mean of its (tied) top labels, still a unit vector
    assert np.isclose(np.linalg.norm(mixed[1]), 1.0)
    assert np.count_nonzero(mixed[1]) == 2


def test_concept_mix_one_hot_scores_give_the_label_vector():
    rng = np.random.default_rng(0)
    labels = rng.normal(size=(5, 8))
    labels /= np.linalg.norm(labels, axis=1, keepdims=True)
    mixed = concept_mix(np.eye(5), labels, top_k=3)
    np.testing.assert_allclose(mixed, labels, atol=1e-6)


def test_concept_mix_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="do not match"):
        concept_mix(np.ones((2, 3)), np.ones((4, 8)))


def test_label_vectors_are_the_mean_of_each_names_prompts(toy_vocabulary):
    vectors = label_vectors("toy", "tiny-text")
    prompts = prompts_for(toy_vocabulary)
    assert prompts[3] == ["thing3", "the sound of thing3"]
    expected = embed.encode("text", prompts[3], encoder="tiny-text").mean(axis=0)
    np.testing.assert_allclose(vectors[3], expected / np.linalg.norm(expected), atol=1e-5)
    assert vectors.shape == (16, 16)


def test_bridge_space_puts_audio_on_the_mix_of_its_named_classes(toy_vocabulary):
    space = BridgeSpace(top_k=3, text_encoder="tiny-text", vocabularies={"audio": "toy"}, progress=False)
    clips = [np.sin(np.linspace(0, f, 16000)).astype(np.float32) for f in (100.0, 900.0)]
    inputs = [(clip, 16000) for clip in clips]
    vectors = space.encode("audio", inputs)
    scores = embed.encode("audio", inputs, encoder="tiny-audio", normalize=False)
    np.testing.assert_allclose(vectors, concept_mix(scores, label_vectors("toy", "tiny-text"), 3), atol=1e-6)
    assert vectors.dtype == np.float32 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    text = space.encode("text", ["thing1"])
    np.testing.assert_allclose(text, embed.encode("text", ["thing1"], encoder="tiny-text"), atol=1e-6)
    with pytest.raises(ValueError, match="not 'image'"):
        space.encode("image", [np.zeros((8, 8, 3), np.uint8)])


def test_numbers_in_transcripts_become_words():
    from bgtai.bridges.space import numbers_as_words

    assert numbers_as_words("7 .") == "seven ."
    assert numbers_as_words("press 1 then 42") == "press one then forty-two"
    assert numbers_as_words("mp3 files") == "mp3 files"  # only whole numbers
