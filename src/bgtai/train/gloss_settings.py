"""The settings of a Langue2Gloss training run, importable without torch (the CLI builds its options from them)."""

from __future__ import annotations

from dataclasses import dataclass

CORPORA = ("aslg", "phoenix")
SCHEDULES = ("inverse-sqrt", "cosine")
SPELLING = {"phoenix": "gloss-de"}  # how a corpus's glosses spell the words of its sentences


@dataclass
class GlossTrainSettings:
    corpus: str = "phoenix"
    text_frontend: str = ""  # "" = the corpus default: learned German tokens for PHOENIX, MiniLM for ASLG
    source_vocab: str = "bpe"
    source_vocab_size: int = 3000
    shared_vocab: bool = False  # token front-ends: one vocabulary (source_vocab kind and size) and one embedding
    # table for sentence and gloss, the sentence spelt as the corpus's glosses are (SPELLING)
    target_vocab: str = "word"
    target_vocab_size: int = 2000
    width: int = 256
    encoder_layers: int = 3
    decoder_layers: int = 3
    heads: int = 4
    ffn: int = 1024
    dropout: float = 0.3
    label_smoothing: float = 0.1
    token_dropout: float = 0.0  # token front-ends: chance that a training sentence's token is shown as <unk>
    lr: float = 1e-3
    warmup_steps: int = 400
    schedule: str = "inverse-sqrt"  # after warm-up: "inverse-sqrt", or "cosine" (to 0 at max_epochs: set
    # max_epochs to what fits in max_minutes, since a run cut off by the clock stops mid-schedule)
    weight_decay: float = 0.01
    batch_size: int = 64
    max_epochs: int = 60
    max_minutes: float = 18.0
    ema: float = 0.0  # > 0: validate and keep an exponential moving average of the weights (decay per step)
    speech_train: int = 0
    seed: int = 0
    threads: int = 0  # 0: leave torch's setting alone

    def __post_init__(self) -> None:
        if not 0.0 <= self.token_dropout < 1.0:
            raise ValueError(f"token_dropout must be in [0, 1), got {self.token_dropout}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")

    def resolved_text_frontend(self) -> str:
        if self.text_frontend:
            return self.text_frontend
        return "de-tokens" if self.corpus == "phoenix" else "minilm"
