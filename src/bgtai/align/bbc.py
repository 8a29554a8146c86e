"""BBC News Summary as alignment supervision: which article sentence each summary sentence is.

Reading, sentence splitting and matching are the data loader's
(`bgtai.data.bbc_summary.load_bbc_summary`): it segments each glued summary by its article
and gives every summary sentence its source article index. Here a pair is usable when every
summary sentence has a source (`SummaryPair.matched`) and no two share one.

The alignment target is the summary's sentences **in article order** (the extractive set,
sorted by source): a strictly increasing path by construction. The dataset's own order is
mostly not monotonic (business/001 starts with the article's 3rd body sentence);
`in_given_order` records the rare pairs where it already was (`load_bbc_alignment` counts them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bgtai.data.bbc_summary import TOPICS, SummaryPair, load_bbc_summary

__all__ = ["TOPICS", "AlignmentPair", "BBCStats", "alignment_pair", "load_bbc_alignment"]


@dataclass(frozen=True)
class AlignmentPair:
    topic: str
    item: str
    article: list[str]  # article body sentences (title excluded), in order
    summary: list[str]  # summary sentences in article order
    gold: np.ndarray  # (Q,) article index of each summary sentence, strictly increasing
    in_given_order: bool  # the dataset's summary already had this order


@dataclass
class BBCStats:
    articles: int = 0
    clean: int = 0  # every summary sentence found in the article, each at its own article sentence
    in_given_order: int = 0
    unmatched: list[str] = field(default_factory=list)


def alignment_pair(pair: SummaryPair) -> AlignmentPair | None:
    """The pair with its summary sorted into article order; None when a summary sentence has no
    source, two share one, or the summary is empty."""
    if not pair.summary or not pair.matched or len(set(pair.source)) != len(pair.source):
        return None
    order = sorted(range(len(pair.summary)), key=lambda q: pair.source[q])
    gold = np.array([pair.source[q] for q in order], dtype=np.int64)
    return AlignmentPair(
        pair.topic, pair.id.split("/", 1)[1], list(pair.article), [pair.summary[q] for q in order], gold, pair.monotonic
    )


def load_bbc_alignment(
    topics: tuple[str, ...] = TOPICS, root: str | Path | None = None, limit_per_topic: int | None = None
) -> tuple[list[AlignmentPair], BBCStats]:
    """Every clean article/summary pair of `topics` (the first `limit_per_topic` clean ones of each).

    `stats.articles` counts the articles looked at: with a limit, those up to the last one kept.
    """
    stats = BBCStats()
    pairs: list[AlignmentPair] = []
    for topic in topics:
        kept = 0
        for pair in load_bbc_summary(Path(root) if root is not None else None, topics=(topic,)):
            if limit_per_topic is not None and kept >= limit_per_topic:
                break
            stats.articles += 1
            aligned = alignment_pair(pair)
            if aligned is None:
                stats.unmatched.append(pair.id)
                continue
            stats.clean += 1
            stats.in_given_order += int(aligned.in_given_order)
            kept += 1
            pairs.append(aligned)
    return pairs, stats
