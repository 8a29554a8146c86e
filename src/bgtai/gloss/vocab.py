"""Token vocabularies built from training text: whole words, or BPE subword units (`tokenizers`).

Used for gloss targets and for the source side of languages embedded by learned tables
(German for PHOENIX). Text is split on whitespace first (glosses and the corpora's sentences
come tokenised); BPE units carry an end-of-word suffix, so decoding restores the words
exactly. Ids 0..3 are the special tokens `<pad>`, `<bos>`, `<eos>`, `<unk>`.

A vocabulary may carry a *spelling*: a named rewrite applied to every text before it is
tokenised. With `spelling="gloss-de"` German sentences are written the way PHOENIX glosses
are (capitals, umlauts as AE/OE/UE, ß as SS), so one vocabulary can serve both sides and
"regen" in a sentence is the very token `REGEN` of its gloss (`Vocab.build_shared`).

    >>> vocab = Vocab.build(["X-WE BE DESC-FAR", "X-WE WANT"], kind="word")
    >>> vocab.decode(vocab.encode("X-WE WANT"))
    'X-WE WANT'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = [PAD, BOS, EOS, UNK]
PAD_ID, BOS_ID, EOS_ID, UNK_ID = range(4)
WORD_END = "</w>"
VocabKind = Literal["word", "bpe"]


def gloss_de_spelling(text: str) -> str:
    """German text as PHOENIX-2014T glosses spell words: "überschwemmungen" -> "UEBERSCHWEMMUNGEN"."""
    text = text.replace("ß", "ss").replace("ẞ", "SS")
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("Ä", "AE"), ("Ö", "OE"), ("Ü", "UE")):
        text = text.replace(umlaut, spelled)
    return text.upper()


SPELLINGS: dict[str, Callable[[str], str]] = {"gloss-de": gloss_de_spelling}


@dataclass
class Vocab:
    """A trained `tokenizers.Tokenizer` with the special ids fixed at 0..3, and the spelling its inputs get."""

    tokenizer: Tokenizer
    kind: VocabKind
    spelling: str = ""  # a key of SPELLINGS, or "" for text as given

    def __post_init__(self) -> None:
        if self.spelling and self.spelling not in SPELLINGS:
            raise ValueError(f"unknown spelling {self.spelling!r}; known: {', '.join(SPELLINGS)}")

    def spell(self, text: str) -> str:
        return SPELLINGS[self.spelling](text) if self.spelling else text

    @classmethod
    def build(cls, texts: Iterable[str], kind: VocabKind = "word", size: int = 4000, min_count: int = 1) -> Vocab:
        """Learn a vocabulary from training texts: every word seen `min_count` times, or `size` BPE units."""
        texts = list(texts)
        if kind == "word":
            tokenizer = Tokenizer(models.WordLevel(unk_token=UNK))
            trainer = trainers.WordLevelTrainer(special_tokens=SPECIALS, min_frequency=min_count, vocab_size=10**7)
        elif kind == "bpe":
            tokenizer = Tokenizer(models.BPE(unk_token=UNK, end_of_word_suffix=WORD_END))
            trainer = trainers.BpeTrainer(
                special_tokens=SPECIALS,
                vocab_size=size,
                min_frequency=min_count,
                end_of_word_suffix=WORD_END,
                show_progress=False,
            )
            tokenizer.decoder = decoders.BPEDecoder(suffix=WORD_END)
        else:
            raise ValueError(f"vocabulary kind must be 'word' or 'bpe', got {kind!r}")
        tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        tokenizer.train_from_iterator(texts, trainer=trainer)
        for expected, token in enumerate(SPECIALS):
            if tokenizer.token_to_id(token) != expected:
                raise RuntimeError(f"special token {token} got id {tokenizer.token_to_id(token)}, expected {expected}")
        return cls(tokenizer, kind)

    @classmethod
    def build_shared(
        cls, sources: Iterable[str], targets: Iterable[str], spelling: str, kind: VocabKind = "bpe", size: int = 4000
    ) -> tuple[Vocab, Vocab]:
        """One vocabulary learnt from spelled sources and targets together: (source view, target view).

        Both views have the same ids; only the source view spells its inputs first, so a model can
        share one embedding table between its encoder and decoder (`Langue2GlossConfig.tie_source`)."""
        speller = SPELLINGS[spelling]
        shared = cls.build([speller(text) for text in sources] + list(targets), kind=kind, size=size)
        return cls(shared.tokenizer, kind, spelling), shared

    def __len__(self) -> int:
        return self.tokenizer.get_vocab_size()

    def encode(self, text: str) -> list[int]:
        """Token ids of one text, without `<bos>`/`<eos>`."""
        return list(self.tokenizer.encode(self.spell(text)).ids)

    def encode_many(self, texts: Sequence[str]) -> list[list[int]]:
        return [list(e.ids) for e in self.tokenizer.encode_batch([self.spell(t) for t in texts])]

    def decode(self, ids: Sequence[int]) -> str:
        """Text of token ids; special tokens and anything after the first `<eos>` are left out."""
        kept: list[int] = []
        for token in ids:
            token = int(token)
            if token == EOS_ID:
                break
            if token >= len(SPECIALS):
                kept.append(token)
        if self.kind == "word":
            return " ".join(self.tokenizer.id_to_token(t) for t in kept)
        return self.tokenizer.decode(kept, skip_special_tokens=True)

    def to_json(self) -> str:
        return json.dumps(
            {"kind": self.kind, "spelling": self.spelling, "tokenizer": json.loads(self.tokenizer.to_str())}
        )

    @classmethod
    def from_json(cls, text: str) -> Vocab:
        data = json.loads(text)
        return cls(Tokenizer.from_str(json.dumps(data["tokenizer"])), data["kind"], data.get("spelling", ""))
