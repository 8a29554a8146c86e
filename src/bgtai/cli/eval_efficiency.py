"""`bgtai eval efficiency --runs base=DIR ds-net=DIR ... [--json FILE]`: BGTAI's training-efficiency study.

Each run must have been trained with `bgtai train ... --snapshots` (the model of every epoch);
`scripts/efficiency_study.sh` trains the four configurations (Base, DS-Net, Result Filter,
both) and calls this. Prints one line per epoch and a final table; with `--json`, writes the
curves and a plot beside the file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bgtai.cli import CommandError

PROTOCOL = (
    "efficiency: every epoch's model; zero-shot top-1 on ESC-50 fold 4 (50-way) and UrbanSound8K fold 10 (10-way), "
    "linear probe on joint audio embeddings (ESC-50 fold 4, grouped 4-fold CV; UrbanSound8K tested on fold 10, "
    "as training sees folds 1-3); time = training wall and CPU time "
    "incl. validation, from each run's log"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "efficiency", help="training-efficiency curves: accuracy of every epoch against epoch and wall time"
    )
    parser.add_argument(
        "--runs",
        nargs="+",
        required=True,
        metavar="NAME=DIR",
        help="runs trained with --snapshots, each named (e.g. base=runs/a ds-net=runs/b)",
    )
    parser.add_argument("--probe-every", type=int, default=2, help="probe every N epochs and at the last (default 2)")
    parser.add_argument("--json", type=Path, help="write the result here (and the plot beside it)")
    parser.set_defaults(func=run)


def _parse_runs(specs: list[str]) -> dict[str, Path]:
    runs: dict[str, Path] = {}
    for spec in specs:
        name, sep, folder = spec.partition("=")
        if not sep or not name or not folder:
            raise CommandError(f"--runs takes NAME=DIR, got {spec!r}")
        if name in runs:
            raise CommandError(f"--runs names {name!r} twice")
        runs[name] = Path(folder)
    return runs


def run(args: argparse.Namespace) -> int:
    from bgtai.eval.efficiency import (
        METRICS,
        efficiency_curves,
        plot_curves,
        summary_metrics,
    )
    from bgtai.eval.embedders import training_provenance
    from bgtai.eval.results import EvalRecord, current_command, write_result

    if args.probe_every < 1:
        raise CommandError("--probe-every must be at least 1")
    runs = _parse_runs(args.runs)
    try:
        curves = efficiency_curves(runs, probe_every=args.probe_every, progress=print)
    except (FileNotFoundError, ValueError) as error:
        raise CommandError(str(error)) from error
    summary = summary_metrics(curves)
    header = ["config", "seconds", "CPU seconds", "pairs trained", *METRICS]
    print("| " + " | ".join(header) + " |")
    for name in curves:
        cpu = summary.get(f"{name}/cpu_seconds")
        cells = [
            name,
            f"{summary[f'{name}/seconds']:.0f}",
            "" if cpu is None else f"{cpu:.0f}",
            f"{summary[f'{name}/pairs']:.0f}",
        ]
        cells += [f"{summary[f'{name}/{m}']:.4f}" if f"{name}/{m}" in summary else "" for m in METRICS]
        print("| " + " | ".join(cells) + " |")
    if args.json is None:
        return 0
    provenance = {name: training_provenance(str(folder / "best")) for name, folder in runs.items()}
    recipes = sorted({p.get("recipe", "?") for p in provenance.values()})
    plot = plot_curves(curves, args.json.with_suffix(".png"), f"Training efficiency, recipe {', '.join(recipes)}")
    details = {
        "runs": {name: str(folder) for name, folder in runs.items()},
        "curves": {name: [p.to_json() for p in points] for name, points in curves.items()},
        "trained_by": {name: p.get("trained_by", "") for name, p in provenance.items()},
        "configuration": f"recipe {', '.join(recipes)}",
    }
    record = EvalRecord(
        "efficiency", "esc50", PROTOCOL, ", ".join(recipes), summary, current_command(), details, [plot.name]
    )
    print(f"wrote {write_result(record, args.json)}")
    print(json.dumps({"plot": str(plot)}))
    return 0
