"""What the HTTP benchmarks share: the queries they send, the percentile they report, a timer per label, a free
port, the app served in process by uvicorn on 127.0.0.1 (real HTTP, the services already warm), and servers run
as their own processes from a given checkout (``spawned``), so that the code before a change and after it
answer the same index in one run, taking turns."""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
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
# This checkout: what `spawned` serves unless told another.
CHECKOUT = Path(__file__).resolve().parent.parent
# A benchmark measures the routes, not the limiter (which would answer 429 past 60 requests a minute).
LIFTED = {"CONVERGENZE_RATE_LIMIT": "1000000/minute", "CONVERGENZE_ALERT_RATE_LIMIT": "1000000/minute"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


class Timings:
    """Milliseconds per label, labels in the order first timed; an HTTP answer that is not a success fails
    the run (a fast 500 is not a fast route)."""

    def __init__(self) -> None:
        self.values: dict[str, list[float]] = {}

    def timed(self, label: str, call: Callable[[], object]) -> float:
        """The call's milliseconds, also recorded under ``label``."""
        started = time.perf_counter()
        answer = call()
        elapsed = 1000 * (time.perf_counter() - started)
        if isinstance(answer, httpx.Response):
            answer.raise_for_status()
        self.add(label, elapsed)
        return elapsed

    def add(self, label: str, milliseconds: float) -> None:
        self.values.setdefault(label, []).append(milliseconds)

    def p50(self, label: str) -> float:
        return percentile(self.values.get(label, []), 0.5)

    def p95(self, label: str) -> float:
        return percentile(self.values.get(label, []), 0.95)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_services() -> Services:
    """The services of the index in CONVERGENZE_DATA, with the rate limits lifted."""
    settings = Settings.load()
    lifted = settings.security.model_copy(update={"rate_limit": LIFTED["CONVERGENZE_RATE_LIMIT"],
                                                  "alert_rate_limit": LIFTED["CONVERGENZE_ALERT_RATE_LIMIT"]})
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


@dataclass(frozen=True, slots=True)
class Server:
    name: str
    url: str
    pid: int

    def rss_gb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 2**20
        return float("nan")


@contextmanager
def spawned(checkouts: dict[str, Path], startup: float = 600.0) -> Iterator[list[Server]]:
    """``convergenze serve`` from each checkout (its code first on PYTHONPATH) as its own process, all started
    at once on the index in CONVERGENZE_DATA with the rate limits lifted; yielded, in the order given, once
    every ``/health`` answers; stopped at the end."""
    started: list[tuple[str, str, subprocess.Popen[bytes]]] = []
    try:
        for name, checkout in checkouts.items():
            port = free_port()
            env = {**os.environ, **LIFTED, "PYTHONPATH": str(checkout), "HF_HUB_OFFLINE": "1"}
            process = subprocess.Popen([sys.executable, "-m", "convergenze.cli", "serve", "--port", str(port)],
                                       env=env, cwd=checkout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            started.append((name, f"http://127.0.0.1:{port}", process))
        deadline = time.monotonic() + startup
        for name, url, process in started:
            while not _answers(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the {name} server did not start: is there an index in CONVERGENZE_DATA?")
                time.sleep(0.5)
        yield [Server(name, url, process.pid) for name, url, process in started]
    finally:
        for _, _, process in started:
            process.terminate()
            process.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def checkouts(baseline: Path | None) -> dict[str, Path]:
    """This checkout as "new", and the ``baseline`` checkout (the code before) as "baseline" when given."""
    return {"baseline": baseline.resolve(), "new": CHECKOUT} if baseline else {"new": CHECKOUT}
