"""`bgtai eval align --dataset {bbc,asterisk,fsdd}`: learned aligners against DTW and simple baselines.

`bbc`: DS-Net trained on four BBC topics, scored on the fifth (below). `asterisk` and `fsdd`:
speech frames against the words spoken, or their gloss (`bgtai.align.speech_words`), the
Result Filter's setting. The Result Filter learns from the DTW path between the speech and a
TTS bridge of the words (no labels), DS-Net from the gold word times (supervised, for
reference); both are scored on the test items (`bgtai.data.splits`) against Whisper's word
times, beside uniform and tts-dtw (the Result Filter's teacher, which needs TTS at test time;
the learned aligners do not). `--speech tts` replaces each recording by espeak-ng speaking its
transcript.

BBC:

The article is text (MiniLM sentence vectors); the summary is text (`--summary text`, a
sanity check: the sentences are identical) or speech (`--summary speech`, the case that
counts: espeak-ng speech of each summary sentence through the Whisper-tiny-en encoder).
Summaries are taken in article order (see `bgtai.align.bbc`). `--limit-per-topic N`
evaluates the first N clean pairs of each topic (named in the result as a subset).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bgtai.cli import CommandError


def register(subparsers: argparse._SubParsersAction) -> None:
    from bgtai.align.bbc import TOPICS
    from bgtai.eval.tasks import eval_task

    parser = subparsers.add_parser(
        "align", help="sequence alignment: DS-Net vs DTW, greedy and uniform on BBC summaries"
    )
    parser.add_argument("--dataset", choices=eval_task("align").datasets(), required=True)
    parser.add_argument("--summary", choices=("text", "speech"), default="speech", help="how the summary is given")
    parser.add_argument("--heldout", choices=TOPICS, default="tech", help="the topic scored; the others train DS-Net")
    parser.add_argument("--limit-per-topic", type=int, help="first N clean pairs per topic (default: all)")
    parser.add_argument(
        "--speech",
        choices=("recorded", "tts"),
        default="recorded",
        help="asterisk, fsdd: the speech as recorded, or its transcript spoken by espeak-ng",
    )
    parser.add_argument(
        "--limit", type=int, help="asterisk: the first N prompts; fsdd: N recordings spread over digits and speakers"
    )
    parser.add_argument(
        "--target",
        choices=("words", "gloss"),
        default="words",
        help="asterisk, fsdd: align the speech with the words heard, or with their gloss tokens",
    )
    parser.add_argument(
        "--save-model",
        type=Path,
        metavar="FILE",
        help="asterisk, fsdd: save the trained Result Filter for `bgtai align --dsnet FILE`",
    )
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the result here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bgtai.align import evaluate as ev
    from bgtai.align.bbc import load_bbc_alignment
    from bgtai.align.summary_features import (
        SPEECH_ENCODER,
        TEXT_ENCODER,
        speech_vectors,
        text_vectors,
    )
    from bgtai.eval.results import EvalRecord, current_command, write_result
    from bgtai.train.dsnet import TrainConfig, train_dsnet

    if args.dataset in ("asterisk", "fsdd"):
        return run_speech_words(args)
    if args.limit_per_topic is not None and args.limit_per_topic < 1:
        raise CommandError("--limit-per-topic must be at least 1")
    pairs, stats = load_bbc_alignment(limit_per_topic=args.limit_per_topic)
    print(
        f"BBC News Summary: {stats.articles} articles read, {stats.clean} clean (every summary sentence found in the "
        f"article), {stats.in_given_order} of those with the summary already in article order; using {len(pairs)}"
    )
    article = text_vectors([p.article for p in pairs])
    summary = text_vectors([p.summary for p in pairs]) if args.summary == "text" else speech_vectors(pairs)
    data = ev.AlignmentSet(article, summary, [p.gold for p in pairs], [p.topic for p in pairs])
    is_test = np.array([p.topic == args.heldout for p in pairs])
    train, test = data.subset(~is_test), data.subset(is_test)
    print(f"train {len(train)} pairs ({', '.join(sorted(set(train.topics)))}), test {len(test)} pairs ({args.heldout})")

    model = train_dsnet(train, TrainConfig(epochs=args.epochs, seed=args.seed), log=print)
    aligners = {"uniform": ev.uniform, "greedy": ev.greedy, "dtw": ev.dtw_aligner}
    if args.summary == "speech":  # different encoders on the two sides: add the trained linear bridge
        mapping = ev.fit_bridge(train)
        aligners |= {"bridge-greedy": ev.bridged(ev.greedy, mapping), "bridge-dtw": ev.bridged(ev.dtw_aligner, mapping)}
    aligners["dsnet"] = ev.dsnet_aligner(model)

    metrics: dict[str, float] = {}
    print(f"{'method':<14} {'path acc':>9} {'sent acc':>9} {'F1':>7} {'SP':>7}")
    for name, aligner in aligners.items():
        result = ev.score(aligner, test)
        print(
            f"{name:<14} {result.path_accuracy:9.4f} {result.sentence_accuracy:9.4f} {result.f1:7.4f} {result.sp:7.4f}"
        )
        metrics |= {
            f"{name}.path_accuracy": result.path_accuracy,
            f"{name}.sentence_accuracy": result.sentence_accuracy,
            f"{name}.f1": result.f1,
            f"{name}.sp": result.sp,
        }
    if args.json is not None:
        subset = (
            "all clean pairs"
            if args.limit_per_topic is None
            else f"subset: first {args.limit_per_topic} clean pairs per topic"
        )
        summary_side = f"text ({TEXT_ENCODER})" if args.summary == "text" else f"speech (espeak-ng -> {SPEECH_ENCODER})"
        protocol = (
            f"train DS-Net on the other 4 topics, test on {args.heldout}; {subset}; article text ({TEXT_ENCODER}) "
            f"vs summary {summary_side}; summary sentences in article order"
        )
        details = {
            "train_pairs": len(train),
            "test_pairs": len(test),
            "articles_read": stats.articles,
            "clean_pairs": stats.clean,
            "summaries_already_in_article_order": stats.in_given_order,
            "epochs": args.epochs,
            "seed": args.seed,
            "test_sentences": int(sum(len(g) for g in test.gold)),
            "mean_article_sentences": float(np.mean([len(a) for a in test.article])),
        }
        record = EvalRecord("align", f"bbc {args.summary}", protocol, "dsnet", metrics, current_command(), details)
        print(f"wrote {write_result(record, args.json)}")
    return 0


def run_speech_words(args: argparse.Namespace) -> int:
    from bgtai.align import evaluate as ev
    from bgtai.align.speech_words import (
        POOL,
        SPEECH_ENCODER,
        WORD_ENCODER,
        build_speech_words,
    )
    from bgtai.data import load_asterisk, load_fsdd
    from bgtai.data.splits import ids_in_test, split_rule
    from bgtai.eval.results import EvalRecord, current_command, write_result
    from bgtai.io.tts import speak_cached
    from bgtai.train.dsnet import TrainConfig, train_dsnet

    if args.limit is not None and args.limit < 2:
        raise CommandError("--limit must be at least 2")
    try:
        every_item = list(load_asterisk() if args.dataset == "asterisk" else load_fsdd())
    except FileNotFoundError as error:
        raise CommandError(str(error)) from error
    # the split groups shared content, so it is decided over every item before any subset is drawn
    test = ids_in_test(args.dataset, every_item)
    prompts = [item for item in every_item if item.texts]
    if args.limit is None:
        subset = "all prompts" if args.dataset == "asterisk" else "all recordings"
    elif args.dataset == "asterisk":
        prompts, subset = prompts[: args.limit], f"subset: first {args.limit} prompts"
    else:  # FSDD's listing runs digit by digit and speaker by speaker: draw the subset at random (seed 0)
        chosen = np.sort(np.random.default_rng(0).choice(len(prompts), min(args.limit, len(prompts)), replace=False))
        prompts = [prompts[i] for i in chosen]
        subset = f"subset: {len(prompts)} recordings drawn at random (seed 0)"
    if args.speech == "tts":
        audio = [speak_cached(item.texts[0]) for item in prompts]
    else:
        audio = [item.audio for item in prompts]
    test_of = {str(a): item.id in test for a, item in zip(audio, prompts)}
    items, skipped = build_speech_words(audio, progress=print, target=args.target)
    test_mask = np.array([test_of[i.source] for i in items])

    def as_set(rows: np.ndarray, gold: list[np.ndarray]) -> ev.AlignmentSet:
        return ev.AlignmentSet(
            [items[i].frames for i in rows],
            [items[i].word_vectors for i in rows],
            [gold[i] for i in rows],
            ["test" if test_mask[i] else "train" for i in rows],
        )

    golds = [i.gold for i in items]
    # the Result Filter's labels: DTW between the speech and the TTS bridge of its words (eq. 5), no gold used
    pseudo = [i.bridge for i in items]
    train_rows, test_rows = np.flatnonzero(~test_mask), np.flatnonzero(test_mask)
    if len(train_rows) == 0 or len(test_rows) == 0:
        raise CommandError(
            f"need prompts on both sides of the split; have {len(train_rows)} train, {len(test_rows)} test"
        )
    test = as_set(test_rows, golds)
    config = TrainConfig(epochs=args.epochs, seed=args.seed)
    print(f"{len(items)} utterances ({len(train_rows)} train, {len(test_rows)} test); training the Result Filter")
    result_filter = train_dsnet(as_set(train_rows, pseudo), config, log=print)
    print("training DS-Net on the gold word times")
    dsnet = train_dsnet(as_set(train_rows, golds), config, log=print)
    if args.save_model is not None:
        from bgtai.align.speech_words import save_aligner

        print(f"wrote {save_aligner(result_filter, args.save_model, args.target)}")
    bridges = {id(i.word_vectors): i.bridge for i in items}

    def tts_dtw(frames: np.ndarray, words: np.ndarray) -> ev.Prediction:  # the teacher, TTS needed at test time
        index = bridges[id(words)]
        return index, ev.cells_of(index, len(frames))

    aligners = {
        "uniform": ev.uniform,
        "tts-dtw": tts_dtw,
        "result-filter": ev.dsnet_aligner(result_filter),
        "dsnet-gold": ev.dsnet_aligner(dsnet),
    }
    metrics: dict[str, float] = {}
    print(f"{'method':<14} {'path acc':>9} {'word acc':>9} {'±1 step':>8} {'F1':>7} {'SP':>7}")
    for name, aligner in aligners.items():
        result = ev.score(aligner, test)
        print(
            f"{name:<14} {result.path_accuracy:9.4f} {result.sentence_accuracy:9.4f} {result.extra['within_1']:8.4f} "
            f"{result.f1:7.4f} {result.sp:7.4f}"
        )
        metrics |= {
            f"{name}.path_accuracy": result.path_accuracy,
            f"{name}.word_accuracy": result.sentence_accuracy,
            f"{name}.within_1": result.extra["within_1"],
            f"{name}.f1": result.f1,
            f"{name}.sp": result.sp,
        }
    if args.json is not None:
        name = {"asterisk": "Asterisk", "fsdd": "FSDD"}[args.dataset]
        speech = "as recorded" if args.speech == "recorded" else "transcripts spoken by espeak-ng"
        target = (
            f"the words Whisper hears ({WORD_ENCODER}, one vector per word)"
            if args.target == "words"
            else f"the gloss tokens of those words ({WORD_ENCODER}, one vector per token, each timed by its word)"
        )
        protocol = (
            f"{name} {speech} ({subset}); train on the training items, score the test items "
            f"({split_rule(args.dataset)}); source {SPEECH_ENCODER} frames averaged over {POOL} (100 ms), "
            f"target {target}; gold = step of each word's midpoint from Whisper's word timestamps; "
            "result-filter trained on tts-dtw (MFCC DTW against the tokens spoken alone by espeak-ng), "
            "dsnet-gold on gold; word accuracy = exact step"
        )
        details = {
            "train_utterances": len(train_rows),
            "test_utterances": len(test_rows),
            "test_words": int(sum(len(g) for g in test.gold)),
            "skipped": skipped,
            "epochs": args.epochs,
            "seed": args.seed,
            "mean_test_steps": float(np.mean([len(a) for a in test.article])),
        }
        dataset = f"{args.dataset} {args.speech}" + (" vs gloss" if args.target == "gloss" else "")
        record = EvalRecord("align", dataset, protocol, "result-filter", metrics, current_command(), details)
        print(f"wrote {write_result(record, args.json)}")
    return 0
