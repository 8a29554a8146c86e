"""BBC News Summary as alignment supervision: which article sentence each summary sentence is.

The summaries are extractive but their sentences are glued without spaces
("...$10.9bn.For the full-year") and are mostly NOT in article order (business/001 starts
with the article's 4th sentence). So the summary is never split on punctuation: each
article sentence is searched for in the summary text (longest first, without overlap),
which both segments the summary and gives its gold source index. A pair is kept when the
matched sentences cover every non-space character of the summary (`clean`).

The alignment target is the summary's sentences **in article order** (the extractive set,
sorted): a monotonic path by construction. `in_given_order` records whether the dataset's
own order was already monotonic (rare; `load_bbc_alignment` counts them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bgtai.config import require_data_root
from bgtai.errors import BadInputError

TOPICS = ("business", "entertainment", "politics", "sport", "tech")
FOLDER = "bbc_news_summary"
# a sentence ends at . ! or ? (optionally followed by a closing quote) and whitespace
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"']))\s+")


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
    clean: int = 0
    in_given_order: int = 0
    unmatched: list[str] = field(default_factory=list)


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph, split after . ! ? (and a closing quote) followed by space."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def article_sentences(text: str) -> list[str]:
    """Body sentences of an article file's text: the first non-empty line is the title."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [s for line in lines[1:] for s in split_sentences(line)]


def match_summary(article: list[str], summary: str) -> tuple[list[int], int]:
    """(article indices in summary order, count of summary characters no sentence covers)."""
    used = np.zeros(len(summary), dtype=bool)
    found: list[tuple[int, int]] = []
    for index in sorted(range(len(article)), key=lambda i: -len(article[i])):
        sentence = article[index]
        position = summary.find(sentence)
        while position >= 0 and used[position : position + len(sentence)].any():
            position = summary.find(sentence, position + 1)
        if position >= 0:
            used[position : position + len(sentence)] = True
            found.append((position, index))
    uncovered = sum(1 for char, hit in zip(summary, used) if not hit and not char.isspace())
    return [index for _, index in sorted(found)], uncovered


def load_bbc_alignment(
    topics: tuple[str, ...] = TOPICS, root: str | Path | None = None, limit_per_topic: int | None = None
) -> tuple[list[AlignmentPair], BBCStats]:
    """Every clean article/summary pair of `topics` (the first `limit_per_topic` clean ones of each)."""
    base = Path(root) if root is not None else require_data_root() / FOLDER
    stats = BBCStats()
    pairs: list[AlignmentPair] = []
    for topic in topics:
        articles = base / "News Articles" / topic
        if not articles.is_dir():
            raise BadInputError(str(articles), f"no such topic folder (topics: {', '.join(TOPICS)})")
        kept = 0
        for path in sorted(articles.glob("*.txt")):
            if limit_per_topic is not None and kept >= limit_per_topic:
                break
            summary_path = base / "Summaries" / topic / path.name
            if not summary_path.is_file():
                raise BadInputError(str(summary_path), "article has no summary file")
            article = article_sentences(_read(path))
            order, uncovered = match_summary(article, _read(summary_path).strip())
            stats.articles += 1
            if uncovered or len(order) < 1:
                stats.unmatched.append(f"{topic}/{path.stem}")
                continue
            stats.clean += 1
            kept += 1
            given_order = order == sorted(order)
            stats.in_given_order += int(given_order)
            gold = np.array(sorted(order), dtype=np.int64)
            pairs.append(AlignmentPair(topic, path.stem, article, [article[i] for i in gold], gold, given_order))
    return pairs, stats


def _read(path: Path) -> str:
    # a few files are Latin-1 (pound signs); replacing the odd byte keeps sentence matching intact
    return path.read_bytes().decode("utf-8", errors="replace")
