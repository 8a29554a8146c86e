"""The rule glosser on hand-written sentences (ASLG-PC12 conventions), and the gloss scores."""

from __future__ import annotations

import pytest

from bgtai.gloss.metrics import gloss_scores, rouge_l, word_error_rate
from bgtai.gloss.rules import RuleGlosser
from bgtai.gloss.vocab import Vocab, gloss_de_spelling


@pytest.mark.parametrize(
    ("text", "gloss"),
    [
        ("we are far from achieving this objective .", "X-WE BE DESC-FAR FROM ACHIEVE THIS OBJECTIVE ."),
        ("the next item is the vote .", "NEXT ITEM BE VOTE ."),
        ("you did not do so .", "X-YOU DO DESC-NOT DO DESC-SO ."),
        ("a friend challenges me", "FRIEND CHALLENGE X-I"),
        ("I sent the documents", "X-I SEND DOCUMENT"),
        ("the union's rural policy", "UNION X-POSS DESC-RURAL POLICY"),
        ("we would like to thank them", "X-WE WOULD LIKE TO THANK X-Y"),
        ("in 2010 the council of ministers met", "IN 2010 COUNCIL MINISTER MEET"),
    ],
)
def test_aslg_conventions(text: str, gloss: str) -> None:
    assert RuleGlosser(aslg_artefacts=True).gloss(text) == gloss


def test_textbook_style_drops_copulas_and_auxiliaries_and_keeps_words_whole() -> None:
    glosser = RuleGlosser(drop_copulas=True, drop_auxiliaries=True)
    assert glosser.gloss("they are working together") == "X-THEY WORK DESC-TOGETHER"
    assert glosser.gloss("she has been happy") == "X-SHE DESC-HAPPY"


def test_scores_of_a_perfect_and_a_partial_output() -> None:
    references = ["X-WE BE DESC-FAR FROM HOME", "VOTE BE NEXT"]
    perfect = gloss_scores(references, references)
    assert perfect["bleu4"] == pytest.approx(100.0) and perfect["rouge_l"] == pytest.approx(100.0)
    assert perfect["wer"] == 0.0
    assert word_error_rate(["X-WE BE HOME", "VOTE NEXT"], references) == pytest.approx(3 / 8)
    assert rouge_l(["VOTE NEXT"], ["VOTE BE NEXT"]) == pytest.approx(100 * 2 * 1 * (2 / 3) / (1 + 2 / 3))
    worse = gloss_scores(["X-WE BE HOME", "VOTE NEXT"], references)
    assert worse["bleu1"] > worse["bleu4"]


def test_bpe_vocabulary_restores_words_and_handles_unseen_ones() -> None:
    texts = ["WETTER MORGEN REGEN", "MORGEN SONNE loc-NORD", "REGEN REGEN WETTER"] * 5
    vocab = Vocab.build(texts, kind="bpe", size=60)
    assert vocab.decode(vocab.encode("MORGEN REGEN loc-NORD")) == "MORGEN REGEN loc-NORD"
    round_trip = Vocab.from_json(vocab.to_json())
    assert round_trip.encode("SONNE WETTER") == vocab.encode("SONNE WETTER")
    word = Vocab.build(texts, kind="word")
    assert word.decode(word.encode("WETTER SCHNEE")) == "WETTER"  # the unseen word is <unk>, left out


def test_gloss_spelling_writes_german_as_phoenix_glosses_do() -> None:
    assert gloss_de_spelling("überschwemmungen im süden , größer") == "UEBERSCHWEMMUNGEN IM SUEDEN , GROESSER"
    source, target = Vocab.build_shared(["regen im süden"], ["REGEN SUED"], "gloss-de", kind="word")
    assert source.encode("süden") == target.encode("SUEDEN") != target.encode("SUED")
    # the spelling travels with the vocabulary, so a loaded model spells its input the same way
    assert Vocab.from_json(source.to_json()).encode("regen") == target.encode("REGEN")
    with pytest.raises(ValueError, match="unknown spelling"):
        Vocab(source.tokenizer, "word", "klingon")
