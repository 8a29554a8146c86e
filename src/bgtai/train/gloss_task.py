"""Langue2Gloss as a task of the shared training loop (`bgtai.train.loop`): its data, model, batches and validation.

`GlossTask` reads the corpus (`bgtai.data.gloss_pairs`), builds the vocabularies and the source
features (plus Whisper frames of espeak-ng speech with `speech_train`), the model and, with
`ema > 0`, the weight average (`torch.optim.swa_utils.AveragedModel`) that is validated and
kept. Batches hold one front-end and similar source lengths, in an order drawn from the task's
own `random.Random`, which the checkpoint keeps; word dropout draws from torch's generator,
which the loop keeps. The vocabularies go into the checkpoint too: a BPE vocabulary built again
in another process can differ (huggingface/tokenizers#1794), and a resumed run must read its
sentences as the interrupted one did.
"""

from __future__ import annotations

import math
import random
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from bgtai.data.gloss_pairs import VALID_SPLIT, load_pairs, speech_files
from bgtai.gloss.checkpoint import GlossCheckpoint, load_checkpoint, save_checkpoint
from bgtai.gloss.metrics import gloss_scores
from bgtai.gloss.model import GlossDecoderConfig, Langue2Gloss, Langue2GlossConfig
from bgtai.gloss.translator import FEATURE_FRONTENDS, GlossTranslator, collate, source_features
from bgtai.gloss.vocab import BOS_ID, EOS_ID, UNK_ID, Vocab
from bgtai.model.language_encoder import LanguageEncoderConfig
from bgtai.train.gloss_run import RunClock, check_same_settings, settings_identity
from bgtai.train.gloss_settings import SPELLING, GlossTrainSettings
from bgtai.train.loop import Stage, StageSetup
from bgtai.train.schedule import warmup_decay

SPEECH_FRONTEND = "whisper-tiny-en"
EMA_FIRST_WEIGHT_LIMIT = 0.01  # warn when the weight average would still hold more of the first step than this
STAGE = "main"


@dataclass
class Example:
    source: np.ndarray
    target: list[int]
    frontend: str


def _batches(examples: list[Example], batch_size: int, rng: random.Random) -> list[list[Example]]:
    """Batches of one front-end and similar source length, in random order."""
    batches = []
    for frontend in sorted({e.frontend for e in examples}):
        group = sorted((e for e in examples if e.frontend == frontend), key=lambda e: len(e.source) + rng.random())
        batches += [group[i : i + batch_size] for i in range(0, len(group), batch_size)]
    rng.shuffle(batches)
    return batches


def _targets(batch: list[Example]) -> torch.Tensor:
    length = max(len(e.target) for e in batch) + 2
    out = torch.zeros(len(batch), length, dtype=torch.long)
    for row, example in enumerate(batch):
        ids = [BOS_ID, *example.target, EOS_ID]
        out[row, : len(ids)] = torch.tensor(ids)
    return out


def build_model(
    settings: GlossTrainSettings, source_vocab: Vocab | None, target_vocab: Vocab, frontends: list[str], max_target: int
) -> Langue2Gloss:
    feature = {name: FEATURE_FRONTENDS[name][1] for name in frontends if name in FEATURE_FRONTENDS}
    tokens = {
        name: len(source_vocab) for name in frontends if name not in FEATURE_FRONTENDS and source_vocab is not None
    }
    encoder = LanguageEncoderConfig(
        feature_frontends=feature,
        token_frontends=tokens,
        width=settings.width,
        layers=settings.encoder_layers,
        heads=settings.heads,
        ffn=settings.ffn,
        dropout=settings.dropout,
        frontend_stride={SPEECH_FRONTEND: 2} if SPEECH_FRONTEND in feature else {},
    )
    decoder = GlossDecoderConfig(
        vocab_size=len(target_vocab),
        layers=settings.decoder_layers,
        heads=settings.heads,
        ffn=settings.ffn,
        dropout=settings.dropout,
        max_length=max_target,
    )
    tie = next(iter(tokens)) if settings.shared_vocab and tokens else ""
    return Langue2Gloss(Langue2GlossConfig(encoder, decoder, label_smoothing=settings.label_smoothing, tie_source=tie))


