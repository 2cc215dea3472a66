"""Bounded load on 127.0.0.1: search and match at 8 and 32 concurrent clients, against `convergenze serve` run
as its own process on the index in CONVERGENZE_DATA (run `convergenze ingest` first); with ``--baseline``, the
code before (another checkout) is served beside it on the same index and the stages take turns between the two.

Prints, per route, concurrency and server: throughput, p50/p95/p99 latency, answers by status (429
rate-limited, 503 model slots full, anything else an error); then per server its RSS before the load, at its
highest after a stage, and after the load once idle for ``--settle`` seconds, and how /health answered while
that server was loaded (polled every 0.5 s). Each stage is bounded in requests and seconds. The servers run with
the shipped limits except the rate limit, lifted so that one address can load them.

    python benchmarks/load.py [--requests 200] [--seconds 60] [--baseline /tmp/before]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from serving import QUERIES, Server, checkouts, percentile, spawned

PROJECT = ("Il nostro comune vuole installare impianti fotovoltaici sulle scuole e sulla palestra comunale, con una "
           "comunità energetica rinnovabile aperta alle famiglie e alle imprese locali. Variante {n}.")


class HealthWatch(threading.Thread):
    """GET /health every 0.5 s while the load runs: how often it answered, and how fast."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.failures = 0

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=5.0) as http:
            while not self.stop.wait(0.5):
                started = time.perf_counter()
                try:
                    ok = http.get("/health").status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    self.latencies.append((time.perf_counter() - started) * 1000)
                else:
                    self.failures += 1


def stage(base: str, route: str, clients: int, requests: int, seconds: float) -> dict[str, object]:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    deadline = time.monotonic() + seconds
    counter = iter(range(requests))
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=60.0) as http:
            while time.monotonic() < deadline:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                started = time.perf_counter()
                try:
                    if route == "search":
                        answer = http.get("/v1/search", params={"q": QUERIES[n % len(QUERIES)], "limit": 10})
                    else:
                        answer = http.post("/v1/match", json={"text": PROJECT.format(n=n), "limit": 10})
                    status = str(answer.status_code)
                except httpx.HTTPError as error:
                    status = type(error).__name__
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    statuses[status] += 1
                    if status == "200":
                        latencies.append(elapsed)

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        for _ in range(clients):
            pool.submit(worker)
    wall = time.monotonic() - started
    return {"ok": len(latencies), "wall": wall, "rps": len(latencies) / wall, "p50": percentile(latencies, 0.5),
            "p95": percentile(latencies, 0.95), "p99": percentile(latencies, 0.99), "statuses": dict(statuses)}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="at most this many requests per stage")
    parser.add_argument("--seconds", type=float, default=60.0, help="at most this long per stage")
    parser.add_argument("--settle", type=float, default=20.0, help="idle seconds before the last RSS reading")
    parser.add_argument("--baseline", type=Path, help="a checkout of the code to compare with (its root)")
    args = parser.parse_args()
    with spawned(checkouts(args.baseline)) as running:
        documents = httpx.get(f"{running[0].url}/health").json()["documents"]
        rss = {s.name: [s.rss_gb()] for s in running}
        health: dict[str, list[float]] = {s.name: [] for s in running}
        failures: Counter[str] = Counter()
        print(f"index: {documents} documents")
        print(f"{'route':<7} {'clients':>7} {'server':<9} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
              "  answers")
        for route in ("search", "match"):
            for clients in (8, 32):
                for server in _turns(running, route, clients):
                    watch = HealthWatch(server.url)
                    watch.start()
                    result = stage(server.url, route, clients, args.requests, args.seconds)
                    watch.stop.set()
                    watch.join()
                    health[server.name] += watch.latencies
                    failures[server.name] += watch.failures
                    rss[server.name].append(server.rss_gb())
                    answers = ", ".join(f"{k}: {v}" for k, v in sorted(result["statuses"].items()))  # type: ignore[union-attr]
                    print(f"{route:<7} {clients:>7} {server.name:<9} {result['rps']:>7.1f} {result['p50']:>8.0f} "
                          f"{result['p95']:>8.0f} {result['p99']:>8.0f}  {answers}", flush=True)
        time.sleep(args.settle)
        for server in running:
            seen, values = rss[server.name], health[server.name]
            print(f"{server.name}: RSS {seen[0]:.2f} GB before, {max(seen[1:]):.2f} GB at most after a stage, "
                  f"{server.rss_gb():.2f} GB after {args.settle:g} s idle; /health while loaded: {len(values)} "
                  f"answered, {failures[server.name]} failed or over 5 s, p50 "
                  f"{statistics.median(values) if values else float('nan'):.0f} ms, p99 "
                  f"{percentile(values, 0.99):.0f} ms, max {max(values) if values else float('nan'):.0f} ms")


def _turns(running: list[Server], route: str, clients: int) -> list[Server]:
    """Which server goes first alternates from stage to stage, so neither always loads a cooler machine."""
    flip = (route == "match") != (clients == 32)
    return running[::-1] if flip else running


if __name__ == "__main__":
    main()
