"""Training Langue2Gloss on a gloss corpus (ASLG-PC12 or PHOENIX-2014T), best checkpoint by validation BLEU-4.

Splits: PHOENIX uses its official train/dev/test. ASLG here has only its dev (4000 pairs)
and test (1000) files: the model trains on dev pairs 0..3599, selects on dev 3600..3999 and
is scored on test. With `speech_train > 0` (English only) the first `speech_train` training
sentences are also spoken by espeak-ng and given as Whisper frames, so the same model learns
both front-ends; batches hold one front-end each.

With `shared_vocab` (token front-ends: PHOENIX's German) sentence and gloss get one vocabulary,
learnt from both with the sentence spelt as the glosses spell words (`bgtai.gloss.vocab`), and
the encoder's token table is the decoder's (`Langue2GlossConfig.tie_source`).

Training stops at `max_epochs` or when `max_minutes` of wall time are used, whichever first;
every epoch ends with a greedy decode of the validation set, and a better BLEU-4 replaces
`OUT/best` (written atomically). With `ema > 0` the model validated and kept is an exponential
moving average of the weights, updated after every step (`torch.optim.swa_utils.AveragedModel`):
on a small corpus the raw weights jump from epoch to epoch, and their average decodes better.
"""

from __future__ import annotations

import json
import random
import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from bgtai.config import cache_dir
from bgtai.data.parallel_text import load_gloss
from bgtai.gloss.checkpoint import GlossCheckpoint, load_checkpoint, parameter_count, save_checkpoint, save_ensemble
from bgtai.gloss.metrics import gloss_scores
from bgtai.gloss.model import GlossDecoderConfig, Langue2Gloss, Langue2GlossConfig
from bgtai.gloss.translator import (
    FEATURE_FRONTENDS,
    GlossTranslator,
    collate,
    source_features,
)
from bgtai.gloss.vocab import BOS_ID, EOS_ID, UNK_ID, Vocab
from bgtai.io.tts import speak
from bgtai.model.language_encoder import LanguageEncoderConfig
from bgtai.train.gloss_settings import CORPORA, SPELLING, GlossTrainSettings, learning_rate_factor
from bgtai.train.parent_watch import exit_with_parent

SPEECH_FRONTEND = "whisper-tiny-en"
ASLG_VALID_START = 3600  # ASLG dev pairs from here on select the model; the rest train it
EMA_FIRST_WEIGHT_LIMIT = 0.01  # warn when the weight average would still hold more of the first step than this
VALID_SPLIT = {"aslg": "valid", "phoenix": "dev"}  # the split that selects the model
TTS_VOICE = {"aslg": "en-us", "phoenix": "de"}  # the espeak-ng voice that speaks a corpus's sentences


# ---------------------------------------------------------------------------------------------
# data


def load_pairs(corpus: str, split: str) -> tuple[list[str], list[str]]:
    """(sentences, glosses) of a split: phoenix train/dev/test; aslg train/valid/test (see module doc)."""
    if corpus not in CORPORA:
        raise ValueError(f"unknown gloss corpus {corpus!r}: use one of {', '.join(CORPORA)}")
    file_split = {"train": "dev", "valid": "dev"}.get(split, split) if corpus == "aslg" else split
    pairs = load_gloss(corpus, file_split)
    if corpus == "aslg" and split in ("train", "valid"):
        pairs = pairs[:ASLG_VALID_START] if split == "train" else pairs[ASLG_VALID_START:]
    return [pair.source for pair in pairs], [pair.target for pair in pairs]


def speech_files(corpus: str, split: str, sentences: list[str]) -> list[Path]:
    """One espeak-ng WAV per sentence (voice `TTS_VOICE[corpus]`), made once and kept in the cache folder."""
    file_split = {"train": "dev", "valid": "dev"}.get(split, split) if corpus == "aslg" else split
    offset = ASLG_VALID_START if (corpus == "aslg" and split == "valid") else 0
    voice = TTS_VOICE[corpus]
    folder = cache_dir() / "tts" / f"espeak-ng-{voice}" / corpus / file_split
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, sentence in enumerate(sentences):
        path = folder / f"{index + offset:05d}.wav"
        if not path.is_file():
            temporary = path.with_name(f".{path.name}.tmp.wav")
            speak(sentence, temporary, voice=voice, rate=175)  # espeak-ng's default rate, as the files already made
            temporary.replace(path)
        paths.append(path)
    return paths


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


