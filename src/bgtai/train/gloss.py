"""Training Langue2Gloss on a gloss corpus (ASLG-PC12 or PHOENIX-2014T), best checkpoint by validation BLEU-4.

    train_gloss(load_gloss_recipe("phoenix"), "runs/gloss-phoenix")

Splits (`bgtai.data.gloss_pairs`): PHOENIX uses its official train/dev/test; ASLG trains on
dev pairs 0..3599, selects on dev 3600..3999 and is scored on test. With `speech_train > 0`
(English only) the first `speech_train` training sentences are also spoken by espeak-ng and
given as Whisper frames, so the same model learns both front-ends; batches hold one front-end
each. With `shared_vocab` (token front-ends: PHOENIX's German) sentence and gloss get one
vocabulary, learnt from both with the sentence spelt as the glosses spell words
(`bgtai.gloss.vocab`), and the encoder's token table is the decoder's
(`Langue2GlossConfig.tie_source`).

The model, data, batches and validation are `bgtai.train.gloss_task.GlossTask`, run by the shared
loop (`bgtai.train.loop`), which owns the schedule, clipping, checkpoints, resume and `log.csv`.
Every epoch ends with a greedy decode of the validation set; a better BLEU-4 replaces `OUT/best`
(written atomically, `bgtai.gloss.checkpoint.save_checkpoint`), and a checkpoint is written, so
`resume=True` (`bgtai train gloss ... --resume`) after a kill repeats the interrupted epoch and
ends with the weights and history of an uninterrupted run. With `ema > 0` the model validated
and kept is an exponential moving average of the weights, updated after every step
(`torch.optim.swa_utils.AveragedModel`): on a small corpus the raw weights jump from epoch to
epoch, and their average decodes better.

Training stops after `max_epochs`, or at the end of the first epoch that ends past
`max_minutes` of wall time counted from the first training step. (Before the shared loop the
limit counted the preparation too and cut the epoch it fell in, validating what was learnt of
it; now an epoch is always finished, so a run can end up to one epoch past the limit.)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch

from bgtai.data.gloss_pairs import ASLG_VALID_START, TTS_VOICE, VALID_SPLIT, load_pairs, speech_files
from bgtai.gloss.checkpoint import load_checkpoint, parameter_count, save_ensemble
from bgtai.gloss.metrics import gloss_scores
from bgtai.gloss.translator import GlossTranslator, source_features
from bgtai.train.gloss_run import (
    BEST,
    HISTORY,
    prepare_folder,
    run_loop,
    saved_task_state,
    write_summary,
)
from bgtai.train.gloss_settings import GlossTrainSettings, load_gloss_recipe
from bgtai.train.gloss_task import (
    EMA_FIRST_WEIGHT_LIMIT,
    SPEECH_FRONTEND,
    Example,
    GlossTask,
    build_model,
    build_vocabularies,
)
from bgtai.train.parent_watch import exit_with_parent


def train_gloss(
    settings: GlossTrainSettings,
    out: str | Path,
    progress: bool = True,
    vocabularies: tuple[str | None, str] | None = None,
    resume: bool = False,
    on_step: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Train, keep the best checkpoint in `out/best`, write `out/history.json`; returns the summary.

    `vocabularies` (source, gloss; as `Vocab.to_json`) replaces building them from the training pairs: ensemble
    members need the very same ones, and a BPE vocabulary trained twice on the same text can differ. A resumed
    run reads them from its checkpoint. `on_step(step)` is called after every optimiser step.
    """
    out = Path(out)
    prepare_folder(out, resume)
    saved = saved_task_state(out) if resume else None
    if saved is not None:
        vocabularies = saved["vocabularies"]  # what the interrupted run read its sentences with
    task = GlossTask(settings, progress, vocabularies)
    result = run_loop(task, settings, out, resume, progress, on_step)
    summary = {
        "corpus": settings.corpus,
        "best_valid_bleu4": result.best_value if math.isfinite(result.best_value) else -1.0,
        "epochs": len(result.history),
        "steps": result.steps,
        "train_examples": len(task.examples),
        "parameters": parameter_count(task.model),
        "prepare_s": task.prepare_s,
        "total_s": task.clock.wall(),
        "cpu_s": task.clock.cpu(),
        "threads": torch.get_num_threads(),
        "settings": asdict(settings),
        "history": result.history,
    }
    write_summary(out, summary)
    return summary


