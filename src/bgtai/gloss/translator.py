"""Sentences or speech in, gloss strings out, with a trained Langue2Gloss (or features for training it).

Front-ends by kind:
- `minilm` (English text): the cached MiniLM token states, `bgtai.encode_sequence("text", ...)`;
- `whisper-tiny-en` (English speech): the cached Whisper frames, `bgtai.encode_sequence("audio", ...)`;
- any other name is a token front-end: the sentence's ids in the checkpoint's source vocabulary.

`source_features(frontend, items, source_vocab)` gives one array per input; `collate` pads
them into the `(features, mask)` pair the encoder takes. Every front-end ends in the same
`LanguageEncoding`, so the decoder cannot tell text from speech.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bgtai.gloss.checkpoint import GlossCheckpoint, load_members
from bgtai.gloss.decode import decode_ensemble
from bgtai.gloss.vocab import PAD_ID, Vocab

FEATURE_FRONTENDS = {"minilm": ("text", 384), "whisper-tiny-en": ("audio", 384)}


def source_features(
    frontend: str, items: Sequence[Any], source_vocab: Vocab | None = None, progress: bool | None = None
) -> list[np.ndarray]:
    """One source array per input: (T, D) float32 features, or (T,) int64 token ids."""
    if frontend in FEATURE_FRONTENDS:
        import bgtai

        modality, _ = FEATURE_FRONTENDS[frontend]
        batch = bgtai.encode_sequence(
            modality, [str(i) if isinstance(i, Path) else i for i in items], encoder=frontend, progress=progress
        )
        return list(batch.features)
    if source_vocab is None:
        raise ValueError(f"token front-end {frontend!r} needs a source vocabulary")
    # an empty sentence still gets one position (<unk>), so the encoder has something to attend to
    return [np.asarray(source_vocab.encode(str(text)) or [3], dtype=np.int64) for text in items]


# which Whisper transcribes a corpus's language for the cascade, and the language it is told
CASCADE_ASR: dict[str, tuple[str, str | None]] = {"aslg": ("whisper-tiny-en", None), "phoenix": ("whisper-base", "de")}


def transcribe(paths: Sequence[str | Path], encoder: str = "whisper-tiny-en", language: str | None = None) -> list[str]:
    """Greedy Whisper transcripts, lower-cased with punctuation split off like the gloss corpora's text.

    Kept per file content under the cache folder (`transcripts/ENCODER[-LANGUAGE]/`): transcribing
    costs seconds a clip on a CPU.
    """
    import functools
    import re

    from bgtai.cache import text_per_file
    from bgtai.config import cache_dir
    from bgtai.encoders.registry import get_encoder

    folder = cache_dir() / "transcripts" / (encoder if language is None else f"{encoder}-{language}")
    whisper = functools.cache(lambda: get_encoder(encoder, "audio"))  # loaded on the first miss only
    out = []
    for path in paths:
        text = text_per_file(path, folder, ".txt", lambda path=path: whisper().transcribe(str(path), language=language))
        out.append(" ".join(re.findall(r"\w+(?:'\w+)?|[^\w\s]", text.lower())))
    return out


def collate(sources: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad to (B, T[, D]) and the (B, T) mask of real positions."""
    length = max(len(s) for s in sources)
    mask = torch.zeros(len(sources), length, dtype=torch.bool)
    first = sources[0]
    if first.ndim == 1:
        out = torch.full((len(sources), length), PAD_ID, dtype=torch.long)
    else:
        out = torch.zeros(len(sources), length, first.shape[1], dtype=torch.float32)
    for row, source in enumerate(sources):
        out[row, : len(source)] = torch.from_numpy(np.asarray(source))
        mask[row, : len(source)] = True
    return out, mask


