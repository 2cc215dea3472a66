"""Prefect's environment: ephemeral (no server) by default, a real server when PREFECT_API_URL is set; the
ingestion lock; and, for the command line, an ephemeral Prefect server that dies with its parent."""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO

import httpx

from convergenze.core.errors import Unavailable

# Prefect's first ephemeral start takes 10-25 s on two cores; its default 20 s timeout fails there.
_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "HF_HUB_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def configure_prefect(data_dir: Path) -> None:
    """Set Prefect's defaults before Prefect reads its settings; values the user exported win."""
    for key, value in _DEFAULTS.items():
        os.environ.setdefault(key, value)
    if not os.environ.get("PREFECT_API_URL"):
        # The ephemeral server keeps its SQLite database with the project's data, not in the user's home.
        os.environ.setdefault("PREFECT_HOME", str((data_dir / "prefect").resolve()))
    # Prefect's ephemeral server fails with "unable to open database file" when its home does not exist yet.
    Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect")).expanduser().mkdir(parents=True, exist_ok=True)


class IngestionBusy(Unavailable):
    """Another ingestion (or delivery pass) holds the data directory."""


class IngestionLock:
    """One ingestion at a time per data directory, from the first fetch to the last alert delivery: an flock on
    ``<data>/ingest.lock``, which holds the pid and start time of its holder and is freed when it exits, however."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "ingest.lock"
        self._handle: IO[str] | None = None

    def __enter__(self) -> IngestionLock:
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until __exit__
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().split()
            handle.close()
            raise IngestionBusy(self.busy_message(holder)) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()} {datetime.now().astimezone().isoformat(timespec='seconds')}")
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the descriptor drops the flock
            self._handle = None

    @staticmethod
    def busy_message(holder: list[str]) -> str:
        if len(holder) == 2:
            since = datetime.fromisoformat(holder[1]).strftime("%H:%M")
            return f"another ingestion is running since {since}, pid {holder[0]}"
        return "another ingestion is running"


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


@contextmanager
def prefect_server(startup_timeout: float = 180.0) -> Iterator[str | None]:
    """Prefect's ephemeral API server, started by this process with PR_SET_PDEATHSIG, so that it dies with it
    even on ``kill -9`` (Prefect's own ephemeral server is stopped only by ``atexit``, which a killed process
    never runs). Yields its API URL, exported as PREFECT_API_URL; None when a server is configured already.
    Call it before Prefect is imported: Prefect reads PREFECT_API_URL once."""
    if os.environ.get("PREFECT_API_URL"):
        yield None
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    command = [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "error", "--lifespan", "on"]
    libc = ctypes.CDLL(None, use_errno=True)  # loaded before the fork: the child makes two system calls, no import
    parent = os.getpid()

    def die_with_parent() -> None:  # in the child, between fork and exec
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the line above: nobody will send the signal
            os._exit(1)

    server = subprocess.Popen(command, env=env, preexec_fn=die_with_parent)
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + startup_timeout
        while not _healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise Unavailable(f"Prefect's server did not start (exit {server.poll()}); see its output above")
            time.sleep(0.2)
        os.environ["PREFECT_API_URL"] = url
        yield url
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False
