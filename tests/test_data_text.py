"""Parallel text, the gloss corpora's file layout, and the BBC summary alignment."""

from __future__ import annotations

from pathlib import Path

import pytest

from bgtai.data import count_alignment, load_bbc_summary, load_gloss, load_parallel_text
from bgtai.data.bbc_summary import align_summary, parse_article, split_sentences
from bgtai.data.gloss_conventions import phoenix_gloss
from bgtai.errors import BadInputError


def test_parallel_text_pairs_lines_and_keeps_a_last_line_without_newline(tmp_path: Path) -> None:
    (tmp_path / "a.de").write_text("guten tag .\n\nbis morgen .", encoding="utf-8")
    (tmp_path / "a.gloss").write_text("TAG GUT\nNICHTS\nMORGEN\n", encoding="utf-8")
    pairs = load_parallel_text(tmp_path / "a.de", tmp_path / "a.gloss")
    assert [tuple(p) for p in pairs] == [("guten tag .", "TAG GUT"), ("", "NICHTS"), ("bis morgen .", "MORGEN")]
    assert pairs[0].source == "guten tag ." and pairs[0].target == "TAG GUT"


def test_parallel_text_unequal_line_counts_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a.en").write_text("one\ntwo\n", encoding="utf-8")
    (tmp_path / "a.gloss").write_text("ONE\n", encoding="utf-8")
    with pytest.raises(BadInputError, match=r"a\.en: has 2 lines but its parallel file .*a\.gloss has 1"):
        load_parallel_text(tmp_path / "a.en", tmp_path / "a.gloss")


def test_load_gloss_reads_the_corpus_file_names(tmp_path: Path) -> None:
    gloss = tmp_path / "gloss"
    gloss.mkdir()
    (gloss / "aslg.test.en").write_text("the next item is the vote .\n", encoding="utf-8")
    (gloss / "aslg.test.gloss.asl").write_text("NEXT ITEM BE VOTE .\n", encoding="utf-8")
    (gloss / "phoenix2014T.train.de").write_text("am tag regen .\n", encoding="utf-8")
    (gloss / "phoenix2014T.train.gloss").write_text("TAG REGEN\n", encoding="utf-8")
    assert load_gloss("aslg", "test", root=gloss) == [("the next item is the vote .", "NEXT ITEM BE VOTE .")]
    assert load_gloss("phoenix", "train", root=gloss) == [("am tag regen .", "TAG REGEN")]
    (gloss / "phoenix2014T.dev.de").write_text("regen im norden .\n", encoding="utf-8")
    (gloss / "phoenix2014T.dev.gloss").write_text("__ON__ REGEN loc-NORD __OFF__\n", encoding="utf-8")
    assert load_gloss("phoenix", "dev", root=gloss) == [("regen im norden .", "REGEN NORD")]
    assert load_gloss("phoenix", "dev", root=gloss, raw=True)[0].target == "__ON__ REGEN loc-NORD __OFF__"
    with pytest.raises(ValueError, match="splits dev, test"):
        load_gloss("aslg", "train", root=gloss)
    with pytest.raises(BadInputError, match="aslg.dev.en"):
        load_gloss("aslg", "dev", root=gloss)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("__ON__ LIEB ZUSCHAUER ABEND __OFF__", "LIEB ZUSCHAUER ABEND"),
        ("WINTER GESTERN loc-NORD SCHOTTLAND loc-REGION", "WINTER GESTERN NORD SCHOTTLAND REGION"),
        ("cl-KOMMEN neg-cl-KOMMEN loc-ORT-PLUSPLUS", "KOMMEN neg-KOMMEN ORT"),
        ("__??FALSCH:AUSSPRACHE__ __PU__ __EMP__", ""),
        # the prefixes the test split keeps, and words that merely contain the letters
        (
            "neg-HABEN poss-EUCH negalp-AUCH HABEN2 O+P+H+E+L+I+A KLAR",
            "neg-HABEN poss-EUCH negalp-AUCH HABEN2 O+P+H+E+L+I+A KLAR",
        ),
    ],
)
def test_phoenix_gloss_takes_the_test_convention(raw: str, clean: str) -> None:
    assert phoenix_gloss(raw) == clean


def test_split_sentences_keeps_numbers_and_closing_quotes() -> None:
    text = 'Profits rose to $1.13bn (£600m). "We are pleased," he said. It grew! " Next?'
    assert split_sentences(text) == [
        "Profits rose to $1.13bn (£600m).",
        '"We are pleased," he said.',
        'It grew! "',
        "Next?",
    ]


