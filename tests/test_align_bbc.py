"""BBC summary matching on files made in the dataset's layout, and the evaluation's scoring."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from bgtai.align import evaluate as ev
from bgtai.align.bbc import alignment_pair, load_bbc_alignment
from bgtai.data.bbc_summary import SummaryPair

ARTICLE = """Big title line

Profits rose 5% to $1.1bn. The firm said "sales were strong." Shares fell.

Analysts were surprised! Costs also rose.
"""


def test_glued_out_of_order_summary_is_segmented_and_sorted(tmp_path: Path) -> None:
    for topic in ("business", "tech"):
        (tmp_path / "News Articles" / topic).mkdir(parents=True)
        (tmp_path / "Summaries" / topic).mkdir(parents=True)
        (tmp_path / "News Articles" / topic / "001.txt").write_text(ARTICLE)
    # glued without spaces, out of article order, the last piece only part of its article sentence
    (tmp_path / "Summaries" / "business" / "001.txt").write_text(
        "Costs also rose.Profits rose 5% to $1.1bn.The firm said"
    )
    (tmp_path / "Summaries" / "tech" / "001.txt").write_text("Shares fell.Something not in the article.")
    pairs, stats = load_bbc_alignment(("business", "tech"), root=tmp_path)
    assert stats.articles == 2 and stats.clean == 1 and stats.unmatched == ["tech/001"]
    assert stats.in_given_order == 0
    (pair,) = pairs
    assert (pair.topic, pair.item) == ("business", "001")
    assert pair.article[1] == 'The firm said "sales were strong."'
    assert pair.gold.tolist() == [0, 1, 4]
    # the summary's own sentences (a fragment stays a fragment), in article order
    assert pair.summary == ["Profits rose 5% to $1.1bn.", "The firm said", "Costs also rose."]
    limited, limited_stats = load_bbc_alignment(("business", "tech"), root=tmp_path, limit_per_topic=1)
    assert len(limited) == 1 and limited_stats.articles == 2


def test_alignment_pair_needs_a_distinct_source_for_every_sentence() -> None:
    article = ("A b.", "C d.", "E f.")
    given = SummaryPair("sport/001", "sport", "T", article, ("C d.", "E f."), (1, 2))
    aligned = alignment_pair(given)
    assert aligned is not None and aligned.in_given_order and aligned.gold.tolist() == [1, 2]
    assert alignment_pair(SummaryPair("sport/002", "sport", "T", article, ("C", "d."), (1, 1))) is None
    assert alignment_pair(SummaryPair("sport/003", "sport", "T", article, ("C d.", "X."), (1, None))) is None
    assert alignment_pair(SummaryPair("sport/004", "sport", "T", article, (), ())) is None


def test_scores_of_the_simple_aligners() -> None:
    rng = np.random.default_rng(0)
    article = rng.normal(size=(8, 5))
    gold = np.array([1, 4, 6])
    data = ev.AlignmentSet([article], [article[gold]], [gold], ["x"])
    perfect = ev.score(ev.greedy, data)
    assert perfect.path_accuracy == 1.0 and perfect.f1 == 1.0 and perfect.sp == 0.0
    flat = ev.score(ev.uniform, data)  # floor((q+0.5)*8/3) = 1, 4, 6: uniform happens to be right here
    assert flat.sentence_accuracy == 1.0
    shifted = ev.AlignmentSet([article], [article[gold]], [np.array([0, 4, 6])], ["x"])
    wrong = ev.score(ev.greedy, shifted)
    assert wrong.path_accuracy == 0.0
    assert wrong.sentence_accuracy == pytest.approx(2 / 3)
    assert wrong.sp == pytest.approx((1 / 7) / 3)
    dtw_scores = ev.score(ev.dtw_aligner, data)  # DTW selects every article sentence: recall 1, precision 3/8
    assert dtw_scores.extra["recall"] == 1.0
    assert dtw_scores.extra["precision"] == pytest.approx(3 / 8)


def test_eval_align_registers_as_an_eval_task() -> None:
    from bgtai.cli import eval_align

    parser = argparse.ArgumentParser()
    eval_align.register(parser.add_subparsers())
    args = parser.parse_args(["align", "--dataset", "bbc", "--summary", "text", "--heldout", "sport"])
    assert args.func is eval_align.run and args.heldout == "sport" and args.limit_per_topic is None


@pytest.mark.integration  # reads and aligns the 4450 real files: a few seconds
def test_real_bbc_alignment_keeps_every_matched_pair() -> None:
    pairs, stats = load_bbc_alignment()
    # only two summaries hold text their article lacks (a cut parenthesis, a cut quote)
    assert stats.articles == 2225 and stats.clean == len(pairs) == 2223
    assert stats.unmatched == ["politics/290", "tech/010"]
    assert all((np.diff(p.gold) > 0).all() and len(p.summary) == len(p.gold) for p in pairs)
    assert stats.in_given_order < 0.1 * stats.clean
