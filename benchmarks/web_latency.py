"""Web page latency over HTTP: p50/p95 of the search page (server-side render with its facets), beside
``GET /v1/search`` for the same queries in the same run, interleaved (the machine is shared: only the ratio
within one run means much).

Starts the app (uvicorn, 127.0.0.1, a free port) on the index in CONVERGENZE_DATA (ingest first), and also
times the other pages a person opens: home, calendar, a document, the map.

    python benchmarks/web_latency.py [--rounds 5]
"""

from __future__ import annotations

import argparse

import httpx
from serving import QUERIES, Timings, bench_services, served

FILTERED = {"type": "call", "status": "open"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    services = bench_services()
    timings = Timings()
    timed = timings.timed
    with served(services) as url, httpx.Client(base_url=url, timeout=60) as client:
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

    base = timings.p50("GET /v1/search (JSON, baseline)")
    print(f"index: {services.store.count_documents()} documents, {services.store.count_points()} points "
          f"({services.backend})")
    print(f"{'route':<40}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}   p50 vs GET /v1/search")
    for label, values in timings.values.items():
        print(f"{label:<40}{len(values):>5}{timings.p50(label):>9.1f}{timings.p95(label):>9.1f}"
              f"   x{timings.p50(label) / base:.2f}")


if __name__ == "__main__":
    main()
