"""Training the edit tagger on ASLG-PC12: `bgtai train gloss --corpus aslg --model tagger`.

Every training pair (ASLG dev pairs 0..3599, `bgtai.train.gloss.load_pairs`) becomes one tag
per word (`bgtai.gloss.tagger_tags.derive_tags`); tags seen fewer than `MIN_TAG_COUNT` times
are left out of the loss (the network cannot learn them, and they never reach its output).
Dev pairs 3600..3999 select the model: every epoch ends with the BLEU-4 of the applied tags
against their references (with ASLG's artefact, as the references have it), and a better one
replaces `OUT/best` (written atomically). Test is never looked at.

It reads the shared `GlossTrainSettings`: `width` (LSTM units a direction), `dropout`, `lr`,
`weight_decay`, `warmup_steps`, `schedule`, `batch_size`, `max_epochs`, `max_minutes`,
`token_dropout` (a training word shown as `<unk>` now and then, so unseen words are met in
training), `seed`, `threads`; the transformer's options do not apply. A run is a few minutes,
so an interrupted one is started again rather than resumed.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from bgtai.atomic import write_text
from bgtai.gloss.checkpoint import parameter_count
from bgtai.gloss.metrics import gloss_scores
from bgtai.gloss.tagger import KIND, EditTagger, Prepared
from bgtai.gloss.tagger_model import UNK, EditTaggerNet, Featurizer, TaggerConfig, collate
from bgtai.gloss.tagger_tags import derive_tags
from bgtai.train.gloss_settings import GlossTrainSettings, learning_rate_factor

MIN_TAG_COUNT = 2
IGNORE = -100  # a word whose tag is too rare to learn: no loss


def _prepare_all(tagger: EditTagger, texts: list[str], progress: bool, what: str) -> list[Prepared]:
    return [tagger.prepare(text) for text in tqdm(texts, desc=f"rules + features ({what})", disable=not progress)]


def build_labels(tag_lists: list[list[str]], min_count: int = MIN_TAG_COUNT) -> list[str]:
    """The tag vocabulary: `RULE` first, then every tag seen at least `min_count` times, most frequent first."""
    counts = Counter(tag for tags in tag_lists for tag in tags)
    kept = [tag for tag, count in counts.most_common() if count >= min_count and tag != "RULE"]
    return ["RULE", *kept]


def train_tagger_on(
    settings: GlossTrainSettings,
    out: str | Path,
    train: tuple[list[str], list[str]],
    valid: tuple[list[str], list[str]],
    progress: bool = True,
) -> dict[str, Any]:
    """Train on `train` (sentences, glosses), keep the best by BLEU-4 on `valid` in `out/best`; returns the summary."""
    out = Path(out)
    if settings.threads:
        torch.set_num_threads(settings.threads)
    random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    started, cpu_started = time.perf_counter(), time.process_time()

    train_text, train_gloss = train
    valid_text, valid_gloss = valid
    # features need the vocabularies, which need the words: split and tag first
    probe = EditTagger(EditTaggerNet(TaggerConfig(words=2, suffixes=2, labels=1)), Featurizer([], []), ["RULE"])
    prepared = _prepare_all(probe, train_text, progress, "train")
    tag_lists = [[str(tag) for tag in derive_tags(item.words, gloss)] for item, gloss in zip(prepared, train_gloss)]
    labels = build_labels(tag_lists)
    featurizer = Featurizer.build([item.words for item in prepared])
    config = TaggerConfig(
        words=len(featurizer.words) + 2,
        suffixes=len(featurizer.suffix_list) + 2,
        labels=len(labels),
        width=settings.width,
        dropout=settings.dropout,
    )
    net = EditTaggerNet(config)
    meta: dict[str, Any] = {
        "corpus": settings.corpus,
        "model": "tagger",
        "settings": asdict(settings),
        "input": "English words + the rule glosser's token for each (bgtai.gloss.rules, ASLG artefacts)",
    }
    tagger = EditTagger(net, featurizer, labels, meta, aslg_artefacts=True)
    index = {label: i for i, label in enumerate(labels)}
    examples = []
    for item, tags in zip(prepared, tag_lists):
        item.features = featurizer.features(item.words, item.edits.rule)
        examples.append((item, torch.tensor([index.get(tag, IGNORE) for tag in tags], dtype=torch.long)))
    valid_prepared = _prepare_all(tagger, valid_text, progress, "valid")
    untaught = sum(int((target == IGNORE).sum()) for _, target in examples)
    prepared_s = time.perf_counter() - started

    optimiser = torch.optim.AdamW(net.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    steps_per_epoch = math.ceil(len(examples) / settings.batch_size)
    total_steps = settings.max_epochs * steps_per_epoch

    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, learning_rate_factor(settings, total_steps))
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=IGNORE)
    history: list[dict[str, Any]] = []
    best, step = -1.0, 0
    deadline = started + settings.max_minutes * 60
    epochs = tqdm(range(1, settings.max_epochs + 1), desc="gloss tagger", unit="epoch", disable=not progress)
    for epoch in epochs:
        net.train()
        order = list(range(len(examples)))
        rng.shuffle(order)
        total, count = 0.0, 0
        for start in range(0, len(order), settings.batch_size):
            batch = [examples[i] for i in order[start : start + settings.batch_size]]
            features, mask = collate([item.features for item, _ in batch])
            if settings.token_dropout > 0:
                dropped = (torch.rand(features.words.shape) < settings.token_dropout) & mask
                features.words = features.words.masked_fill(dropped, UNK)
            targets = torch.full(mask.shape, IGNORE, dtype=torch.long)
            for row, (_, target) in enumerate(batch):
                targets[row, : len(target)] = target
            loss = loss_fn(net(features, mask).reshape(-1, len(labels)), targets.reshape(-1))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            step += 1
            total += float(loss.detach()) * len(batch)
            count += len(batch)
            if time.perf_counter() > deadline:
                break
        scores = gloss_scores(tagger.gloss_prepared(valid_prepared), valid_gloss)
        record = {
            "epoch": epoch,
            "step": step,
            "lr": schedule.get_last_lr()[0],
            "train_loss": total / max(count, 1),
            "valid_bleu4": scores["bleu4"],
            "valid_wer": scores["wer"],
            "elapsed_s": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu_started,
        }
        history.append(record)
        if scores["bleu4"] > best:
            best = scores["bleu4"]
            tagger.meta = {**meta, "epoch": epoch, "valid_bleu4": best}
            tagger.save(out / "best")
        tqdm.write(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in record.items()}))
        epochs.set_postfix(loss=f"{record['train_loss']:.3f}", bleu4=f"{scores['bleu4']:.2f}", best=f"{best:.2f}")
        if time.perf_counter() > deadline:
            break
    summary = {
        "corpus": settings.corpus,
        "model": KIND,
        "best_valid_bleu4": best,
        "epochs": len(history),
        "steps": step,
        "train_examples": len(examples),
        "tags": len(labels),
        "words_without_a_learnt_tag": untaught,
        "parameters": parameter_count(net),
        "prepare_s": prepared_s,
        "total_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu_started,
        "threads": torch.get_num_threads(),
        "settings": asdict(settings),
        "history": history,
    }
    write_text(out / "history.json", json.dumps(summary, indent=2) + "\n")
    return summary


def train_tagger(settings: GlossTrainSettings, out: str | Path, progress: bool = True) -> dict[str, Any]:
    """Train on ASLG dev pairs 0..3599, select on 3600..3999 (see the module doc)."""
    from bgtai.train.gloss import load_pairs

    if settings.corpus != "aslg":
        raise ValueError("the edit tagger edits the English rule glosser's output: use --corpus aslg")
    if settings.speech_train:
        raise ValueError("the edit tagger reads text only: leave out --speech-train")
    return train_tagger_on(settings, out, load_pairs("aslg", "train"), load_pairs("aslg", "valid"), progress)
