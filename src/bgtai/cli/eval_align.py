"""`bgtai eval align --dataset bbc`: DS-Net trained on four BBC topics, scored on the fifth.

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

DATASETS = ("bbc",)


def register(subparsers: argparse._SubParsersAction) -> None:
    from bgtai.align.bbc import TOPICS

    parser = subparsers.add_parser("align", help="sequence alignment: DS-Net vs DTW, greedy and uniform on BBC summaries")
    parser.add_argument("--dataset", choices=DATASETS, required=True)
    parser.add_argument("--summary", choices=("text", "speech"), default="speech", help="how the summary is given")
    parser.add_argument("--heldout", choices=TOPICS, default="tech", help="the topic scored; the others train DS-Net")
    parser.add_argument("--limit-per-topic", type=int, help="first N clean pairs per topic (default: all)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the result here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bgtai.align import evaluate as ev
    from bgtai.align.bbc import load_bbc_alignment
    from bgtai.align.summary_features import SPEECH_ENCODER, TEXT_ENCODER, speech_vectors, text_vectors
    from bgtai.eval.results import EvalRecord, current_command, write_result

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

    model = ev.train_dsnet(train, ev.TrainConfig(epochs=args.epochs, seed=args.seed), log=print)
    aligners = {"uniform": ev.uniform, "greedy": ev.greedy, "dtw": ev.dtw_aligner}
    if args.summary == "speech":  # different encoders on the two sides: add the trained linear bridge
        mapping = ev.fit_bridge(train)
        aligners |= {"bridge-greedy": ev.bridged(ev.greedy, mapping), "bridge-dtw": ev.bridged(ev.dtw_aligner, mapping)}
    aligners["dsnet"] = ev.dsnet_aligner(model)

    metrics: dict[str, float] = {}
    print(f"{'method':<14} {'path acc':>9} {'sent acc':>9} {'F1':>7} {'SP':>7}")
    for name, aligner in aligners.items():
        result = ev.score(aligner, test)
        print(f"{name:<14} {result.path_accuracy:9.4f} {result.sentence_accuracy:9.4f} {result.f1:7.4f} {result.sp:7.4f}")
        metrics |= {f"{name}.path_accuracy": result.path_accuracy, f"{name}.sentence_accuracy": result.sentence_accuracy,
                    f"{name}.f1": result.f1, f"{name}.sp": result.sp}
    if args.json is not None:
        subset = "all clean pairs" if args.limit_per_topic is None else f"subset: first {args.limit_per_topic} clean pairs per topic"
        summary_side = f"text ({TEXT_ENCODER})" if args.summary == "text" else f"speech (espeak-ng -> {SPEECH_ENCODER})"
        protocol = (f"train DS-Net on the other 4 topics, test on {args.heldout}; {subset}; article text ({TEXT_ENCODER}) "
                    f"vs summary {summary_side}; summary sentences in article order")
        details = {"train_pairs": len(train), "test_pairs": len(test), "articles_read": stats.articles,
                   "clean_pairs": stats.clean, "summaries_already_in_article_order": stats.in_given_order,
                   "epochs": args.epochs, "seed": args.seed, "test_sentences": int(sum(len(g) for g in test.gold)),
                   "mean_article_sentences": float(np.mean([len(a) for a in test.article]))}
        record = EvalRecord("align", f"bbc {args.summary}", protocol, "dsnet", metrics, current_command(), details)
        print(f"wrote {write_result(record, args.json)}")
    return 0
