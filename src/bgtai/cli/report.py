"""`bgtai report RESULTS_DIR [--out RESULTS.md]`: one Markdown report from a folder of result JSON files."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="write the Markdown report of a folder of evaluation results")
    parser.add_argument("results_dir", type=Path, help="folder of result JSON files (searched recursively)")
    parser.add_argument("--out", type=Path, default=Path("RESULTS.md"), help="the Markdown file to write")
    parser.add_argument("--plots", type=Path, default=None, metavar="DIR",
                        help="copy the plots here and link the copies (default: docs/plots beside --out)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bgtai.eval.report import write_report

    plots = args.plots if args.plots is not None else args.out.parent / "docs" / "plots"
    path = write_report(args.results_dir, args.out, plots)
    print(f"wrote {path}")
    return 0
