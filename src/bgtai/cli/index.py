"""`bgtai index build|add|remove|stats`: an index folder of audio, image and text files to search.

`build DIR... (--model DIR | --bridges) --out INDEX` walks the folders (audio and images by
suffix, `.txt` files as one text document each), embeds what is new or changed through the
feature cache, and writes INDEX (see `bgtai.search.index`). Run again on the same INDEX it
carries on: files already indexed with the same bytes are skipped, so a killed build resumes
and loses nothing it wrote. `add INDEX DIR...` does the same with the index's own model;
`remove INDEX PATH...` drops files (or everything under folders), `--missing` those gone from
disk; `stats INDEX` prints counts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bgtai.cli import CommandError, format_table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("index", help="build and update a search index of your files")
    parser.set_defaults(func=lambda args: (parser.print_help(sys.stderr), 2)[1])
    actions = parser.add_subparsers(dest="index_action", metavar="{build,add,remove,stats}")

    build = actions.add_parser("build", help="index the audio, image and .txt files under folders")
    build.add_argument("folders", type=Path, nargs="+", metavar="DIR")
    which = build.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", type=Path, metavar="DIR", help="a trained joint model folder (runs/NAME/best)")
    which.add_argument("--bridges", action="store_true", help="the untrained concept-bridge space (384-d)")
    build.add_argument("--out", type=Path, required=True, metavar="INDEX", help="the index folder to write")
    build.add_argument(
        "--resume", action="store_true", help="accepted for symmetry: building into an existing INDEX always carries on"
    )
    build.add_argument("--no-progress", action="store_true")
    build.set_defaults(func=run_build)

    add = actions.add_parser("add", help="index new or changed files under folders, with the index's model")
    add.add_argument("index", type=Path, metavar="INDEX")
    add.add_argument("folders", type=Path, nargs="+", metavar="DIR")
    add.add_argument("--resume", action="store_true", help="accepted: adding again always carries on")
    add.add_argument("--no-progress", action="store_true")
    add.set_defaults(func=run_add)

    remove = actions.add_parser("remove", help="drop files (or everything under folders) from an index")
    remove.add_argument("index", type=Path, metavar="INDEX")
    remove.add_argument("paths", type=Path, nargs="*", metavar="PATH")
    remove.add_argument("--missing", action="store_true", help="also drop indexed files that are gone from disk")
    remove.set_defaults(func=run_remove)

    stats = actions.add_parser("stats", help="what an index holds")
    stats.add_argument("index", type=Path, metavar="INDEX")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(func=run_stats)


def run_build(args: argparse.Namespace) -> int:
    from bgtai.search.embedders import bridges_spec, model_spec
    from bgtai.search.index import SearchIndex

    spec = bridges_spec() if args.bridges else model_spec(args.model)
    embedder = _embedder(spec, args.model)
    args.resumable = True
    index = SearchIndex.create(args.out, spec)
    try:
        return _update(index, args.folders, embedder, args.no_progress)
    finally:
        index.close()


def run_add(args: argparse.Namespace) -> int:
    from bgtai.search.index import SearchIndex

    index = SearchIndex.open(args.index)
    try:
        embedder = _embedder(index.model, None)
        args.resumable = True
        return _update(index, args.folders, embedder, args.no_progress)
    finally:
        index.close()


def _embedder(spec: dict, folder: Path | None):  # -> Embedder
    from bgtai.search.embedders import load_embedder

    if folder is not None:
        from bgtai.cli.embed import _load_joint_model

        return _load_joint_model(folder)  # its errors say which folder to give
    return load_embedder(spec)


def _update(index, folders: list[Path], embedder, no_progress: bool) -> int:  # index: SearchIndex
    from tqdm import tqdm

    bar = None

    def on_total(total: int) -> None:
        nonlocal bar
        bar = tqdm(total=total, unit="file", desc="embedding", disable=no_progress or total == 0, file=sys.stderr)

    try:
        report = index.update(folders, embedder, progress=lambda n: bar.update(n) if bar else None, on_total=on_total)
    finally:
        if bar is not None:
            bar.close()
    stats = index.stats()
    print(
        f"{index.folder}: {stats['items']} items ({_counts(stats['by_modality'])}); this run: {report.found} files "
        f"found, {report.embedded} embedded, {report.reused} copied from identical files, {report.unchanged} "
        f"unchanged, {len(report.bad)} bad ({report.seconds:.1f} s)"
    )
    if report.bad:
        print(f"skipped {len(report.bad)} bad file(s):", file=sys.stderr)
        for path, problem in report.bad:
            print(f"  {path}: {problem}", file=sys.stderr)
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from bgtai.search.index import SearchIndex

    if not args.paths and not args.missing:
        raise CommandError("give the paths to remove, or --missing")
    index = SearchIndex.open(args.index)
    try:
        gone = index.remove(args.paths, missing=args.missing)
        print(f"{index.folder}: removed {len(gone)} item(s); {index.stats()['items']} left")
    finally:
        index.close()
    return 0


def run_stats(args: argparse.Namespace) -> int:
    from bgtai.search.index import SearchIndex

    index = SearchIndex.open(args.index)
    try:
        stats = index.stats()
    finally:
        index.close()
    if args.json:
        print(json.dumps(stats, indent=2))
        return 0
    rows = [[name, count, stats["faiss"].get(name, "")] for name, count in stats["by_modality"].items()]
    print(
        f"{stats['folder']}: {stats['items']} items, {stats['bytes'] / 1e6:.1f} MB of files, "
        f"{stats['dim']}-d, {stats['model']}{'' if stats['up_to_date'] else ' (FAISS files out of date)'}"
    )
    print(format_table(["modality", "items", "faiss"], rows))
    return 0


def _counts(by_modality: dict[str, int]) -> str:
    return ", ".join(f"{n} {m}" for m, n in by_modality.items()) or "empty"
