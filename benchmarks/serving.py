"""What the HTTP benchmarks share: the queries they send, the percentile they report, a free port, and the app
served in process by uvicorn on 127.0.0.1 (real HTTP, the services already warm)."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from convergenze.api.main import create_app
from convergenze.core.settings import Settings
from convergenze.services.wiring import Services

# Officers' and programme staff's searches, Italian and English, short and specific.
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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_services() -> Services:
    """The services of the index in CONVERGENZE_DATA, with the rate limits lifted: a benchmark measures the
    routes, not the limiter (which would answer 429 past 60 requests a minute)."""
    settings = Settings.load()
    lifted = settings.security.model_copy(update={"rate_limit": "1000000/minute",
                                                  "alert_rate_limit": "1000000/minute"})
    return Services(dataclasses.replace(settings, security=lifted))


@contextmanager
def served(services: Services) -> Iterator[str]:
    """The API and the pages over ``services`` (warmed up, index not empty), at the URL yielded."""
    services.warm_up()
    if services.store.count_points() == 0:
        raise SystemExit("The index is empty: run `convergenze ingest` first (CONVERGENZE_DATA).")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
