"""BBC News Summary: articles, their extractive summaries, and which article sentence each
summary sentence is.

Layout: `News Articles/<topic>/NNN.txt` (title line, blank line, paragraphs) and
`Summaries/<topic>/NNN.txt`. Two quirks of the real files decide the method:
- summary sentences are glued without a space ("...$10.9bn.For the full-year"), so the
  summary cannot be split on ". ";
- their order is often not the article's (business/001 starts with the article's 3rd
  body sentence), so the alignment is not monotonic in general.
The summary is therefore segmented by the article itself: from each position, the longest
run of article text that the summary repeats, starting and ending at a sentence-like
boundary, is taken and cut at the article's own sentence boundaries. A summary piece that
the article does not contain is kept with no source (`None`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

from bgtai.data.registry import DatasetEntry
from bgtai.data.tables import dataset_root
from bgtai.errors import BadInputError

FOLDER = "bbc_news_summary"
TOPICS = ("business", "entertainment", "politics", "sport", "tech")
# a sentence ends at . ! ? plus any closing quotes/brackets, before whitespace; a quote
# standing alone after it ('year. " And') closes that sentence rather than opening the next
_SENTENCE_END = re.compile(r"[.!?][\"'\u2019\u201d)\]]*(?:\s+[\"\u201d](?=\s))?(?=\s)")
# weaker boundaries the summaries also cut at (after any . ! ?, e.g. "OutRage!'s")
_PIECE_END = re.compile(r"[.!?][\"'\u2019\u201d)\]]*")
_PROBE = 12  # characters used to find where a summary piece starts in the article


@dataclass(frozen=True)
class SummaryPair:
    """One article and its summary, with the source article sentence of each summary sentence."""

    id: str  # "<topic>/<NNN>"
    topic: str
    title: str
    article: tuple[str, ...]  # body sentences, in order (title excluded)
    summary: tuple[str, ...]  # summary sentences, in the summary's order
    source: tuple[int | None, ...]  # article index of each summary sentence; None: not in the article

    @property
    def matched(self) -> bool:
        return all(index is not None for index in self.source)

    @property
    def exact(self) -> tuple[bool, ...]:
        """Whether each summary sentence is a whole article sentence (not a fragment of one)."""
        return tuple(i is not None and s == self.article[i] for s, i in zip(self.summary, self.source))

    @property
    def monotonic(self) -> bool:
        indices = [i for i in self.source if i is not None]
        return self.matched and all(a <= b for a, b in zip(indices, indices[1:]))


@dataclass(frozen=True)
class AlignmentCounts:
    pairs: int
    summary_sentences: int
    exact_sentences: int  # the whole article sentence
    fragment_sentences: int  # part of one article sentence
    unmatched_sentences: int
    matched_pairs: int  # every summary sentence found in the article
    exact_pairs: int  # ... and every one a whole article sentence
    monotonic_pairs: int  # matched, and in article order


def split_sentences(paragraph: str) -> list[str]:
    """Sentences of one paragraph: cut after . ! ? (and closing quotes) followed by whitespace.

    A piece with no letter or digit (a stray closing quote) joins the sentence before it.
    """
    text = " ".join(paragraph.split())
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    sentences.append(text[start:].strip())
    merged: list[str] = []
    for sentence in sentences:
        if not sentence:
            continue
        if merged and not any(ch.isalnum() for ch in sentence):
            merged[-1] = f"{merged[-1]} {sentence}"
        else:
            merged.append(sentence)
    return merged


def parse_article(text: str) -> tuple[str, list[str]]:
    """(title, body sentences) of an article file: the first non-empty line is the title."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "", []
    return lines[0], [s for line in lines[1:] for s in split_sentences(line)]


def align_summary(article: list[str], summary: str) -> tuple[list[str], list[int | None]]:
    """(summary sentences, article index of each or None), segmenting the summary by the article."""
    body = " ".join(article)
    starts: list[int] = []
    position = 0
    for sentence in article:
        starts.append(position)
        position += len(sentence) + 1
    ends = {start + len(s) for start, s in zip(starts, article)}
    ends.update(m.end() for m in _PIECE_END.finditer(body))
    # a summary piece may start after a sentence, after its space, or inside a quote ("OutRage!'s")
    piece_starts = (
        set(starts) | {e + 1 for e in ends if e < len(body) and body[e] == " "} | {e for e in ends if e < len(body)}
    )
    piece_starts.update(m.start() + 1 for m in _PIECE_END.finditer(body))

    text = " ".join(summary.split())
    sentences: list[str] = []
    sources: list[int | None] = []
    j = 0
    while j < len(text):
        if text[j] == " ":
            j += 1
            continue
        best = _longest_piece(body, text, j, piece_starts, ends)
        if best is None:
            # not in the article: keep up to the next sentence end so the rest can still match
            match = _PIECE_END.search(text, j)
            stop = match.end() if match else len(text)
            sentences.append(text[j:stop].strip())
            sources.append(None)
            j = stop
            continue
        start, length = best
        index = bisect_right(starts, start) - 1
        # cut the piece where the article's sentences end
        while length > 0:
            sentence_end = starts[index] + len(article[index])
            take = min(length, sentence_end - start)
            fragment = body[start : start + take].strip()
            if any(ch.isalnum() for ch in fragment):
                sentences.append(fragment)
                sources.append(index)
            elif sentences and fragment:
                sentences[-1] += fragment
            length -= take
            j += take
            start += take
            if length > 0 and start < len(body) and body[start] == " ":  # the space between sentences
                start += 1
                if j < len(text) and text[j] == " ":
                    j += 1
                length -= 1
            index += 1
    return sentences, sources


