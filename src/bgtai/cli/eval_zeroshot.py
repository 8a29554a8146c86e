"""`bgtai eval zeroshot`: zero-shot classification of a classification set by a joint model.

The sets, which items are scored and the result's dataset key and protocol are each dataset's
`ClassificationProtocol` (`bgtai.data.registry`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bgtai.cli import CommandError
from bgtai.eval.datasets import classification_protocol, zeroshot_key
from bgtai.eval.embedders import ModelUnavailableError
from bgtai.eval.results import EvalRecord, current_command, write_result
from bgtai.eval.tasks import eval_task


def register(subparsers: argparse._SubParsersAction) -> None:
    task = eval_task("zeroshot")
    zeroshot = subparsers.add_parser("zeroshot", help=task.help)
    zeroshot.add_argument("--dataset", choices=task.datasets(), required=True)
    zeroshot.add_argument("--model", required=True, help="path of a joint model")
    zeroshot.add_argument("--synonyms", type=Path, help="JSON {class: [synonym, ...]} to add to the prompts")
    zeroshot.add_argument("--json", type=Path)
    zeroshot.set_defaults(func=run_zeroshot)


def _provenance(model: str) -> dict[str, Any]:
    """The recipe and training command of a trained joint model (row label and sources of the report)."""
    from bgtai.eval.embedders import training_provenance

    found = training_provenance(model)
    return {"configuration": f"recipe {found['recipe']}", **found} if found else {}


def run_zeroshot(args: argparse.Namespace) -> int:
    import json

    from bgtai.eval.embedders import load_embedder
    from bgtai.eval.report import dataset_label
    from bgtai.eval.zeroshot import TEMPLATES

    try:
        model = load_embedder(args.model)
        synonyms = json.loads(args.synonyms.read_text()) if args.synonyms else None
        result, data = eval_task("zeroshot").run(model, args.dataset, synonyms)  # type: ignore[misc]
    except (ModelUnavailableError, FileNotFoundError) as error:
        raise CommandError(str(error)) from error
    from bgtai.eval.label_overlap import NAMED_THRESHOLD, label_coverage, unnamed_accuracy

    coverage = label_coverage(result.classes)
    unnamed = sorted(c for c, found in coverage.items() if not found.named)
    unnamed_top1, unnamed_items = unnamed_accuracy(list(data.labels), result.predictions, coverage)
    summary = ", ".join(f"{k} {v:.4f}" for k, v in result.metrics.items())
    print(
        f"{dataset_label(zeroshot_key(args.dataset))} zero-shot, {args.model}: {summary} "
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
            zeroshot_key(args.dataset),
            classification_protocol(args.dataset).zeroshot_name,
            args.model,
            {**result.metrics, "top1_unnamed": unnamed_top1},
            current_command(),
            details,
        )
        print(f"wrote {write_result(record, args.json)}")
    return 0