class GlossTranslator:
    """A loaded model, or an ensemble of models sharing one vocabulary: `translate(items, frontend)` -> glosses."""

    def __init__(
        self,
        checkpoint: GlossCheckpoint | Sequence[GlossCheckpoint],
        beam: int = 4,
        length_penalty: float = 1.0,
        batch_size: int = 64,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.members = [checkpoint] if isinstance(checkpoint, GlossCheckpoint) else list(checkpoint)
        if not self.members:
            raise ValueError("a translator needs at least one model")
        first = self.members[0]
        for other in self.members[1:]:
            # members read the same source ids and say the same gloss ids, or averaging them means nothing
            same_source = (other.source_vocab is None) == (first.source_vocab is None) and (
                first.source_vocab is None or other.source_vocab.to_json() == first.source_vocab.to_json()
            )  # type: ignore[union-attr]
            if other.vocab.to_json() != first.vocab.to_json() or not same_source:
                raise ValueError("ensemble members must share their gloss and source vocabularies")
            if other.meta.get("text_frontend") != first.meta.get("text_frontend"):
                raise ValueError("ensemble members must share their text front-end")
        self.checkpoint = first
        self.meta = dict(meta if meta is not None else first.meta)
        self.beam = beam
        self.length_penalty = length_penalty
        self.batch_size = batch_size

    @classmethod
    def load(cls, folder: str | Path | Sequence[str | Path], **options: Any) -> GlossTranslator:
        """One model folder (a model or an ensemble), or several, whose members then decode as one ensemble
        (the first folder's meta is kept)."""
        folders = [folder] if isinstance(folder, (str, Path)) else list(folder)
        if not folders:
            raise ValueError("a translator needs at least one model folder")
        loaded = [load_members(one) for one in folders]
        members = [member for group, _ in loaded for member in group]
        return cls(members, meta=loaded[0][1], **options)

    @property
    def text_frontend(self) -> str:
        return str(self.checkpoint.meta["text_frontend"])

    @property
    def audio_frontend(self) -> str | None:
        frontends = {member.meta.get("audio_frontend") for member in self.members}
        return self.checkpoint.meta.get("audio_frontend") if len(frontends) == 1 else None

    def translate(self, items: Sequence[Any], frontend: str | None = None, progress: bool | None = None) -> list[str]:
        """Glosses of sentences (default: the text front-end) or of audio (`frontend=audio_frontend`)."""
        frontend = frontend or self.text_frontend
        return self.translate_sources(
            source_features(frontend, items, self.checkpoint.source_vocab, progress), frontend
        )

    def translate_audio(self, paths: Sequence[str | Path]) -> list[str]:
        """Glosses of speech: through the model's speech front-end when it was trained with one, else
        through a Whisper transcript (`CASCADE_ASR`) and the text front-end (a cascade, said in `audio_route`)."""
        if self.audio_frontend:
            return self.translate(list(paths), self.audio_frontend)
        transcripts = transcribe(paths, *self._asr)
        heard = [i for i, text in enumerate(transcripts) if text.strip()]
        if len(heard) < len(transcripts):
            # the recogniser wrote nothing: the cascade's honest output is an empty gloss, scored as such
            unheard = [str(path) for path, text in zip(paths, transcripts) if not text.strip()]
            warnings.warn(
                f"{self._asr[0]} heard no words in {len(unheard)} of {len(paths)} files (glossed as empty): "
                f"{', '.join(unheard[:3])}{' ...' if len(unheard) > 3 else ''}",
                stacklevel=2,
            )
        glosses = [""] * len(transcripts)
        for i, gloss in zip(heard, self.translate([transcripts[i] for i in heard]) if heard else []):
            glosses[i] = gloss
        return glosses

    @property
    def _asr(self) -> tuple[str, str | None]:
        return CASCADE_ASR.get(str(self.checkpoint.meta.get("corpus", "")), CASCADE_ASR["aslg"])

    @property
    def audio_route(self) -> str:
        if self.audio_frontend:
            return f"speech front-end {self.audio_frontend}"
        encoder, language = self._asr
        told = f" (language {language})" if language else ""
        return f"{encoder} transcript{told} -> text front-end {self.text_frontend}"

    @torch.no_grad()
    def translate_sources(self, sources: Sequence[np.ndarray], frontend: str) -> list[str]:
        models = [member.model.eval() for member in self.members]
        order = sorted(range(len(sources)), key=lambda i: len(sources[i]))  # similar lengths pad less
        out: list[str] = [""] * len(sources)
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            features, mask = collate([sources[i] for i in rows])
            members = [(model, model.encode(features, mask, frontend)) for model in models]
            # a gloss is never longer than twice its source (tokens or frames); an undertrained model
            # that never says <eos> would otherwise run to max_length on every batch
            limit = min(models[0].config.decoder.max_length, 2 * features.shape[1] + 10)
            for row, ids in zip(rows, decode_ensemble(members, self.beam, self.length_penalty, limit)):
                out[row] = self.checkpoint.vocab.decode(ids)
        return out
