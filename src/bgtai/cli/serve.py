"""`bgtai serve INDEX [--host 127.0.0.1] [--port 8000]`: a web page and JSON API to search an index.

Open http://127.0.0.1:8000/ for the page, /docs for the API (see `bgtai.search.service`).
The index's model is loaded and warmed up with a text query before the server starts
listening, so the first search does not wait for it. It binds the loopback address unless
`--host` says otherwise: the service has no log-in, and anyone who can reach it can search
the collection and fetch its files.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
import time
from pathlib import Path

from bgtai.cli import CommandError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="serve a search page and JSON API for an index")
    parser.add_argument("index", type=Path, metavar="INDEX")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--max-upload-mb", type=float, default=20.0, help="largest accepted upload (default 20)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from bgtai.search.embedders import describe, load_embedder
    from bgtai.search.index import SearchIndex
    from bgtai.search.service import create_app

    if not 0 < args.port < 65536:
        raise CommandError(f"--port must be 1..65535, got {args.port}")
    if args.max_upload_mb <= 0:
        raise CommandError(f"--max-upload-mb must be positive, got {args.max_upload_mb}")
    if not _is_loopback(args.host):
        print(
            f"warning: serving on {args.host}: every machine that can reach it can search and fetch your files",
            file=sys.stderr,
        )
    index = SearchIndex.open(args.index)
    started = time.perf_counter()
    embedder = load_embedder(index.model)
    embedder.encode("text", ["warm-up"])
    stats = index.stats()
    print(
        f"{args.index}: {stats['items']} items, {describe(index.model)} ready in "
        f"{time.perf_counter() - started:.1f} s; open http://{_url_host(args.host)}:{args.port}/",
        file=sys.stderr,
    )
    app = create_app(index, embedder, max_upload_bytes=int(args.max_upload_mb * 1024 * 1024))
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        index.close()
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
