"""`bgtai report RESULTS_DIR [--out RESULTS.md]`: a short front page and one detail page per task."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("report", help="write the Markdown report of a folder of evaluation results")
    parser.add_argument("results_dir", type=Path, help="folder of result JSON files (searched recursively)")
    parser.add_argument("--out", type=Path, default=Path("RESULTS.md"), help="the front page to write")
    parser.add_argument(
        "--pages",
        type=Path,
        default=None,
        metavar="DIR",
        help="write the detail pages (one per task) here (default: docs/results beside --out)",
    )
    parser.add_argument(
        "--plots",
        type=Path,
        default=None,
        metavar="DIR",
        help="copy the plots here, draw the headline's, and link them (default: docs/plots beside --out)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bgtai.eval.report import PAGES_FOLDER, write_report

    plots = args.plots if args.plots is not None else args.out.parent / "docs" / "plots"
    pages = args.pages if args.pages is not None else args.out.parent / PAGES_FOLDER
    path = write_report(args.results_dir, args.out, plots, pages)
    print(f"wrote {path} and {len(list(pages.glob('*.md')))} detail page(s) in {pages}")
    return 0