def _train_member(
    settings: GlossTrainSettings, out: Path, vocabularies: tuple[str | None, str], resume: bool
) -> dict[str, Any]:
    return train_gloss(settings, out, progress=False, vocabularies=vocabularies, resume=resume)


def train_gloss_ensemble(
    settings: GlossTrainSettings, out: str | Path, members: int, resume: bool = False
) -> dict[str, Any]:
    """Train `members` models side by side, one process each (seeds `seed`, `seed + 1`, ...; `threads` each,
    default 1), into `out/member-K`; `out/best` is their ensemble (`bgtai.gloss.checkpoint.save_ensemble`),
    scored greedily on the validation split like a single model. Returns the summary, also `out/history.json`.
    With `resume` every member continues from its own checkpoint."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if members < 2:
        raise ValueError(f"an ensemble needs at least 2 members, got {members}")
    out = Path(out)
    started = time.perf_counter()
    for k in range(members):  # refuse a second run into the folders before any member starts
        prepare_folder(out / f"member-{k}", resume)
    # one set of vocabularies for all: members must share their ids, and BPE training is not repeatable across
    # processes (huggingface/tokenizers#1794: ids follow hash-map order, and ids break ties between merges)
    source_vocab, target_vocab = build_vocabularies(settings, *load_pairs(settings.corpus, "train"))
    vocabularies = (None if source_vocab is None else source_vocab.to_json(), target_vocab.to_json())
    plans = [
        (
            replace(settings, seed=settings.seed + k, threads=settings.threads or 1),
            out / f"member-{k}",
            vocabularies,
            resume,
        )
        for k in range(members)
    ]
    # spawn: a forked child would inherit this process's torch thread pool and any open model state;
    # exit_with_parent: a killed `bgtai train gloss --members N` must not leave members writing into OUT
    with ProcessPoolExecutor(
        max_workers=members, mp_context=multiprocessing.get_context("spawn"), initializer=exit_with_parent
    ) as pool:
        summaries = list(pool.map(_train_member, *zip(*plans)))
    checkpoints = [load_checkpoint(folder / BEST) for _, folder, _, _ in plans]
    translator = GlossTranslator(checkpoints, beam=1)
    valid_text, valid_gloss_text = load_pairs(settings.corpus, VALID_SPLIT[settings.corpus])
    text_frontend = translator.text_frontend
    sources = source_features(text_frontend, valid_text, checkpoints[0].source_vocab, progress=False)
    bleu4 = gloss_scores(translator.translate_sources(sources, text_frontend), valid_gloss_text)["bleu4"]
    first = checkpoints[0].meta
    meta = {
        "corpus": settings.corpus,
        "text_frontend": first["text_frontend"],
        "audio_frontend": first.get("audio_frontend"),
        "ensemble_valid_bleu4": bleu4,
        "members": [
            {"seed": c.meta["settings"]["seed"], "epoch": c.meta.get("epoch"), "valid_bleu4": c.meta.get("valid_bleu4")}
            for c in checkpoints
        ],
        "settings": asdict(settings),
    }
    save_ensemble(out / BEST, [folder / BEST for _, folder, _, _ in plans], meta)
    summary = {
        "corpus": settings.corpus,
        "best_valid_bleu4": bleu4,
        "members": summaries,
        "total_s": time.perf_counter() - started,
        "cpu_s": sum(m["cpu_s"] for m in summaries),
        "threads": sum(m["threads"] for m in summaries),
        "epochs": [m["epochs"] for m in summaries],
        "steps": [m["steps"] for m in summaries],
        "settings": asdict(settings),
    }
    write_summary(out, summary)
    return summary


__all__ = [
    "ASLG_VALID_START",
    "EMA_FIRST_WEIGHT_LIMIT",
    "HISTORY",
    "SPEECH_FRONTEND",
    "TTS_VOICE",
    "VALID_SPLIT",
    "Example",
    "GlossTask",
    "GlossTrainSettings",
    "build_model",
    "build_vocabularies",
    "load_gloss_recipe",
    "load_pairs",
    "speech_files",
    "train_gloss",
    "train_gloss_ensemble",
]