def _longest_piece(body: str, text: str, j: int, piece_starts: set[int], ends: set[int]) -> tuple[int, int] | None:
    """(article start, length) of the longest article run that the summary repeats from `j`."""
    # the probe stops at the first . ! ?: the next summary sentence may follow with no space
    stop = _PIECE_END.search(text, j)
    probe = text[j : min(j + _PROBE, stop.start() + 1 if stop else len(text))]
    best: tuple[int, int] | None = None
    position = body.find(probe)
    while position >= 0:
        if position in piece_starts:
            common = 0
            limit = min(len(body) - position, len(text) - j)
            while common < limit and body[position + common] == text[j + common]:
                common += 1
            # end at an article boundary, or wherever the summary itself ends
            if j + common == len(text):
                usable = common
            else:
                usable = max((e - position for e in ends if position < e <= position + common), default=0)
            if usable > 0 and (best is None or usable > best[1]):
                best = (position, usable)
        position = body.find(probe, position + 1)
    return best


def load_bbc_summary(root: Path | None = None, topics: tuple[str, ...] | None = None) -> list[SummaryPair]:
    """Every article/summary pair of `topics` (default: every topic folder present), in file order."""
    base = dataset_root(root, FOLDER)
    articles_dir, summaries_dir = base / "News Articles", base / "Summaries"
    if not articles_dir.is_dir():
        raise BadInputError(str(articles_dir), "no 'News Articles' folder")
    present = sorted(p.name for p in articles_dir.iterdir() if p.is_dir())
    chosen = list(topics) if topics is not None else present
    pairs: list[SummaryPair] = []
    for topic in chosen:
        if topic not in present:
            raise BadInputError(str(articles_dir / topic), f"no such topic folder (present: {', '.join(present)})")
        for article_path in sorted((articles_dir / topic).glob("*.txt")):
            summary_path = summaries_dir / topic / article_path.name
            if not summary_path.is_file():
                raise BadInputError(str(summary_path), f"{article_path} has no summary file")
            title, article = parse_article(read_text(article_path))
            summary, source = align_summary(article, read_text(summary_path))
            pairs.append(
                SummaryPair(f"{topic}/{article_path.stem}", topic, title, tuple(article), tuple(summary), tuple(source))
            )
    return pairs


def count_alignment(pairs: list[SummaryPair]) -> AlignmentCounts:
    """How well the summaries were matched to their articles (measured, for reports and tests)."""
    exact = sum(sum(p.exact) for p in pairs)
    unmatched = sum(sum(i is None for i in p.source) for p in pairs)
    total = sum(len(p.summary) for p in pairs)
    return AlignmentCounts(
        pairs=len(pairs),
        summary_sentences=total,
        exact_sentences=exact,
        fragment_sentences=total - exact - unmatched,
        unmatched_sentences=unmatched,
        matched_pairs=sum(p.matched for p in pairs),
        exact_pairs=sum(p.matched and all(p.exact) for p in pairs),
        monotonic_pairs=sum(p.monotonic for p in pairs),
    )


def count_pairs(root: Path | None = None) -> int:
    """Article files that have a summary file, without reading them (for the catalogue)."""
    base = dataset_root(root, FOLDER)
    return sum(
        1
        for path in (base / "News Articles").glob("*/*.txt")
        if (base / "Summaries" / path.parent.name / path.name).is_file()
    )


def count_bbc_summary(folder: Path) -> tuple[int, str]:
    """(article/summary pairs, a note naming the topics), for `bgtai datasets`."""
    pairs = count_pairs(folder)
    topics = sorted(p.name for p in (folder / "News Articles").iterdir() if p.is_dir())
    return pairs, f"article/summary pairs; topics: {', '.join(topics)}"


# a text corpus, not an item list: `bgtai datasets` counts it; `bgtai eval align --dataset bbc` reads it
ENTRY = DatasetEntry(name="bbc_summary", folder=FOLDER, display="BBC News Summary", count=count_bbc_summary)


def read_text(path: Path) -> str:
    """UTF-8, else Windows-1252: one real article (sport/199) has a bare 0xA3 pound sign."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252")
