"""``convergenze serve --ingest`` (what ``make demo`` runs): the ingestion in a child process, the API in this one
as soon as the first source is in the index.

Two processes, not the server starting the flow in a thread: the ingestion is CPU-bound Python for minutes
(reading, BM25, labels) and would hold the interpreter's lock the request handlers need, so ``/health`` could
not answer in 50 ms; as a separate process it shares the cores through the OS scheduler, and either can stop
without the other. They meet through the index (each source is committed as a new generation the API's reader
follows) and the progress report (``reports/latest.json``) that ``/health`` and ``/status`` show.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import typer

from convergenze.core.errors import Unavailable
from convergenze.services.wiring import Services

_POLL_SECONDS = 1.0
_STOP_SECONDS = 30.0


class BackgroundIngestion:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.log = services.settings.data.reports_dir / "ingest.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> BackgroundIngestion:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            # The same interpreter and environment: the child reads the same settings.
            self.process = subprocess.Popen([sys.executable, "-m", "convergenze.cli", "ingest"], stdout=log,
                                            stderr=subprocess.STDOUT)
        typer.echo(f"ingesting every source in the background (pid {self.process.pid}, log {_shown(self.log)}); "
                   "progress at /health and /status")
        return self

    def wait_for_first_source(self) -> None:
        """Return when the index holds something (at once if an earlier run left an index)."""
        shown = -1
        while not self.services.store.count_points():
            if self.process is not None and self.process.poll() is not None:
                raise Unavailable(f"the ingestion stopped (exit {self.process.returncode}) before the first source "
                                  f"was in; see {_shown(self.log)}")
            progress = self.services.progress()
            if progress and progress.state == "running" and progress.current and progress.sources_done != shown:
                shown = progress.sources_done
                typer.echo(f"waiting for the first source: reading {progress.current}")
            time.sleep(_POLL_SECONDS)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        # Interrupted like a Ctrl-C: the flow drops its unpublished generation; what was published stays.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
