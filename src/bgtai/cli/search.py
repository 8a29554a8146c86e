"""`bgtai search INDEX QUERY [-k 10] [--modality M] [--json]`: the indexed files nearest a query.

QUERY is a text ("a dog barking"), or an audio or image file searched by its content. The
index's own model embeds it (recorded in the index when it was built), so the query and the
files share one space. `--json` prints `{"query", "modality", "results": [{"id", "path",
"modality", "score"}, ...]}`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bgtai.cli import CommandError, format_table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("search", help="search an index by text, a sound or a picture")
    parser.add_argument("index", type=Path, metavar="INDEX")
    parser.add_argument("query", metavar="QUERY", help='a text ("a dog barking") or an audio/image file')
    parser.add_argument("-k", type=int, default=10, help="how many results (default 10)")
    parser.add_argument("--modality", choices=["audio", "image", "text"], help="only results of this modality")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bgtai.search.embedders import load_embedder
    from bgtai.search.index import SearchIndex
    from bgtai.search.query import parse_query

    if args.k < 1:
        raise CommandError(f"-k must be at least 1, got {args.k}")
    modality, item = parse_query(args.query)
    index = SearchIndex.open(args.index)
    try:
        embedder = load_embedder(index.model)
        started = time.perf_counter()
        vector = embedder.encode(modality, [item])[0]
        hits = index.search(vector, args.k, args.modality)
        seconds = time.perf_counter() - started
    finally:
        index.close()
    if args.json:
        results = [{"id": h.id, "path": h.path, "modality": h.modality, "score": round(h.score, 6)} for h in hits]
        print(json.dumps({"query": args.query, "modality": modality, "results": results}, ensure_ascii=False))
        return 0
    rows = [[rank, f"{h.score:.3f}", h.modality, h.path] for rank, h in enumerate(hits, 1)]
    print(format_table(["rank", "score", "modality", "path"], rows))
    print(f"{len(hits)} result(s) for a {modality} query in {seconds:.2f} s (loading the model included)")
    return 0