def build_vocabularies(
    settings: GlossTrainSettings, train_text: list[str], train_gloss_text: list[str]
) -> tuple[Vocab | None, Vocab]:
    """(source vocabulary or None for a feature front-end, gloss vocabulary) from the training pairs."""
    text_frontend = settings.resolved_text_frontend()
    if settings.shared_vocab:
        if text_frontend in FEATURE_FRONTENDS or settings.corpus not in SPELLING:
            raise ValueError(
                f"a shared vocabulary needs a token front-end and a gloss spelling ({', '.join(SPELLING)}); "
                f"got front-end {text_frontend!r} on {settings.corpus}"
            )
        return Vocab.build_shared(
            train_text,
            train_gloss_text,
            SPELLING[settings.corpus],
            kind=settings.source_vocab,  # type: ignore[arg-type]
            size=settings.source_vocab_size,
        )
    target_vocab = Vocab.build(train_gloss_text, kind=settings.target_vocab, size=settings.target_vocab_size)  # type: ignore[arg-type]
    source_vocab = None
    if text_frontend not in FEATURE_FRONTENDS:
        source_vocab = Vocab.build(train_text, kind=settings.source_vocab, size=settings.source_vocab_size)  # type: ignore[arg-type]
    return source_vocab, target_vocab


class GlossTask:
    """One Langue2Gloss run's own parts; `bgtai.train.loop.TrainingLoop` calls them (see `bgtai.train.gloss`)."""

    def __init__(
        self,
        settings: GlossTrainSettings,
        progress: bool = True,
        vocabularies: tuple[str | None, str] | None = None,
    ) -> None:
        self.settings = settings
        if settings.threads:
            torch.set_num_threads(settings.threads)
        random.seed(settings.seed)
        np.random.seed(settings.seed)
        torch.manual_seed(settings.seed)
        self.rng = random.Random(settings.seed)  # the batch order: kept in the checkpoint
        self.clock = RunClock()
        self.text_frontend = text_frontend = settings.resolved_text_frontend()
        if settings.speech_train and settings.corpus != "aslg":
            raise ValueError("speech training needs English sentences: use --corpus aslg")

        train_text, train_gloss_text = load_pairs(settings.corpus, "train")
        valid_text, self.valid_gloss_text = load_pairs(settings.corpus, VALID_SPLIT[settings.corpus])
        if vocabularies is None:
            self.source_vocab, self.target_vocab = build_vocabularies(settings, train_text, train_gloss_text)
        else:
            self.source_vocab = None if vocabularies[0] is None else Vocab.from_json(vocabularies[0])
            self.target_vocab = Vocab.from_json(vocabularies[1])

        targets = self.target_vocab.encode_many(train_gloss_text)
        self.examples = [
            Example(s, t, text_frontend)
            for s, t in zip(source_features(text_frontend, train_text, self.source_vocab, progress), targets)
        ]
        frontends = [text_frontend]
        if settings.speech_train:
            count = min(settings.speech_train, len(train_text))
            wavs = speech_files(settings.corpus, "train", train_text[:count])
            speech = source_features(SPEECH_FRONTEND, wavs, progress=progress)
            self.examples += [Example(s, t, SPEECH_FRONTEND) for s, t in zip(speech, targets[:count])]
            frontends.append(SPEECH_FRONTEND)
        self.valid_sources = source_features(text_frontend, valid_text, self.source_vocab, progress)
        self.prepare_s = self.clock.wall()

        max_target = int(max(len(t) for t in targets) * 1.5) + 10
        self.model = build_model(settings, self.source_vocab, self.target_vocab, frontends, max_target)
        # the batch count does not depend on the order: count it with a generator of its own
        self.steps_per_epoch = len(_batches(self.examples, settings.batch_size, random.Random(0)))
        self.total_steps = settings.max_epochs * self.steps_per_epoch
        self.averaged = self._new_average()
        self.meta = {
            "corpus": settings.corpus,
            "text_frontend": text_frontend,
            "audio_frontend": SPEECH_FRONTEND if settings.speech_train else None,
            "settings": asdict(settings),
        }
        self.stages = [Stage(STAGE, settings.max_epochs)]
        self.epoch = 0  # the epoch being trained or just validated, from 1
        self.loss_sum, self.loss_count = 0.0, 0
        self.bleu4, self.decode_s = math.nan, 0.0

    def _new_average(self) -> torch.optim.swa_utils.AveragedModel | None:
        ema = self.settings.ema
        if ema <= 0:
            return None
        averaged = torch.optim.swa_utils.AveragedModel(
            self.model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(ema)
        )
        left = ema**self.total_steps
        if left > EMA_FIRST_WEIGHT_LIMIT:
            # the average starts from the first step's weights and forgets them at ema**step: over a short run
            # they stay in the kept model (ASLG's 57 steps an epoch at 0.999 kept 14 % after 34 epochs)
            warnings.warn(
                f"ema {ema} over the run's {self.total_steps} steps keeps {left:.0%} of the first step's "
                f"weights in the validated model; a decay of at most {1 - 5 / self.total_steps:.4f} forgets them "
                f"(--ema)",
                stacklevel=4,
            )
        return averaged

    @property
    def kept(self) -> nn.Module:
        """The model that is validated and saved: the weight average with `ema`, else the weights."""
        return self.model if self.averaged is None else self.averaged.module

    @property
    def vocabularies(self) -> tuple[str | None, str]:
        return (None if self.source_vocab is None else self.source_vocab.to_json(), self.target_vocab.to_json())

    def checkpoint(self, meta: dict[str, Any]) -> GlossCheckpoint:
        return GlossCheckpoint(self.kept, self.target_vocab, self.source_vocab, meta)

    # -- the loop's calls -------------------------------------------------------------------

    def begin_stage(self, index: int) -> StageSetup:
        settings = self.settings
        optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay, betas=(0.9, 0.98)
        )
        factor = warmup_decay(settings.schedule, settings.warmup_steps, self.total_steps)
        return StageSetup(self.model, optimizer, self.steps_per_epoch, factor)

    def plan(self, epoch: int) -> list[list[Example]]:
        self.epoch = epoch + 1
        self.loss_sum, self.loss_count = 0.0, 0
        return _batches(self.examples, self.settings.batch_size, self.rng)

    def loss(self, module: nn.Module, batch: list[Example], epoch: int) -> torch.Tensor:
        features, mask = collate([e.source for e in batch])
        if self.settings.token_dropout > 0 and not features.is_floating_point():
            # word dropout (Sennrich & Zhang 2019): a sentence word seen as <unk> now and then
            dropped = (torch.rand(features.shape) < self.settings.token_dropout) & mask
            features = features.masked_fill(dropped, UNK_ID)
        loss = module.loss(features, mask, batch[0].frontend, _targets(batch))
        self.loss_sum += float(loss.detach()) * len(batch)
        self.loss_count += len(batch)
        return loss

    def after_micro_batch(self, stepped: bool) -> None:
        if stepped and self.averaged is not None:
            self.averaged.update_parameters(self.model)

    def epoch_fields(self) -> dict[str, Any]:
        # train_loss: the mean over examples (the loop's own is over batches), as the history always had it
        return {
            "seed": self.settings.seed,
            "train_loss": self.loss_sum / max(self.loss_count, 1),
            "elapsed_s": self.clock.wall(),
            "cpu_s": self.clock.cpu(),
            "valid_decode_s": self.decode_s,
        }

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Greedy decode of the validation split by the kept model: BLEU-4 (selects) and WER."""
        started = time.perf_counter()
        kept = self.kept
        kept.eval()
        translator = GlossTranslator(self.checkpoint(self.meta), beam=1)
        scores = gloss_scores(
            translator.translate_sources(self.valid_sources, self.text_frontend), self.valid_gloss_text
        )
        self.bleu4, self.decode_s = scores["bleu4"], time.perf_counter() - started
        return {"valid_bleu4": scores["bleu4"], "valid_wer": scores["wer"]}

    def save_model(self, folder: Path) -> None:
        save_checkpoint(folder, self.checkpoint({**self.meta, "epoch": self.epoch, "valid_bleu4": self.bleu4}))

    def end_stage(self, best: Path) -> None:
        pass  # one stage

    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "averaged": None if self.averaged is None else self.averaged.state_dict(),
            "rng": self.rng.getstate(),
            "vocabularies": self.vocabularies,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        if self.averaged is not None:
            self.averaged.load_state_dict(state["averaged"])
        self.rng.setstate(state["rng"])

    def check_resumable(self, saved: dict[str, Any], path: Path) -> None:
        check_same_settings(settings_identity(self.settings), saved, path)

    def restore_best(self, best: Path) -> None:
        self.model.load_state_dict(load_checkpoint(best).model.state_dict())
        self.averaged = self._new_average()