def test_split_sentences_keeps_stray_closing_punctuation_and_spaced_ellipses_in_their_sentence() -> None:
    # real cases (entertainment/075, politics/071, sport/450): a splitter cutting after every
    # ". " makes ")." , '"' and "." sentences of their own, which no summary repeats
    text = 'and Eva Birthistle (Ae Fond Kiss... ). It was a strange match . . . "Too little time to look. " He left.'
    article = split_sentences(text)
    assert article == [
        "and Eva Birthistle (Ae Fond Kiss... ).",
        "It was a strange match . . .",
        '"Too little time to look. "',
        "He left.",
    ]
    # the summary cut the ellipsis: a fragment of its article sentence, still found
    sentences, sources = align_summary(
        article, "He left.It was a strange match .and Eva Birthistle (Ae Fond Kiss... )."
    )
    assert sentences == ["He left.", "It was a strange match .", "and Eva Birthistle (Ae Fond Kiss... )."]
    assert sources == [3, 1, 0]


ARTICLE = """Ad sales boost profit

Quarterly profits jumped 76% to $1.13bn. The firm benefited from sales.

TimeWarner said sales rose 2% to $11.1bn from $10.9bn. "Was it strong?" he said. Brett Lock of OutRage!'s group said no.
"""


def test_align_summary_splits_glued_sentences_and_finds_out_of_order_sources() -> None:
    title, article = parse_article(ARTICLE)
    assert title == "Ad sales boost profit" and len(article) == 6
    summary = "TimeWarner said sales rose 2% to $11.1bn from $10.9bn.Quarterly profits jumped 76% to $1.13bn.he said."
    sentences, sources = align_summary(article, summary)
    assert sentences == [
        "TimeWarner said sales rose 2% to $11.1bn from $10.9bn.",
        "Quarterly profits jumped 76% to $1.13bn.",
        "he said.",
    ]
    assert sources == [2, 0, 4]  # not in article order; the upstream splitter cut '?" he said.'


def test_align_summary_fragment_after_exclamation_and_unmatched_text() -> None:
    _, article = parse_article(ARTICLE)
    sentences, sources = align_summary(article, "'s group said no.This is not in the article.")
    assert sentences == ["'s group said no.", "This is not in the article."]
    assert sources == [5, None]


def make_bbc(root: Path) -> Path:
    for topic, number, summary in (
        (
            "business",
            "001",
            "TimeWarner said sales rose 2% to $11.1bn from $10.9bn.Quarterly profits jumped 76% to $1.13bn.",
        ),
        ("tech", "001", "Quarterly profits jumped 76% to $1.13bn.The firm benefited from sales."),
    ):
        (root / "News Articles" / topic).mkdir(parents=True, exist_ok=True)
        (root / "Summaries" / topic).mkdir(parents=True, exist_ok=True)
        (root / "News Articles" / topic / f"{number}.txt").write_text(ARTICLE, encoding="utf-8")
        (root / "Summaries" / topic / f"{number}.txt").write_text(summary, encoding="utf-8")
    return root


def test_load_bbc_summary_counts_exact_and_monotonic_pairs(tmp_path: Path) -> None:
    pairs = load_bbc_summary(make_bbc(tmp_path / "bbc"))
    assert [p.id for p in pairs] == ["business/001", "tech/001"]
    assert [p.source for p in pairs] == [(2, 0), (0, 1)]
    counts = count_alignment(pairs)
    assert (counts.pairs, counts.matched_pairs, counts.exact_pairs, counts.monotonic_pairs) == (2, 2, 2, 1)
    assert counts.summary_sentences == 4 and counts.exact_sentences == 4


def test_bbc_cp1252_article_and_missing_summary(tmp_path: Path) -> None:
    root = make_bbc(tmp_path / "bbc")
    (root / "News Articles" / "tech" / "002.txt").write_bytes(b"Title\n\nA \xa315.8m signing. More.\n")
    (root / "Summaries" / "tech" / "002.txt").write_text("A £15.8m signing.", encoding="utf-8")
    pairs = load_bbc_summary(root, topics=("tech",))
    assert pairs[-1].source == (0,) and pairs[-1].article[0] == "A £15.8m signing."
    (root / "News Articles" / "tech" / "003.txt").write_text("T\n\nBody.\n", encoding="utf-8")
    with pytest.raises(BadInputError, match=r"Summaries/tech/003\.txt"):
        load_bbc_summary(root, topics=("tech",))
