"""`bgtai eval retrieval`: retrieval in both directions on the built-in pair sets (`bgtai.eval.retrieval`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bgtai.cli import CommandError
from bgtai.cli.eval_zeroshot import _provenance
from bgtai.eval.embedders import ModelUnavailableError
from bgtai.eval.results import EvalRecord, current_command, write_result
from bgtai.eval.tasks import eval_task


def register(subparsers: argparse._SubParsersAction) -> None:
    task = eval_task("retrieval")
    retrieval = subparsers.add_parser("retrieval", help=task.help)
    retrieval.add_argument("--pairs", nargs="+", choices=list(task.datasets()), required=True)
    retrieval.add_argument(
        "--model", required=True, help="path of a joint model, or an encoder name (same-modality pairs)"
    )
    retrieval.add_argument("--chunk-size", type=int, default=256)
    retrieval.add_argument(
        "--split",
        choices=("test", "all"),
        default="test",
        help="test (default): only the items joint-space training leaves out (bgtai.data.splits); all: every item",
    )
    retrieval.add_argument(
        "--json", type=Path, help="result file; with several results, one file per pair set and direction beside it"
    )
    retrieval.add_argument(
        "--test-fold",
        type=int,
        default=None,
        help="test fold of Tux Paint and Asterisk (bgtai.data.splits); default: the fold the model's training "
        "left out (data.test_fold), 0 for encoders",
    )
    retrieval.set_defaults(func=run_retrieval)


def _chance(pairs, direction: str, ks: tuple[int, ...]) -> dict[str, float]:
    """R@K of a random ranking for this direction's relevance counts: the floor to read figures against."""
    from bgtai.eval.metrics import chance_recall_at_k
    from bgtai.eval.retrieval import direction_label

    forward = direction == direction_label(pairs.a, pairs.b)
    links = pairs.links if forward else pairs.reverse_links()
    gallery = len(pairs.b.inputs) if forward else len(pairs.a.inputs)
    return {f"R@{k}": chance_recall_at_k(gallery, [len(s) for s in links], k) for k in ks}


def _test_fold(model: str, asked: int | None, split: str) -> int:
    """The test fold to score: the one the model's training left out; asking for another is an error."""
    from bgtai.data.splits import check_fold
    from bgtai.eval.embedders import trained_test_fold

    trained = trained_test_fold(model)
    if asked is None:
        return trained if trained is not None else 0
    try:
        check_fold(asked)
    except ValueError as error:
        raise CommandError(f"--test-fold: {error}") from error
    if trained is not None and asked != trained and split == "test":
        raise CommandError(
            f"{model} was trained with data.test_fold={trained}: test fold {asked} holds its training items"
        )
    return asked


def run_retrieval(args: argparse.Namespace) -> int:
    from bgtai.eval.embedders import load_embedder

    records = []
    try:
        fold = _test_fold(args.model, args.test_fold, args.split)
        provenance = _provenance(args.model)  # one read of training.json for every record below
        model = load_embedder(args.model)
        for name in args.pairs:
            pairs, results = eval_task("retrieval").run(model, name, args.split, fold, args.chunk_size)  # type: ignore[misc]
            print(f"{name}: {pairs.description}")  # says which split (content-grouped for Tux Paint, Asterisk)
            for direction, result in results.items():
                summary = ", ".join(f"{k} {v:.4f}" for k, v in result.metrics.items())
                chance = ", ".join(f"{k} {v:.4f}" for k, v in _chance(pairs, direction, result.ks).items())
                print(
                    f"{name} {direction} ({pairs.level}-level, {result.scored} queries): {summary} (chance: {chance})"
                )
                protocol = f"{pairs.level}-level pairs, every item a query, cosine; {pairs.description}"
                details = {
                    **provenance,
                    "queries": result.scored,
                    "skipped": result.skipped,
                    "level": pairs.level,
                    "chance": _chance(pairs, direction, result.ks),
                    "test_fold": fold,
                    # per query, in the pair set's fixed order: lets the report compare two models query by query
                    "first_ranks": [int(rank) for rank in result.first_ranks],
                }
                records.append(
                    EvalRecord(
                        "retrieval",
                        f"{name} {direction}",
                        protocol,
                        args.model,
                        result.metrics,
                        current_command(),
                        details,
                    )
                )
    except (ModelUnavailableError, FileNotFoundError) as error:
        raise CommandError(str(error)) from error
    if args.json is not None:
        for record in records:
            path = args.json
            if len(records) > 1:
                suffix = record.dataset.replace(" ", ".").replace("->", "-to-")
                path = args.json.with_name(f"{args.json.stem}.{suffix}.json")
            print(f"wrote {write_result(record, path)}")
    return 0
