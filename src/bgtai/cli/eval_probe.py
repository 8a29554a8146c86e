"""`bgtai eval probe`: a linear or MLP probe on frozen features, under a classification set's protocol.

The sets are the datasets whose registry entry has a `ClassificationProtocol` (`bgtai.data.registry`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bgtai.cli import CommandError
from bgtai.errors import BadInputError
from bgtai.eval.datasets import ClassificationSet, classification_protocol, load_classification_set, protocol_for
from bgtai.eval.features import POOLINGS
from bgtai.eval.results import EvalRecord, current_command, write_result
from bgtai.eval.tasks import eval_task


def register(subparsers: argparse._SubParsersAction) -> None:
    task = eval_task("probe")
    probe = subparsers.add_parser("probe", help=task.help)
    probe.add_argument("--dataset", choices=task.datasets(), required=True)
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
    result = eval_task("probe").run(data, features, args.classifier, args.seed)  # type: ignore[misc]
    configuration = f"{args.classifier} probe" + ("" if args.features is not None else f", {args.pooling} pooling")
    folds = ", ".join(f"{n} {a:.4f}" for n, a in zip(result.fold_names, result.fold_accuracies))
    print(
        f"{classification_protocol(args.dataset).display} ({data.protocol}), {model}, {configuration}: "
        f"accuracy {result.mean:.4f} ± {result.std:.4f} over {len(result.fold_accuracies)} folds ({folds}); "
        f"{len(data.labels)} clips, feature dim {features.shape[1]}"
    )
    if args.json is not None:
        plot = plot_confusion(
            result,
            args.json.with_suffix(".png"),
            f"{model} ({configuration})\n{classification_protocol(args.dataset).display}: {result.mean:.4f}",
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
