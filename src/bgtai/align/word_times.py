"""Each word of a given transcript with its start and end time, from the words Whisper heard.

Whisper's word timestamps (faster-whisper) time the words *it* heard, which are not always the
words of the transcript: a word can be misheard ("for" for "four"), merged ("pound key" as
"poundkey"), split, or not heard at all. So the transcript is matched to the heard words by an
edit alignment over normalised words (case and punctuation ignored, digits 0-9 read as their
names), and every transcript word gets a time:

- `heard`: Whisper heard this very word; its time is Whisper's;
- `misheard`: the alignment pairs it with another word heard in its place (substituting costs
  1 - string similarity, so "four" pairs with "for"); it takes that word's time;
- `interpolated`: nothing was paired with it (a word not heard, or merged into a neighbour): a run
  of such words shares the time between its timed neighbours (the clip's start or end at the
  edges) in proportion to the words' lengths. When there is no room there (Whisper's words tile
  the speech), the run shares the span of a misheard neighbour instead, which then counts as
  interpolated too ("pound key" heard as "poundkey": both words share its span).

Times are clipped to the clip and kept non-decreasing, so a table of them always reads in order.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bgtai.align.speech_words import normalise_word

STATUSES = ("heard", "misheard", "interpolated")
MIN_WORD_S = 0.1  # less room than this per word between two timed neighbours is no room
_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass(frozen=True)
class WordTime:
    """One transcript word, as written (outer punctuation removed), and its time in seconds."""

    word: str
    start: float
    end: float
    status: str  # one of STATUSES
    heard: str | None  # what Whisper heard there (None when nothing was heard in that stretch)


def comparable(word: str) -> str:
    """The form words are compared in: lower case, no punctuation, a lone digit as its name."""
    norm = normalise_word(word)
    return _DIGITS[int(norm)] if len(norm) == 1 and norm.isdigit() else norm


def transcript_words(text: str) -> list[str]:
    """The words of a transcript as written, split on spaces, without outer punctuation; punctuation-only tokens dropped.

    The same tokens, in the same order, as `speech_words.text_tokens(text, "words")` (one per non-empty normalised word).
    """
    return [w.strip('.,;:!?"()[]{}«»“”‘’') or w for w in text.split() if normalise_word(w)]


def edit_pairs(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int]]:
    """Index pairs (i, j) of a minimum-cost edit alignment of a and b, in order (equal or substituted words).

    Inserting or deleting a word costs 1; substituting costs 1 - similarity (difflib's ratio), so
    "four" pairs with "for" rather than with the "seven" before it, and equal words cost nothing.
    """
    n, m = len(a), len(b)
    substitute = np.array([[1.0 - difflib.SequenceMatcher(None, x, y).ratio() for y in b] for x in a]).reshape(n, m)
    cost = np.zeros((n + 1, m + 1))
    cost[:, 0], cost[0, :] = np.arange(n + 1), np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(cost[i - 1, j - 1] + substitute[i - 1, j - 1], cost[i - 1, j] + 1, cost[i, j - 1] + 1)
    pairs, i, j = [], n, m
    while i > 0 and j > 0:
        if np.isclose(cost[i, j], cost[i - 1, j - 1] + substitute[i - 1, j - 1]):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif np.isclose(cost[i, j], cost[i - 1, j] + 1):
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def _shares(words: Sequence[str], start: float, end: float) -> list[tuple[float, float]]:
    """Split [start, end] among `words` in proportion to their length (at least one character each)."""
    lengths = np.array([max(len(comparable(w)), 1) for w in words], dtype=np.float64)
    edges = start + (end - start) * np.concatenate([[0.0], np.cumsum(lengths) / lengths.sum()])
    return [(float(edges[k]), float(edges[k + 1])) for k in range(len(words))]


def match_words(words: Sequence[str], heard: Sequence[tuple[str, float, float]], duration: float) -> list[WordTime]:
    """Times of the transcript `words` from Whisper's `heard` (word, start, end) in a clip of `duration` seconds."""
    heard = [h for h in heard if comparable(h[0])]
    slots: list[WordTime | None] = [None] * len(words)
    for i, j in edit_pairs([comparable(w) for w in words], [comparable(h[0]) for h in heard]):
        said, start, end = heard[j]
        slots[i] = WordTime(
            words[i], start, end, "heard" if comparable(words[i]) == comparable(said) else "misheard", said
        )
    i = 0
    while i < len(words):
        if slots[i] is not None:
            i += 1
            continue
        first, last = i, i  # a run of words nothing was paired with: words[first : last + 1]
        while last + 1 < len(words) and slots[last + 1] is None:
            last += 1
        before, after = slots[first - 1] if first > 0 else None, slots[last + 1] if last + 1 < len(words) else None
        start, end = (before.end if before else 0.0), (after.start if after else duration)
        if end - start < MIN_WORD_S * (last - first + 1):
            # no room between the neighbours: the words were most likely heard inside a misheard
            # neighbour ("poundkey" for "pound key"), so they share its span with it
            if before is not None and before.status == "misheard":
                first, start = first - 1, before.start
            if after is not None and after.status == "misheard":
                last, end = last + 1, after.end
        absorbed = " ".join(slot.heard for slot in slots[first : last + 1] if slot is not None and slot.heard)
        run = words[first : last + 1]
        for k, (s, e) in enumerate(_shares(run, start, max(start, end))):
            slots[first + k] = WordTime(run[k], s, e, "interpolated", absorbed or None)
        i = last + 1
    return _in_order([slot for slot in slots if slot is not None], duration)


def _in_order(times: list[WordTime], duration: float) -> list[WordTime]:
    """Clip to [0, duration], starts non-decreasing, each end at or after its start (Whisper's ends can run past the clip)."""
    out, floor = [], 0.0
    for t in times:
        start = min(max(t.start, floor), duration)
        end = min(max(t.end, start), duration)
        out.append(WordTime(t.word, start, end, t.status, t.heard))
        floor = start
    return out
