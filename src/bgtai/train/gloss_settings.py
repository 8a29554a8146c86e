"""The settings of a Langue2Gloss training run, importable without torch (the CLI builds its options from them)."""

from __future__ import annotations

from dataclasses import dataclass

CORPORA = ("aslg", "phoenix")


@dataclass
class GlossTrainSettings:
    corpus: str = "phoenix"
    text_frontend: str = ""  # "" = the corpus default: learned German tokens for PHOENIX, MiniLM for ASLG
    source_vocab: str = "bpe"
    source_vocab_size: int = 3000
    target_vocab: str = "word"
    target_vocab_size: int = 2000
    width: int = 256
    encoder_layers: int = 3
    decoder_layers: int = 3
    heads: int = 4
    ffn: int = 1024
    dropout: float = 0.3
    label_smoothing: float = 0.1
    lr: float = 1e-3
    warmup_steps: int = 400
    weight_decay: float = 0.01
    batch_size: int = 64
    max_epochs: int = 60
    max_minutes: float = 18.0
    ema: float = 0.0  # > 0: validate and keep an exponential moving average of the weights (decay per step)
    speech_train: int = 0
    seed: int = 0
    threads: int = 0  # 0: leave torch's setting alone

    def resolved_text_frontend(self) -> str:
        if self.text_frontend:
            return self.text_frontend
        return "de-tokens" if self.corpus == "phoenix" else "minilm"
