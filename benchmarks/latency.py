"""Latency over HTTP: p50/p95 of GET /v1/search and the convergence routes against a running index, this
checkout's server beside the baseline's in one run.

Serves the index in CONVERGENZE_DATA (run `convergenze ingest` first) with `convergenze serve` from this
checkout and, with ``--baseline``, from another checkout of the code before (e.g. ``git worktree add --detach
/tmp/before main``) on the same index at the same time; every request goes to each server in turn (the first
one alternating), so both see the same machine. Prints p50/p95 per route and server, the ratio new/baseline,
and the targets: hybrid p50 at most 2x the BM25-only route's, hybrid p95 under 50 ms, match with reasons p50
under 200 ms. Later rounds ask the same texts again, which a server may have kept something of (a query's
vector): the search and match routes are also printed for the first round alone ("first ask").

    python benchmarks/latency.py [--rounds 5] [--baseline /tmp/before] [--settle 30]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from serving import QUERIES, Server, Timings, checkouts, spawned

PROFILE = {"actor_type": "public_administration", "municipality": "Viterbo", "budget_needed": 800_000}
# Project descriptions as a municipality, a firm or a research group would write them.
PROJECTS = [
    "Il nostro comune di 12.000 abitanti vuole installare impianti fotovoltaici sulle scuole e sulla "
    "palestra comunale, con una comunità energetica rinnovabile aperta alle famiglie e alle imprese locali.",
    "Vogliamo digitalizzare i servizi dell'anagrafe e del SUAP e migrarli su un cloud qualificato, con "
    "identità digitale per i cittadini e formazione del personale comunale.",
    "Una cooperativa sociale propone un centro diurno per anziani non autosufficienti e servizi di assistenza "
    "domiciliare nei piccoli comuni delle aree interne.",
    "A consortium of universities and SMEs will develop artificial intelligence tools for early diagnosis in "
    "hospitals, with clinical validation and open data.",
]
HYBRID, SPARSE, MATCH = "GET /v1/search hybrid", "GET /v1/search sparse (BM25)", "POST /v1/match (reasons...)"
FIRST_ASKED = (HYBRID, SPARSE, MATCH)


def round_requests(client: httpx.Client, round_: int) -> list[tuple[str, Callable[[], httpx.Response]]]:
    """One round's requests, as (label, call) pairs."""
    calls: list[tuple[str, Callable[[], httpx.Response]]] = []
    for query in QUERIES:
        for mode, label in (("hybrid", HYBRID), ("dense", "GET /v1/search dense"), ("sparse", SPARSE)):
            calls.append((label, lambda q=query, m=mode: client.get("/v1/search", params={"q": q, "mode": m})))
        calls.append(("GET /v1/search hybrid type=call status=open", lambda q=query: client.get(
            "/v1/search", params={"q": q, "type": "call", "status": "open"})))
    for text in PROJECTS:
        calls += [
            (MATCH, lambda t=text: client.post("/v1/match", json={"text": t})),
            ("POST /v1/match with a profile", lambda t=text: client.post(
                "/v1/match", json={"text": t, "profile": PROFILE})),
            ("POST /v1/match explain=false", lambda t=text: client.post(
                "/v1/match", json={"text": t, "explain": False})),
        ]
    calls += [
        ("POST /v1/overlaps", lambda: client.post(
            "/v1/overlaps", json={"text": PROJECTS[round_ % len(PROJECTS)], "region": "Lazio"})),
        ("GET /v1/actors?mission=climate", lambda: client.get("/v1/actors", params={"mission": "climate"})),
        ("GET /v1/missions/map", lambda: client.get("/v1/missions/map")),
    ]
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="a checkout of the code to compare with (its root)")
    parser.add_argument("--settle", type=float, default=30.0,
                        help="seconds to wait after start-up, while a server reads which document each passage "
                             "belongs to in the background (about 30 s on the whole corpus)")
    args = parser.parse_args()

    with spawned(checkouts(args.baseline)) as running:
        clients = {s.name: httpx.Client(base_url=s.url, timeout=120) for s in running}
        timings = {s.name: Timings() for s in running}
        health = clients[running[0].name].get("/health").json()
        for client in clients.values():  # the first request of each kind pays for lazy work: not timed
            client.get("/v1/search", params={"q": "avvio"}).raise_for_status()
            client.post("/v1/match", json={"text": PROJECTS[0]}).raise_for_status()
        time.sleep(args.settle)
        for round_ in range(args.rounds):
            calls = {name: round_requests(client, round_) for name, client in clients.items()}
            for i in range(len(calls[running[0].name])):
                order: list[Server] = running if (round_ + i) % 2 == 0 else running[::-1]
                for server in order:
                    label, call = calls[server.name][i]
                    elapsed = timings[server.name].timed(label, call)
                    if round_ == 0 and label in FIRST_ASKED:
                        timings[server.name].add(f"{label}, first ask", elapsed)
        for client in clients.values():
            client.close()

    print(f"index: {health['documents']} documents, {health['points']} points ({health['backend']}); "
          f"{args.rounds} rounds")
    names = [s.name for s in running]
    head = "".join(f"{name + ' p50/p95 ms':>24}" for name in names)
    print(f"{'route':<46}{'n':>4}{head}" + ("   new/baseline p50" if len(names) > 1 else ""))
    for label, values in timings[names[-1]].values.items():
        cells = "".join(f"{timings[n].p50(label):>15.1f} /{timings[n].p95(label):>6.1f}" for n in names)
        ratio = f"   x{timings['new'].p50(label) / timings['baseline'].p50(label):.2f}" if len(names) > 1 else ""
        print(f"{label:<46}{len(values):>4}{cells}{ratio}")
    for name in names:
        t = timings[name]
        print(f"{name}: hybrid p50 = {t.p50(HYBRID) / t.p50(SPARSE):.2f}x the BM25 route's (target <= 2), "
              f"hybrid p95 {t.p95(HYBRID):.0f} ms (target < 50), match with reasons p50 {t.p50(MATCH):.0f} ms "
              f"(target < 200)")


if __name__ == "__main__":
    main()
