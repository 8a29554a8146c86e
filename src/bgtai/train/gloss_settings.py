"""The settings of a Langue2Gloss training run, importable without torch (the CLI builds its options from them).

The defaults are the recipe measured on PHOENIX-2014T in 19 minutes of one core per model
(docs/DECISIONS.md, "Gloss"): a small transformer (width 128, 2 + 2 layers), dropout 0.2,
a cosine learning rate over 44 epochs and an average of the weights; ASLG adds
`target_vocab="bpe"`. `bgtai train gloss --members 2` trains two of them at once on 2 cores.
`model="tagger"` trains the ASLG edit tagger instead (`bgtai.gloss.tagger_train`), which reads
only the settings named there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

CORPORA = ("aslg", "phoenix")
SCHEDULES = ("inverse-sqrt", "cosine")
MODELS = ("langue2gloss", "tagger")  # the seq2seq transformer; the edit tagger over the rule glosser (ASLG)
SPELLING = {"phoenix": "gloss-de"}  # how a corpus's glosses spell the words of its sentences


@dataclass
class GlossTrainSettings:
    corpus: str = "phoenix"
    model: str = "langue2gloss"  # one of MODELS
    text_frontend: str = ""  # "" = the corpus default: learned German tokens for PHOENIX, MiniLM for ASLG
    source_vocab: str = "word"
    source_vocab_size: int = 3000
    shared_vocab: bool = False  # token front-ends: one vocabulary (source_vocab kind and size) and one embedding
    # table for sentence and gloss, the sentence spelt as the corpus's glosses are (SPELLING)
    target_vocab: str = "word"
    target_vocab_size: int = 2000
    width: int = 128
    encoder_layers: int = 2
    decoder_layers: int = 2
    heads: int = 4
    ffn: int = 256
    dropout: float = 0.2
    label_smoothing: float = 0.1
    token_dropout: float = 0.0  # token front-ends: chance that a training sentence's token is shown as <unk>
    lr: float = 2e-3
    warmup_steps: int = 100
    schedule: str = "cosine"  # after warm-up: "cosine" (to 0 at max_epochs; a run cut off by max_minutes stops
    # mid-schedule, so keep max_epochs to what fits) or "inverse-sqrt"
    weight_decay: float = 0.01
    batch_size: int = 64
    max_epochs: int = 44
    max_minutes: float = 19.0
    ema: float = 0.999  # > 0: validate and keep an exponential moving average of the weights (decay per step);
    # it forgets the first weights at ema**step, so 0.999 suits PHOENIX's ~4900 steps and shorter runs need less
    # (ASLG: 0.995), which the trainer warns about
    speech_train: int = 0
    seed: int = 0
    threads: int = 0  # 0: leave torch's setting alone

    def __post_init__(self) -> None:
        if not 0.0 <= self.token_dropout < 1.0:
            raise ValueError(f"token_dropout must be in [0, 1), got {self.token_dropout}")
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {', '.join(MODELS)}, got {self.model!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")

    def resolved_text_frontend(self) -> str:
        if self.text_frontend:
            return self.text_frontend
        return "de-tokens" if self.corpus == "phoenix" else "minilm"


def learning_rate_factor(settings: GlossTrainSettings, total_steps: int) -> Callable[[int], float]:
    """The gloss trainers' LambdaLR factor: linear warm-up, then a cosine to 0 at `total_steps` or inverse square root."""

    def rate(step: int) -> float:
        step = max(step, 1)
        if step < settings.warmup_steps:
            return step / settings.warmup_steps
        if settings.schedule == "cosine":
            progress = min(1.0, (step - settings.warmup_steps) / max(1, total_steps - settings.warmup_steps))
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        return math.sqrt(settings.warmup_steps / step)

    return rate
