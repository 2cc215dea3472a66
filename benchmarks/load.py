"""Bounded load on 127.0.0.1: search and match at 8 and 32 concurrent clients, against `convergenze serve` run
as its own process on the index in CONVERGENZE_DATA (run `convergenze ingest` first).

Prints, per route and concurrency: throughput, p50/p95/p99 latency, answers by status (429 rate-limited, 503
model slots full, anything else an error), the server's RSS before and after, and how /health answered
throughout (polled every 0.5 s). Each stage is bounded in requests and seconds and stops by itself. The server
runs with the shipped limits except the rate limit, lifted so that one address can load it
(CONVERGENZE_RATE_LIMIT); the issue's figures (before these limits) are printed beside.

    python benchmarks/load.py [--requests 200] [--seconds 60]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from serving import QUERIES, free_port, percentile

PROJECT = ("Il nostro comune vuole installare impianti fotovoltaici sulle scuole e sulla palestra comunale, con una "
           "comunità energetica rinnovabile aperta alle famiglie e alle imprese locali. Variante {n}.")
# The measurements on the same kind of machine, before this work (8 clients; RSS over the whole run).
BASELINE = {("search", 8): (20.0, 369.0), ("match", 8): (1.7, 3300.0)}
BASELINE_RSS = (1.6, 3.1)


def rss_gb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


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
    args = parser.parse_args()
    port = free_port()
    env = {**os.environ, "CONVERGENZE_RATE_LIMIT": "1000000/minute", "HF_HUB_OFFLINE": "1"}
    cli = str(Path(sys.executable).with_name("convergenze"))
    server = subprocess.Popen([cli, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start: is there an index in CONVERGENZE_DATA?")
            time.sleep(0.5)
        documents = httpx.get(f"{base}/health").json()["documents"]
        rss_before = rss_gb(server.pid)
        watch = HealthWatch(base)
        watch.start()
        print(f"index: {documents} documents; server RSS {rss_before:.2f} GB before the load")
        print(f"{'route':<7} {'clients':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  answers"
              f"{'':<28} issue's baseline")
        for route in ("search", "match"):
            for clients in (8, 32):
                result = stage(base, route, clients, args.requests, args.seconds)
                baseline = BASELINE.get((route, clients))
                before = f"{baseline[0]:g} req/s, p50 {baseline[1]:g} ms" if baseline else "-"
                answers = ", ".join(f"{k}: {v}" for k, v in sorted(result["statuses"].items()))  # type: ignore[union-attr]
                print(f"{route:<7} {clients:>7} {result['rps']:>7.1f} {result['p50']:>8.0f} {result['p95']:>8.0f} "
                      f"{result['p99']:>8.0f}  {answers:<35} {before}")
        watch.stop.set()
        watch.join()
        rss_after = rss_gb(server.pid)
        health = watch.latencies
        print(f"server RSS {rss_before:.2f} -> {rss_after:.2f} GB (issue: {BASELINE_RSS[0]} -> {BASELINE_RSS[1]} GB)")
        print(f"/health during the load: {len(health)} answered, {watch.failures} failed or over 5 s; "
              f"p50 {statistics.median(health) if health else float('nan'):.0f} ms, "
              f"max {max(health) if health else float('nan'):.0f} ms")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
