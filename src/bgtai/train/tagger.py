"""Training the edit tagger on ASLG-PC12: `bgtai train gloss --recipe aslg-tagger` (or `--corpus aslg --model tagger`).

Every training pair (ASLG dev pairs 0..3599, `bgtai.data.gloss_pairs.load_pairs`) becomes one tag
per word (`bgtai.gloss.tagger_tags.derive_tags`); tags seen fewer than `MIN_TAG_COUNT` times
are left out of the loss (the network cannot learn them, and they never reach its output).
Dev pairs 3600..3999 select the model: every epoch ends with the BLEU-4 of the applied tags
against their references (with ASLG's artefact, as the references have it), and a better one
replaces `OUT/best` (written atomically). Test is never looked at.

`TaggerTask` is a task of the shared loop (`bgtai.train.loop`, settings in
`bgtai.train.gloss_run`): checkpoints every epoch, `resume=True` after a kill, `log.csv`; the
sentence order of each epoch comes from the task's own `random.Random`, kept in the checkpoint.
Training stops after `max_epochs` or at the end of the first epoch past `max_minutes` (before
the shared loop the limit also cut an epoch short).

It reads the shared `GlossTrainSettings`: `width` (LSTM units a direction), `dropout`, `lr`,
`weight_decay`, `warmup_steps`, `schedule`, `batch_size`, `max_epochs`, `max_minutes`,
`token_dropout` (a training word shown as `<unk>` now and then, so unseen words are met in
training), `seed`, `threads`; the transformer's options do not apply.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from bgtai.data.gloss_pairs import load_pairs
from bgtai.gloss.checkpoint import parameter_count
from bgtai.gloss.metrics import gloss_scores
from bgtai.gloss.tagger import KIND, EditTagger, Prepared
from bgtai.gloss.tagger_model import UNK, EditTaggerNet, Featurizer, TaggerConfig, collate
from bgtai.gloss.tagger_tags import derive_tags
from bgtai.train.gloss_run import (
    RunClock,
    check_same_settings,
    prepare_folder,
    run_loop,
    settings_identity,
    write_summary,
)
from bgtai.train.gloss_settings import GlossTrainSettings
from bgtai.train.loop import Stage, StageSetup
from bgtai.train.schedule import warmup_decay

MIN_TAG_COUNT = 2
IGNORE = -100  # a word whose tag is too rare to learn: no loss
STAGE = "main"

Example = tuple[Prepared, torch.Tensor]  # a prepared sentence and its tag ids (IGNORE: not learnt)


def _prepare_all(tagger: EditTagger, texts: list[str], progress: bool, what: str) -> list[Prepared]:
    return [tagger.prepare(text) for text in tqdm(texts, desc=f"rules + features ({what})", disable=not progress)]


def build_labels(tag_lists: list[list[str]], min_count: int = MIN_TAG_COUNT) -> list[str]:
    """The tag vocabulary: `RULE` first, then every tag seen at least `min_count` times, most frequent first."""
    counts = Counter(tag for tags in tag_lists for tag in tags)
    kept = [tag for tag, count in counts.most_common() if count >= min_count and tag != "RULE"]
    return ["RULE", *kept]


class TaggerTask:
    """One edit-tagger run's own parts: tags, features, the network, batches and validation."""

    def __init__(
        self,
        settings: GlossTrainSettings,
        train: tuple[list[str], list[str]],
        valid: tuple[list[str], list[str]],
        progress: bool = True,
    ) -> None:
        self.settings = settings
        if settings.threads:
            torch.set_num_threads(settings.threads)
        random.seed(settings.seed)
        torch.manual_seed(settings.seed)
        self.rng = random.Random(settings.seed)  # the sentence order: kept in the checkpoint
        self.clock = RunClock()
        train_text, train_gloss = train
        valid_text, self.valid_gloss = valid
        # features need the vocabularies, which need the words: split and tag first
        probe = EditTagger(EditTaggerNet(TaggerConfig(words=2, suffixes=2, labels=1)), Featurizer([], []), ["RULE"])
        prepared = _prepare_all(probe, train_text, progress, "train")
        tag_lists = [[str(tag) for tag in derive_tags(item.words, gloss)] for item, gloss in zip(prepared, train_gloss)]
        self.labels = build_labels(tag_lists)
        featurizer = Featurizer.build([item.words for item in prepared])
        config = TaggerConfig(
            words=len(featurizer.words) + 2,
            suffixes=len(featurizer.suffix_list) + 2,
            labels=len(self.labels),
            width=settings.width,
            dropout=settings.dropout,
        )
        self.net = EditTaggerNet(config)
        self.meta: dict[str, Any] = {
            "corpus": settings.corpus,
            "model": "tagger",
            "settings": asdict(settings),
            "input": "English words + the rule glosser's token for each (bgtai.gloss.rules, ASLG artefacts)",
        }
        self.tagger = EditTagger(self.net, featurizer, self.labels, self.meta, aslg_artefacts=True)
        index = {label: i for i, label in enumerate(self.labels)}
        self.examples: list[Example] = []
        for item, tags in zip(prepared, tag_lists):
            item.features = featurizer.features(item.words, item.edits.rule)
            self.examples.append((item, torch.tensor([index.get(tag, IGNORE) for tag in tags], dtype=torch.long)))
        self.valid_prepared = _prepare_all(self.tagger, valid_text, progress, "valid")
        self.untaught = sum(int((target == IGNORE).sum()) for _, target in self.examples)
        self.prepare_s = self.clock.wall()
        self.loss_fn = torch.nn.CrossEntropyLoss(ignore_index=IGNORE)
        self.steps_per_epoch = math.ceil(len(self.examples) / settings.batch_size)
        self.stages = [Stage(STAGE, settings.max_epochs)]
        self.epoch = 0  # the epoch being trained or just validated, from 1
        self.loss_sum, self.loss_count = 0.0, 0
        self.bleu4 = math.nan

    # -- the loop's calls -------------------------------------------------------------------

    def begin_stage(self, index: int) -> StageSetup:
        settings = self.settings
        optimizer = torch.optim.AdamW(self.net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
        total_steps = settings.max_epochs * self.steps_per_epoch
        factor = warmup_decay(settings.schedule, settings.warmup_steps, total_steps)
        return StageSetup(self.net, optimizer, self.steps_per_epoch, factor)

    def plan(self, epoch: int) -> list[list[Example]]:
        self.epoch = epoch + 1
        self.loss_sum, self.loss_count = 0.0, 0
        order = list(range(len(self.examples)))
        self.rng.shuffle(order)
        size = self.settings.batch_size
        return [[self.examples[i] for i in order[start : start + size]] for start in range(0, len(order), size)]

    def loss(self, module: nn.Module, batch: list[Example], epoch: int) -> torch.Tensor:
        features, mask = collate([item.features for item, _ in batch])
        if self.settings.token_dropout > 0:
            dropped = (torch.rand(features.words.shape) < self.settings.token_dropout) & mask
            features.words = features.words.masked_fill(dropped, UNK)
        targets = torch.full(mask.shape, IGNORE, dtype=torch.long)
        for row, (_, target) in enumerate(batch):
            targets[row, : len(target)] = target
        loss = self.loss_fn(module(features, mask).reshape(-1, len(self.labels)), targets.reshape(-1))
        self.loss_sum += float(loss.detach()) * len(batch)
        self.loss_count += len(batch)
        return loss

    def after_micro_batch(self, stepped: bool) -> None:
        pass

    def epoch_fields(self) -> dict[str, Any]:
        # train_loss: the mean over sentences (the loop's own is over batches), as the history always had it
        return {
            "train_loss": self.loss_sum / max(self.loss_count, 1),
            "elapsed_s": self.clock.wall(),
            "cpu_s": self.clock.cpu(),
        }

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        scores = gloss_scores(self.tagger.gloss_prepared(self.valid_prepared), self.valid_gloss)
        self.bleu4 = scores["bleu4"]
        return {"valid_bleu4": scores["bleu4"], "valid_wer": scores["wer"]}

    def save_model(self, folder: Path) -> None:
        self.tagger.meta = {**self.meta, "epoch": self.epoch, "valid_bleu4": self.bleu4}
        self.tagger.save(folder)

    def end_stage(self, best: Path) -> None:
        pass  # one stage

    def state_dict(self) -> dict[str, Any]:
        return {"net": self.net.state_dict(), "rng": self.rng.getstate()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.rng.setstate(state["rng"])

    def check_resumable(self, saved: dict[str, Any], path: Path) -> None:
        check_same_settings(settings_identity(self.settings), saved, path)

    def restore_best(self, best: Path) -> None:
        self.net.load_state_dict(EditTagger.load(best).net.state_dict())


def train_tagger_on(
    settings: GlossTrainSettings,
    out: str | Path,
    train: tuple[list[str], list[str]],
    valid: tuple[list[str], list[str]],
    progress: bool = True,
    resume: bool = False,
    on_step: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Train on `train` (sentences, glosses), keep the best by BLEU-4 on `valid` in `out/best`; returns the summary."""
    out = Path(out)
    prepare_folder(out, resume)
    task = TaggerTask(settings, train, valid, progress)
    result = run_loop(task, settings, out, resume, progress, on_step)
    summary = {
        "corpus": settings.corpus,
        "model": KIND,
        "best_valid_bleu4": result.best_value if math.isfinite(result.best_value) else -1.0,
        "epochs": len(result.history),
        "steps": result.steps,
        "train_examples": len(task.examples),
        "tags": len(task.labels),
        "words_without_a_learnt_tag": task.untaught,
        "parameters": parameter_count(task.net),
        "prepare_s": task.prepare_s,
        "total_s": task.clock.wall(),
        "cpu_s": task.clock.cpu(),
        "threads": torch.get_num_threads(),
        "settings": asdict(settings),
        "history": result.history,
    }
    write_summary(out, summary)
    return summary


def train_tagger(
    settings: GlossTrainSettings,
    out: str | Path,
    progress: bool = True,
    resume: bool = False,
    on_step: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Train on ASLG dev pairs 0..3599, select on 3600..3999 (see the module doc)."""
    if settings.corpus != "aslg":
        raise ValueError("the edit tagger edits the English rule glosser's output: use --corpus aslg")
    if settings.speech_train:
        raise ValueError("the edit tagger reads text only: leave out --speech-train")
    train, valid = load_pairs("aslg", "train"), load_pairs("aslg", "valid")
    return train_tagger_on(settings, out, train, valid, progress, resume, on_step)


__all__ = ["IGNORE", "MIN_TAG_COUNT", "TaggerTask", "build_labels", "train_tagger", "train_tagger_on"]
