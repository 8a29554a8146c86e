"""A bounded load test of `bgtai serve` on loopback: concurrent clients, p50/p99 latency, errors.

Run:  .venv/bin/python benchmarks/search_service_load.py INDEX [--clients 8] [--requests 400] [--max-seconds 60]

Starts `bgtai serve INDEX` on 127.0.0.1 (a free port; never another address), waits until it
answers, measures the first query after start-up, then lets `--clients` concurrent clients send
text queries (`GET /search`, k=10) until `--requests` have been sent or `--max-seconds` have
passed, whichever comes first, and stops the server it started. Queries cycle through a fixed
list, so repeated texts meet the feature cache as a real user's repeated queries would.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

HOST = "127.0.0.1"  # loopback only, whatever the arguments
QUERIES = [
    "a dog barking",
    "a bee buzzing",
    "a butterfly",
    "an insect on a leaf",
    "something that flies",
    "a cricket chirping at night",
    "a red beetle",
    "a spider",
    "a caterpillar",
    "wings",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


async def _load(
    base: str, clients: int, requests: int, max_seconds: float
) -> tuple[list[float], dict[int, int], float]:
    import httpx

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    sent = 0
    deadline = time.monotonic() + max_seconds

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal sent
        while sent < requests and time.monotonic() < deadline:
            query = QUERIES[sent % len(QUERIES)]
            sent += 1
            started = time.perf_counter()
            try:
                response = await http.get(f"{base}/search", params={"q": query, "k": 10})
                status = response.status_code
            except httpx.HTTPError:
                status = -1
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=30) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    return latencies, statuses, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args()
    import httpx
    import numpy as np

    port = _free_port()
    base = f"http://{HOST}:{port}"
    command = [sys.executable, "-m", "bgtai.cli.main", "serve", str(args.index), "--host", HOST, "--port", str(port)]
    started = time.perf_counter()
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        while True:
            if server.poll() is not None:
                raise SystemExit(f"the server exited: {server.stderr.read() if server.stderr else ''}")
            try:
                if httpx.get(f"{base}/api/stats", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() - started > 300:
                raise SystemExit("the server did not start within 300 s")
            time.sleep(0.2)
        ready_s = time.perf_counter() - started
        first_started = time.perf_counter()
        first = httpx.get(f"{base}/search", params={"q": "a grasshopper", "k": 10}, timeout=30)
        first_ms = (time.perf_counter() - first_started) * 1000
        latencies, statuses, seconds = asyncio.run(_load(base, args.clients, args.requests, args.max_seconds))
    finally:
        server.terminate()
        server.wait(timeout=30)
    ms = np.asarray(latencies)
    errors = sum(n for status, n in statuses.items() if status != 200)
    print(f"server ready in {ready_s:.1f} s; first query {first_ms:.0f} ms (status {first.status_code})")
    print(
        f"{len(ms)} requests from {args.clients} clients in {seconds:.1f} s ({len(ms) / seconds:.1f} req/s); "
        f"p50 {np.percentile(ms, 50):.0f} ms, p99 {np.percentile(ms, 99):.0f} ms, max {ms.max():.0f} ms; "
        f"statuses {dict(sorted(statuses.items()))}; errors {errors}"
    )


if __name__ == "__main__":
    main()
