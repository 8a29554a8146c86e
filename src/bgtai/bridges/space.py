"""The bridges-only joint space: no training, every modality in the text encoder's sentence space.

- text: the text encoder's sentence embedding (MiniLM, 384-d);
- image: the concept mix of EfficientNet-Lite0's ImageNet classes;
- audio: the concept mix of YAMNet's AudioSet tags; where YAMNet hears speech, the clip's
  Whisper transcript (embedded as text) is mixed in with the speech score as its weight, so a
  spoken sentence meets its transcript and a dog bark its name.

It implements `JointEmbedder` (`encode(modality, inputs)`), so every evaluation that takes a
trained model takes it too (`--model bridges`), and it is the baseline every trained model is
reported beside.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bgtai.bridges.concepts import concept_mix
from bgtai.bridges.vocabulary import TEXT_ENCODER, VOCABULARIES, label_vectors

SPEECH_CLASS = "Speech"
_NUMBER = re.compile(r"\b\d+\b")


def numbers_as_words(text: str) -> str:
    """'press 7 now' -> 'press seven now': Whisper writes numbers as digits; a sentence encoder reads the
    digit and the word as different tokens, so a spoken "seven" would miss the text "seven"."""
    from num2words import num2words

    return _NUMBER.sub(lambda match: num2words(int(match.group())), text)


MODALITY_VOCABULARY = {"audio": "audioset", "image": "imagenet"}


@dataclass
class BridgeSpace:
    top_k: int = 10
    speech: bool = True  # mix in Whisper transcripts where YAMNet hears speech
    speech_gate: float = 0.2  # below this speech score a clip is not transcribed (Whisper invents words in noise)
    transcriber: str = "whisper-tiny-en"
    progress: bool | None = None
    text_encoder: str = TEXT_ENCODER
    vocabularies: dict[str, str] = field(default_factory=lambda: dict(MODALITY_VOCABULARY))  # modality -> vocabulary

    name = "bridges"

    def describe(self) -> str:
        speech = (
            f", speech by {self.transcriber} transcripts above YAMNet speech {self.speech_gate}" if self.speech else ""
        )
        return f"bridges (no training): AudioSet/YAMNet and ImageNet/EfficientNet-Lite0 top-{self.top_k} labels{speech}"

    def class_scores(self, modality: str, inputs: Sequence[Any]) -> np.ndarray:
        """(N, classes) pooled scores of the modality's classifier head."""
        from bgtai import embed
        from bgtai.bridges.heads import scores_from_features

        vocabulary = VOCABULARIES[self.vocabularies[modality]]
        from_features = scores_from_features(vocabulary.scorer, modality, inputs, self.progress)
        if from_features is not None:  # the head on the cached features: no second run of the network
            return from_features
        return embed.encode(modality, list(inputs), encoder=vocabulary.scorer, normalize=False, progress=self.progress)

    def concept_vectors(self, modality: str, scores: np.ndarray) -> np.ndarray:
        return concept_mix(scores, label_vectors(self.vocabularies[modality], self.text_encoder), self.top_k)

    def encode(self, modality: str, inputs: Sequence[Any]) -> np.ndarray:
        """(N, 384) unit float32 vectors, row i for input i."""
        from bgtai import embed

        inputs = list(inputs)
        if modality == "text":
            return embed.encode("text", inputs, encoder=self.text_encoder, progress=self.progress)
        if modality not in self.vocabularies:
            raise ValueError(f"the bridges embed text, audio and image, not {modality!r}")
        scores = self.class_scores(modality, inputs)
        vectors = self.concept_vectors(modality, scores)
        if modality == "audio" and self.speech and self.vocabularies.get("audio") == "audioset":
            vectors = self.with_transcripts(inputs, scores, vectors)
        return vectors

    def speech_scores(self, scores: np.ndarray) -> np.ndarray:
        from bgtai.encoders.yamnet import yamnet_class_names

        return np.asarray(scores[:, yamnet_class_names().index(SPEECH_CLASS)], dtype=np.float64)

    def with_transcripts(self, inputs: list[Any], scores: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """Mix each spoken clip's transcript vector in, weighted by its speech score (clips given as files only)."""
        from bgtai import embed
        from bgtai.gloss.translator import transcribe

        speech = self.speech_scores(scores)
        spoken = [i for i, item in enumerate(inputs) if speech[i] >= self.speech_gate and isinstance(item, (str, Path))]
        if not spoken:
            return vectors
        texts = transcribe([inputs[i] for i in spoken], encoder=self.transcriber)
        heard = [(i, numbers_as_words(text)) for i, text in zip(spoken, texts) if text.strip()]
        if not heard:
            return vectors
        said = embed.encode("text", [text for _, text in heard], encoder=self.text_encoder, progress=False)
        out = vectors.astype(np.float64)
        for (i, _), vector in zip(heard, said):
            weight = float(np.clip(speech[i], 0.0, 1.0))
            out[i] = (1.0 - weight) * out[i] + weight * vector
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)
