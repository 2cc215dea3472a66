"""Search latency over HTTP: p50/p95 of GET /v1/search and POST /v1/match against a running index.

Starts the API (uvicorn, 127.0.0.1, a free port) on the index in CONVERGENZE_DATA (run `make ingest` or
`convergenze ingest` first), sends a fixed set of Italian and English queries, and prints p50/p95 per route
and mode, with the in-process call (no HTTP) beside it as the baseline.

    python benchmarks/latency.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx
from serving import QUERIES, bench_services, percentile, served

from convergenze.core.records import SearchFilters

PROFILE = {"actor_type": "public_administration", "municipality": "Viterbo", "budget_needed": 800_000}
PROJECT = (
    "Il nostro comune di 12.000 abitanti vuole installare impianti fotovoltaici sulle scuole e sulla "
    "palestra comunale, con una comunità energetica rinnovabile aperta alle famiglie e alle imprese locali."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    services = bench_services()
    timings: dict[str, list[float]] = {}

    def timed(label: str, call: object) -> None:
        started = time.perf_counter()
        call()  # type: ignore[operator]
        timings.setdefault(label, []).append(1000 * (time.perf_counter() - started))

    with served(services) as url, httpx.Client(base_url=url, timeout=60) as client:
        client.get("/v1/search", params={"q": "warm up"})
        for _ in range(args.rounds):
            for query in QUERIES:
                for mode in ("hybrid", "dense", "sparse"):
                    timed(
                        f"GET /v1/search {mode}",
                        lambda q=query, m=mode: client.get(
                            "/v1/search", params={"q": q, "mode": m}
                        ).raise_for_status(),
                    )
                timed("in-process search hybrid", lambda q=query: services.search.search(q, SearchFilters()))
                timed(
                    "GET /v1/search hybrid type=call status=open",
                    lambda q=query: client.get(
                        "/v1/search", params={"q": q, "type": "call", "status": "open"}
                    ).raise_for_status(),
                )
            timed(
                "POST /v1/match (eligibility, reasons, precedents)",
                lambda: client.post("/v1/match", json={"text": PROJECT}).raise_for_status(),
            )
            timed(
                "POST /v1/match with a profile",
                lambda: client.post("/v1/match", json={"text": PROJECT, "profile": PROFILE}).raise_for_status(),
            )
            timed(
                "POST /v1/match explain=false",
                lambda: client.post("/v1/match", json={"text": PROJECT, "explain": False}).raise_for_status(),
            )
            timed(
                "POST /v1/overlaps",
                lambda: client.post("/v1/overlaps", json={"text": PROJECT, "region": "Lazio"}).raise_for_status(),
            )
            timed("GET /v1/actors?mission=climate",
                  lambda: client.get("/v1/actors", params={"mission": "climate"}).raise_for_status())
            timed("GET /v1/missions/map",
                  lambda: client.get("/v1/missions/map").raise_for_status())

    points = services.store.count_points()
    base = statistics.median(timings["in-process search hybrid"])
    print(f"index: {services.store.count_documents()} documents, {points} points ({services.backend})")
    print(f"{'route':<46}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}   p50 vs in-process")
    for label, values in timings.items():
        print(
            f"{label:<46}{len(values):>5}{percentile(values, 0.5):>9.1f}{percentile(values, 0.95):>9.1f}"
            f"   x{percentile(values, 0.5) / base:.2f}"
        )


if __name__ == "__main__":
    main()