# ---------------------------------------------------------------------------------------------
# training


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


def train_gloss(
    settings: GlossTrainSettings,
    out: str | Path,
    progress: bool = True,
    vocabularies: tuple[str | None, str] | None = None,
) -> dict[str, Any]:
    """Train, keep the best checkpoint in `out/best`, write `out/history.json`; returns the summary.

    `vocabularies` (source, gloss; as `Vocab.to_json`) replaces building them from the training pairs: ensemble
    members need the very same ones, and a BPE vocabulary trained twice on the same text can differ.
    """
    out = Path(out)
    if settings.threads:
        torch.set_num_threads(settings.threads)
    random.seed(settings.seed)
    np.random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)
    started = time.perf_counter()
    cpu_started = time.process_time()
    text_frontend = settings.resolved_text_frontend()
    if settings.speech_train and settings.corpus != "aslg":
        raise ValueError("speech training needs English sentences: use --corpus aslg")

    train_text, train_gloss_text = load_pairs(settings.corpus, "train")
    valid_text, valid_gloss_text = load_pairs(settings.corpus, VALID_SPLIT[settings.corpus])

    if vocabularies is None:
        source_vocab, target_vocab = build_vocabularies(settings, train_text, train_gloss_text)
    else:
        source_vocab = None if vocabularies[0] is None else Vocab.from_json(vocabularies[0])
        target_vocab = Vocab.from_json(vocabularies[1])

    targets = target_vocab.encode_many(train_gloss_text)
    examples = [
        Example(s, t, text_frontend)
        for s, t in zip(source_features(text_frontend, train_text, source_vocab, progress), targets)
    ]
    frontends = [text_frontend]
    if settings.speech_train:
        count = min(settings.speech_train, len(train_text))
        wavs = speech_files(settings.corpus, "train", train_text[:count])
        speech = source_features(SPEECH_FRONTEND, wavs, progress=progress)
        examples += [Example(s, t, SPEECH_FRONTEND) for s, t in zip(speech, targets[:count])]
        frontends.append(SPEECH_FRONTEND)
    valid_sources = source_features(text_frontend, valid_text, source_vocab, progress)
    prepared_s = time.perf_counter() - started

    max_target = int(max(len(t) for t in targets) * 1.5) + 10
    model = build_model(settings, source_vocab, target_vocab, frontends, max_target)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay, betas=(0.9, 0.98)
    )

    total_steps = settings.max_epochs * len(_batches(examples, settings.batch_size, random.Random(0)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, learning_rate_factor(settings, total_steps))
    averaged = None
    if settings.ema > 0:
        averaged = torch.optim.swa_utils.AveragedModel(
            model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(settings.ema)
        )
        left = settings.ema**total_steps
        if left > EMA_FIRST_WEIGHT_LIMIT:
            # the average starts from the first step's weights and forgets them at ema**step: over a short run
            # they stay in the kept model (ASLG's 57 steps an epoch at 0.999 kept 14 % after 34 epochs)
            warnings.warn(
                f"ema {settings.ema} over the run's {total_steps} steps keeps {left:.0%} of the first step's "
                f"weights in the validated model; a decay of at most {1 - 5 / total_steps:.4f} forgets them "
                f"(--ema)",
                stacklevel=2,
            )
    meta = {
        "corpus": settings.corpus,
        "text_frontend": text_frontend,
        "audio_frontend": SPEECH_FRONTEND if settings.speech_train else None,
        "settings": asdict(settings),
    }
    history: list[dict[str, Any]] = []
    best = -1.0
    step = 0
    deadline = started + settings.max_minutes * 60
    epochs = tqdm(
        range(1, settings.max_epochs + 1), desc=f"gloss {settings.corpus}", unit="epoch", disable=not progress
    )
    for epoch in epochs:
        model.train()
        total, count = 0.0, 0
        for batch in _batches(examples, settings.batch_size, rng):
            features, mask = collate([e.source for e in batch])
            if settings.token_dropout > 0 and not features.is_floating_point():
                # word dropout (Sennrich & Zhang 2019): a sentence word seen as <unk> now and then
                dropped = (torch.rand(features.shape) < settings.token_dropout) & mask
                features = features.masked_fill(dropped, UNK_ID)
            loss = model.loss(features, mask, batch[0].frontend, _targets(batch))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            if averaged is not None:
                averaged.update_parameters(model)
            step += 1
            total += float(loss.detach()) * len(batch)
            count += len(batch)
            if time.perf_counter() > deadline:
                break  # out of time: validate what was learnt so far and stop
        train_s = time.perf_counter() - started
        kept = model if averaged is None else averaged.module
        kept.eval()
        translator = GlossTranslator(GlossCheckpoint(kept, target_vocab, source_vocab, meta), beam=1)
        hypotheses = translator.translate_sources(valid_sources, text_frontend)
        scores = gloss_scores(hypotheses, valid_gloss_text)
        elapsed = time.perf_counter() - started
        record = {
            "seed": settings.seed,
            "epoch": epoch,
            "step": step,
            "lr": schedule.get_last_lr()[0],
            "train_loss": total / max(count, 1),
            "valid_bleu4": scores["bleu4"],
            "valid_wer": scores["wer"],
            "elapsed_s": elapsed,
            "cpu_s": time.process_time() - cpu_started,
            "valid_decode_s": elapsed - train_s,
        }
        history.append(record)
        if scores["bleu4"] > best:
            best = scores["bleu4"]
            save_checkpoint(
                out / "best",
                GlossCheckpoint(kept, target_vocab, source_vocab, {**meta, "epoch": epoch, "valid_bleu4": best}),
            )
        tqdm.write(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in record.items()}))
        epochs.set_postfix(loss=f"{record['train_loss']:.3f}", bleu4=f"{scores['bleu4']:.2f}", best=f"{best:.2f}")
        if time.perf_counter() > deadline:
            break
    summary = {
        "corpus": settings.corpus,
        "best_valid_bleu4": best,
        "epochs": len(history),
        "steps": step,
        "train_examples": len(examples),
        "parameters": parameter_count(model),
        "prepare_s": prepared_s,
        "total_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu_started,
        "threads": torch.get_num_threads(),
        "settings": asdict(settings),
        "history": history,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "history.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _train_member(settings: GlossTrainSettings, out: Path, vocabularies: tuple[str | None, str]) -> dict[str, Any]:
    return train_gloss(settings, out, progress=False, vocabularies=vocabularies)


def train_gloss_ensemble(settings: GlossTrainSettings, out: str | Path, members: int) -> dict[str, Any]:
    """Train `members` models side by side, one process each (seeds `seed`, `seed + 1`, ...; `threads` each,
    default 1), into `out/member-K`; `out/best` is their ensemble (`bgtai.gloss.checkpoint.save_ensemble`),
    scored greedily on the validation split like a single model. Returns the summary, also `out/history.json`."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if members < 2:
        raise ValueError(f"an ensemble needs at least 2 members, got {members}")
    out = Path(out)
    started = time.perf_counter()
    # one set of vocabularies for all: members must share their ids, and BPE training is not repeatable across
    # processes (huggingface/tokenizers#1794: ids follow hash-map order, and ids break ties between merges)
    source_vocab, target_vocab = build_vocabularies(settings, *load_pairs(settings.corpus, "train"))
    vocabularies = (None if source_vocab is None else source_vocab.to_json(), target_vocab.to_json())
    plans = [
        (replace(settings, seed=settings.seed + k, threads=settings.threads or 1), out / f"member-{k}", vocabularies)
        for k in range(members)
    ]
    # spawn: a forked child would inherit this process's torch thread pool and any open model state;
    # exit_with_parent: a killed `bgtai train gloss --members N` must not leave members writing into OUT
    with ProcessPoolExecutor(
        max_workers=members, mp_context=multiprocessing.get_context("spawn"), initializer=exit_with_parent
    ) as pool:
        summaries = list(pool.map(_train_member, *zip(*plans)))
    checkpoints = [load_checkpoint(folder / "best") for _, folder, _ in plans]
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
    save_ensemble(out / "best", [folder / "best" for _, folder, _ in plans], meta)
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
    (out / "history.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
