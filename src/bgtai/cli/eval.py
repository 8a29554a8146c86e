"""`bgtai eval {probe,zeroshot,retrieval,...}`: evaluations that print a summary and can write result JSON.

Other tasks plug in as modules `bgtai.cli.eval_<task>`, each defining `register(subparsers)`
that adds its own sub-parser to the `eval` sub-commands.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from pathlib import Path
from typing import Any

import numpy as np

from bgtai.cli import CommandError
from bgtai.errors import BadInputError
from bgtai.eval.datasets import (
    CLASSIFICATION_SETS,
    ClassificationSet,
    load_classification_set,
    load_zeroshot_set,
    protocol_for,
)
from bgtai.eval.embedders import ModelUnavailableError
from bgtai.eval.features import POOLINGS
from bgtai.eval.results import EvalRecord, current_command, write_result

DATASET_NAMES = {"esc50": "ESC-50 fold 4", "urbansound8k": "UrbanSound8K folds 1/2/10"}
ZEROSHOT_PROTOCOLS = {
    "esc50": "esc50-fold4-zeroshot-50way",
    # the recipes train on UrbanSound8K folds 1-3 (class captions): fold 10 is never trained on, but its
    # classes are seen unless a recipe leaves urbansound8k out, so this is zero-shot in clips, not in classes
    "urbansound8k": "urbansound8k-fold10-zeroshot-10way (clips never trained on; classes seen when trained on folds 1-3)",
}
ZEROSHOT_DATASETS = {"esc50": "esc50", "urbansound8k": "urbansound8k-fold10"}  # result keys (report columns)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="evaluate encoders and models: probes, zero-shot, retrieval")
    parser.set_defaults(func=run, eval_parser=parser)
    tasks = parser.add_subparsers(dest="eval_task", metavar="TASK")

    probe = tasks.add_parser("probe", help="linear or MLP probe on frozen features")
    probe.add_argument("--dataset", choices=CLASSIFICATION_SETS, required=True)
    probe.add_argument(
        "--encoder", default="aisfx", help="encoder name, or several joined by '+' (features concatenated)"
    )
    probe.add_argument("--classifier", choices=("linear", "mlp"), default="linear")
    probe.add_argument("--pooling", choices=POOLINGS, default="mean", help="pooling over each encoder's sequence")
    probe.add_argument(
        "--features", type=Path, help="probe these features instead: .npz with features, labels, groups, folds"
    )
    probe.add_argument("--seed", type=int, default=0)
    probe.add_argument("--json", type=Path, help="write the result here (and the confusion matrix beside it)")
    probe.set_defaults(func=run_probe)

    zeroshot = tasks.add_parser("zeroshot", help="zero-shot classification with prompt templates")
    zeroshot.add_argument("--dataset", choices=CLASSIFICATION_SETS, required=True)
    zeroshot.add_argument("--model", required=True, help="path of a joint model")
    zeroshot.add_argument("--synonyms", type=Path, help="JSON {class: [synonym, ...]} to add to the prompts")
    zeroshot.add_argument("--json", type=Path)
    zeroshot.set_defaults(func=run_zeroshot)

    from bgtai.eval.retrieval import BUILTIN_PAIRS

    retrieval = tasks.add_parser("retrieval", help="retrieval in both directions on built-in pair sets")
    retrieval.add_argument("--pairs", nargs="+", choices=list(BUILTIN_PAIRS), required=True)
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

    for module in _plugin_modules():
        module.register(tasks)


def _plugin_modules() -> list:
    import bgtai.cli

    found = sorted(m.name for m in pkgutil.iter_modules(bgtai.cli.__path__) if m.name.startswith("eval_"))
    return [importlib.import_module(f"bgtai.cli.{name}") for name in found]


def run(args: argparse.Namespace) -> int:
    args.eval_parser.print_help()
    return 2


def _features_file(path: Path, dataset: str) -> ClassificationSet:
    try:
        data = np.load(path, allow_pickle=False)
        arrays = {key: data[key] for key in ("features", "labels", "groups", "folds")}
    except (OSError, ValueError, KeyError) as error:
        raise BadInputError(str(path), f"need an .npz with features, labels, groups, folds ({error})") from error
    if len({len(a) for a in arrays.values()}) != 1:
        raise BadInputError(str(path), "features, labels, groups and folds differ in length")
    return ClassificationSet(
        dataset,
        protocol_for(dataset),
        list(arrays["features"]),
        arrays["labels"].astype(str),
        arrays["groups"].astype(str),
        arrays["folds"].astype(int),
    )


def run_probe(args: argparse.Namespace) -> int:
    from bgtai.eval.features import probe_features, split_encoder_names
    from bgtai.eval.probe import plot_confusion
    from bgtai.eval.probe import run_probe as fit_probes

    if args.features is not None:
        data = _features_file(args.features, args.dataset)
        features, model = np.asarray(data.inputs, dtype=np.float64), f"features:{args.features.name}"
    else:
        try:
            data = load_classification_set(args.dataset)
        except FileNotFoundError as error:
            raise CommandError(str(error)) from error
        encoders = split_encoder_names(args.encoder)
        features, model = probe_features(data.inputs, encoders, pooling=args.pooling), "+".join(encoders)
    result = fit_probes(features, data.labels, data.splits(args.seed), data.groups, args.classifier, args.seed)
    configuration = f"{args.classifier} probe" + ("" if args.features is not None else f", {args.pooling} pooling")
    folds = ", ".join(f"{n} {a:.4f}" for n, a in zip(result.fold_names, result.fold_accuracies))
    print(
        f"{DATASET_NAMES[args.dataset]} ({data.protocol}), {model}, {configuration}: "
        f"accuracy {result.mean:.4f} ± {result.std:.4f} over {len(result.fold_accuracies)} folds ({folds}); "
        f"{len(data.labels)} clips, feature dim {features.shape[1]}"
    )
    if args.json is not None:
        plot = plot_confusion(
            result,
            args.json.with_suffix(".png"),
            f"{model} ({configuration})\n{DATASET_NAMES[args.dataset]}: {result.mean:.4f}",
        )
        details = {
            "configuration": configuration,
            "folds": dict(zip(result.fold_names, result.fold_accuracies)),
            "per_class": result.per_class,
            "chosen": result.chosen,
            "items": len(data.labels),
            "feature_dim": int(features.shape[1]),
        }
        record = EvalRecord(
            "probe",
            args.dataset,
            data.protocol,
            model,
            {"accuracy": result.mean, "std": result.std},
            current_command(),
            details,
            [plot.name],
        )
        print(f"wrote {write_result(record, args.json)}")
    return 0


def _provenance(model: str) -> dict[str, Any]:
    """The recipe and training command of a trained joint model (row label and sources of the report)."""
    from bgtai.eval.embedders import training_provenance

    found = training_provenance(model)
    return {"configuration": f"recipe {found['recipe']}", **found} if found else {}


def run_zeroshot(args: argparse.Namespace) -> int:
    import json

    from bgtai.eval.embedders import load_embedder
    from bgtai.eval.report import dataset_label
    from bgtai.eval.zeroshot import TEMPLATES, zero_shot_classify

    try:
        model = load_embedder(args.model)
        synonyms = json.loads(args.synonyms.read_text()) if args.synonyms else None
        data = load_zeroshot_set(args.dataset)
        result = zero_shot_classify(model, data.inputs, list(data.labels), synonyms=synonyms)
    except (ModelUnavailableError, FileNotFoundError) as error:
        raise CommandError(str(error)) from error
    from bgtai.eval.label_overlap import NAMED_THRESHOLD, label_coverage, unnamed_accuracy

    coverage = label_coverage(result.classes)
    unnamed = sorted(c for c, found in coverage.items() if not found.named)
    unnamed_top1, unnamed_items = unnamed_accuracy(list(data.labels), result.predictions, coverage)
    summary = ", ".join(f"{k} {v:.4f}" for k, v in result.metrics.items())
    print(
        f"{dataset_label(ZEROSHOT_DATASETS[args.dataset])} zero-shot, {args.model}: {summary} "
        f"({len(data.labels)} clips, {len(result.classes)} classes)"
    )
    print(
        f"  on the {len(unnamed)} classes no AudioSet/ImageNet label names closely (MiniLM cosine < {NAMED_THRESHOLD}; "
        f"{unnamed_items} clips: {', '.join(unnamed) or 'none'}): top1 {unnamed_top1:.4f}"
    )
    if args.json is not None:
        details = {
            "templates": list(TEMPLATES),
            "synonyms": bool(synonyms),
            "per_class": result.per_class,
            "unnamed_classes": unnamed,
            "unnamed_items": unnamed_items,
            "unnamed_rule": f"no AudioSet/ImageNet label (each synonym) within MiniLM cosine {NAMED_THRESHOLD} of the class name",
            **_provenance(args.model),
        }
        record = EvalRecord(
            "zeroshot",
            ZEROSHOT_DATASETS[args.dataset],
            ZEROSHOT_PROTOCOLS[args.dataset],
            args.model,
            {**result.metrics, "top1_unnamed": unnamed_top1},
            current_command(),
            details,
        )
        print(f"wrote {write_result(record, args.json)}")
    return 0


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
    from bgtai.eval.retrieval import builtin_pairs, evaluate_pairs

    records = []
    try:
        fold = _test_fold(args.model, args.test_fold, args.split)
        provenance = _provenance(args.model)  # one read of training.json for every record below
        model = load_embedder(args.model)
        for name in args.pairs:
            pairs = builtin_pairs(name, args.split, fold)
            print(f"{name}: {pairs.description}")  # says which split (content-grouped for Tux Paint, Asterisk)
            for direction, result in evaluate_pairs(model, pairs, chunk_size=args.chunk_size).items():
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
