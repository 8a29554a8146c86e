"""The edit tagger's network and what it reads of each word.

Input, per word of the sentence (`bgtai.gloss.tagger_tags.split_words`), nothing pretrained:
- the lower-cased word (its own embedding when seen twice in training, else `<unk>`);
- its last 2, 3 and 4 letters (embeddings; suffixes carry tense, plural, -ly, -ia to words never seen);
- the rule glosser's token for it, as one of `SHAPES` (dropped, `DESC-`, `X-`, punctuation, number,
  the word as written, or another form): the rules are an input as well as the base the tags edit;
- which parts of speech `lemminflect`'s lexicon lists for it, and whether it is an inflected form.

A bidirectional LSTM over the sentence gives each word its context (the corpus's `DESC-`
depends on the neighbours), and a linear layer scores the tag vocabulary.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from bgtai.gloss.rules import _lemmas

PAD, UNK = 0, 1  # ids in every feature vocabulary
SUFFIX_LENGTHS = (2, 3, 4)
SHAPES = ("dropped", "desc", "pronoun", "punctuation", "number", "as-written", "other")
KINDS = ("NOUN", "VERB", "ADJ", "ADV", "PROPN", "AUX")
EXTRA_FLAGS = 2  # not in the lexicon; an inflected noun or verb form
_PUNCTUATION = re.compile(r"^[^\w]+$")


@dataclass
class TaggerConfig:
    words: int
    suffixes: int
    labels: int
    word_dim: int = 96
    suffix_dim: int = 32
    width: int = 128  # LSTM units per direction
    layers: int = 2
    dropout: float = 0.2

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaggerConfig:
        return cls(**data)


def shape(word: str, rule: str) -> int:
    """Which kind of token the rule glosser wrote for `word` (an index into `SHAPES`)."""
    if not rule:
        name = "dropped"
    elif rule.startswith("DESC-"):
        name = "desc"
    elif rule.startswith("X-"):
        name = "pronoun"
    elif _PUNCTUATION.match(rule):
        name = "punctuation"
    elif rule.isdigit():
        name = "number"
    elif rule == word.upper():
        name = "as-written"
    else:
        name = "other"
    return SHAPES.index(name)


def lexicon_flags(word: str) -> list[float]:
    lemmas = _lemmas(word)
    inflected = any(word not in lemmas[kind] for kind in ("NOUN", "VERB") if kind in lemmas)
    return [float(kind in lemmas) for kind in KINDS] + [float(not lemmas), float(inflected)]


def suffixes(word: str) -> list[str]:
    return [word[-n:] if len(word) >= n else "" for n in SUFFIX_LENGTHS]


@dataclass
class SentenceFeatures:
    """The network's input for one sentence: ids (T,), suffix ids (T, 3), shapes (T,), flags (T, F)."""

    words: torch.Tensor
    suffixes: torch.Tensor
    shapes: torch.Tensor
    flags: torch.Tensor


class Featurizer:
    """Word and suffix vocabularies (learnt from training sentences) -> `SentenceFeatures`."""

    def __init__(self, words: Sequence[str], suffix_list: Sequence[str]) -> None:
        self.words = list(words)
        self.suffix_list = list(suffix_list)
        self._word_ids = {word: index + 2 for index, word in enumerate(self.words)}
        self._suffix_ids = {suffix: index + 2 for index, suffix in enumerate(self.suffix_list)}

    @classmethod
    def build(cls, sentences: Sequence[Sequence[str]], min_count: int = 2) -> Featurizer:
        words = Counter(word for sentence in sentences for word in sentence)
        ends = Counter(end for sentence in sentences for word in sentence for end in suffixes(word) if end)
        return cls(
            sorted(w for w, c in words.items() if c >= min_count), sorted(s for s, c in ends.items() if c >= min_count)
        )

    def to_dict(self) -> dict[str, list[str]]:
        return {"words": self.words, "suffixes": self.suffix_list}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Featurizer:
        return cls([str(w) for w in data["words"]], [str(s) for s in data["suffixes"]])

    def features(self, words: Sequence[str], rule: Sequence[str]) -> SentenceFeatures:
        return SentenceFeatures(
            words=torch.tensor([self._word_ids.get(word, UNK) for word in words], dtype=torch.long),
            suffixes=torch.tensor(
                [[self._suffix_ids.get(end, UNK if end else PAD) for end in suffixes(word)] for word in words],
                dtype=torch.long,
            ).reshape(len(words), len(SUFFIX_LENGTHS)),
            shapes=torch.tensor([shape(word, token) for word, token in zip(words, rule)], dtype=torch.long),
            flags=torch.tensor([lexicon_flags(word) for word in words], dtype=torch.float32).reshape(
                len(words), len(KINDS) + EXTRA_FLAGS
            ),
        )


def collate(batch: Sequence[SentenceFeatures]) -> tuple[SentenceFeatures, torch.Tensor]:
    """Pad a batch; returns the padded features and the (B, T) mask of real words."""
    length = max(max(len(item.words) for item in batch), 1)
    size = len(batch)
    out = SentenceFeatures(
        words=torch.zeros(size, length, dtype=torch.long),
        suffixes=torch.zeros(size, length, len(SUFFIX_LENGTHS), dtype=torch.long),
        shapes=torch.zeros(size, length, dtype=torch.long),
        flags=torch.zeros(size, length, len(KINDS) + EXTRA_FLAGS),
    )
    mask = torch.zeros(size, length, dtype=torch.bool)
    for row, item in enumerate(batch):
        n = len(item.words)
        out.words[row, :n] = item.words
        out.suffixes[row, :n] = item.suffixes
        out.shapes[row, :n] = item.shapes
        out.flags[row, :n] = item.flags
        mask[row, :n] = True
    return out, mask


class EditTaggerNet(nn.Module):
    """Word features -> BiLSTM -> tag scores, (B, T, labels)."""

    def __init__(self, config: TaggerConfig) -> None:
        super().__init__()
        self.config = config
        self.word = nn.Embedding(config.words, config.word_dim, padding_idx=PAD)
        self.suffix = nn.ModuleList(
            nn.Embedding(config.suffixes, config.suffix_dim, padding_idx=PAD) for _ in SUFFIX_LENGTHS
        )
        self.shape = nn.Embedding(len(SHAPES), 16)
        inputs = config.word_dim + config.suffix_dim * len(SUFFIX_LENGTHS) + 16 + len(KINDS) + EXTRA_FLAGS
        self.dropout = nn.Dropout(config.dropout)
        self.lstm = nn.LSTM(
            inputs,
            config.width,
            num_layers=config.layers,
            batch_first=True,
            bidirectional=True,
            dropout=config.dropout if config.layers > 1 else 0.0,
        )
        self.out = nn.Linear(2 * config.width, config.labels)

    def forward(self, features: SentenceFeatures, mask: torch.Tensor) -> torch.Tensor:
        parts = [
            self.word(features.words),
            *(table(features.suffixes[..., k]) for k, table in enumerate(self.suffix)),
            self.shape(features.shapes),
            features.flags,
        ]
        hidden = self.dropout(torch.cat(parts, dim=-1))
        lengths = mask.sum(dim=1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(hidden, lengths, batch_first=True, enforce_sorted=False)
        states, _ = self.lstm(packed)
        states, _ = nn.utils.rnn.pad_packed_sequence(states, batch_first=True, total_length=mask.shape[1])
        return self.out(self.dropout(states))
