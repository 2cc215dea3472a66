"""Web page latency over HTTP: p50/p95 of the search page (server-side render with its facets), beside
``GET /v1/search`` for the same queries in the same run, interleaved (the machine is shared: only the ratio
within one run means much).

Starts the app (uvicorn, 127.0.0.1, a free port) on the index in CONVERGENZE_DATA (ingest first), and also
times the other pages a person opens: home, calendar, a document, the map.

    python benchmarks/web_latency.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from collections.abc import Callable

import httpx
import uvicorn

from convergenze.api.main import create_app
from convergenze.core.settings import Settings
from convergenze.services.wiring import Services

QUERIES = [
    "digitalizzazione delle piccole e medie imprese",
    "riqualificazione energetica degli edifici scolastici",
    "migrazione al cloud dei servizi comunali",
    "inclusione sociale e servizi per anziani non autosufficienti",
    "rigenerazione urbana delle periferie",
    "hydrogen valleys and renewable energy",
    "artificial intelligence for health research",
    "cooperative di comunità nelle aree interne",
    "borse di studio per dottorati innovativi",
    "mobilità sostenibile e piste ciclabili",
    "contributi a fondo perduto per startup innovative nel Lazio",
    "climate adaptation of coastal cities",
]
FILTERED = {"type": "call", "status": "open"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    services = Services(Settings.load())
    services.warm_up()
    if services.store.count_points() == 0:
        raise SystemExit("The index is empty: run `convergenze ingest` first (CONVERGENZE_DATA).")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)

    timings: dict[str, list[float]] = {}

    def timed(label: str, call: Callable[[], httpx.Response]) -> None:
        started = time.perf_counter()
        response = call()
        elapsed = 1000 * (time.perf_counter() - started)
        response.raise_for_status()
        timings.setdefault(label, []).append(elapsed)

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        client.get("/v1/search", params={"q": "warm up"})
        client.get("/search", params={"q": "warm up"})
        document = client.get("/v1/search", params={"q": QUERIES[0], "type": "call"}).json()["data"][0]["id"]
        for _ in range(args.rounds):
            for query in QUERIES:
                timed("GET /v1/search (JSON, baseline)", lambda q=query: client.get("/v1/search", params={"q": q}))
                timed("GET /search (page, facets)", lambda q=query: client.get("/search", params={"q": q}))
                timed("GET /v1/search type=call status=open",
                      lambda q=query: client.get("/v1/search", params={"q": q, **FILTERED}))
                timed("GET /search type=call status=open",
                      lambda q=query: client.get("/search", params={"q": q, **FILTERED}))
            timed("GET / (home)", lambda: client.get("/"))
            timed("GET /calendar", lambda: client.get("/calendar"))
            timed("GET /calendar.ics", lambda: client.get("/calendar.ics"))
            timed("GET /documents/{id}", lambda: client.get(f"/documents/{document}"))
            timed("GET /map", lambda: client.get("/map"))
    server.should_exit = True

    base = percentile(timings["GET /v1/search (JSON, baseline)"], 0.5)
    print(f"index: {services.store.count_documents()} documents, {services.store.count_points()} points "
          f"({services.backend})")
    print(f"{'route':<40}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}   p50 vs GET /v1/search")
    for label, values in timings.items():
        print(f"{label:<40}{len(values):>5}{percentile(values, 0.5):>9.1f}{percentile(values, 0.95):>9.1f}"
              f"   x{percentile(values, 0.5) / base:.2f}")


if __name__ == "__main__":
    main()
