"""`bgtai datasets`: which datasets the data root holds, with item counts and modalities."""

from __future__ import annotations

import argparse
from pathlib import Path

from bgtai.cli import CommandError, format_table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("datasets", help="list the datasets found under the data root")
    parser.add_argument("--root", type=Path, help="data root to look in (default: BGTAI_DATA, else ../shared/data)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bgtai.config import data_root

    try:
        from bgtai.data.catalog import list_datasets
    except ModuleNotFoundError as error:
        if error.name not in ("bgtai.data", "bgtai.data.catalog"):
            raise
        raise CommandError("this installation has no dataset catalog (bgtai.data.catalog)") from error

    root = args.root if args.root is not None else data_root()
    if root is None:
        raise CommandError("no data root: set BGTAI_DATA or pass --root")
    if not root.is_dir():
        raise CommandError(f"data root {root} is not a folder")
    print(f"data root: {root}")
    rows = [
        [
            d.name,
            "yes" if d.present else "no",
            d.items,
            _mark(d.with_audio),
            _mark(d.with_image),
            _mark(d.with_text),
            d.folder,
            d.note,
        ]
        for d in list_datasets(root)
    ]
    print(format_table(["name", "present", "items", "audio", "image", "text", "folder", "note"], rows))
    return 0


def _mark(flag: bool) -> str:
    return "x" if flag else ""
