"""Scheduled ingestion with Prefect: a local server on 127.0.0.1 (unless PREFECT_API_URL names one), the
`convergenze` process work pool, the deployments of ``prefect.yaml``, and a process worker that runs them.

Every step is the Prefect CLI that the README documents, run as a subprocess, so what ``convergenze schedule``
does can be done by hand and nothing here depends on Prefect's internal Python API.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from convergenze.core.errors import Unavailable
from convergenze.core.settings import PROJECT_ROOT

POOL = "convergenze"
# One Qdrant Edge writer at a time: two ingestions at once would wait on the index's lock.
POOL_CONCURRENCY = 1


class SchedulerError(Unavailable):
    """A Prefect step failed; the message says which and what Prefect printed."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _prefect() -> str:
    found = shutil.which("prefect", path=str(Path(sys.executable).parent)) or shutil.which("prefect")
    if found is None:
        raise SchedulerError("the `prefect` command is not installed in this environment")
    return found


@dataclass
class LocalScheduler:
    """``run()`` starts what is missing and returns; ``worker()`` then runs the worker in the foreground.

    ``deployments`` limits ``prefect deploy`` to those names (all of prefect.yaml when empty)."""

    data_dir: Path
    port: int = 4200
    deployments: list[str] = field(default_factory=list)
    project_dir: Path = PROJECT_ROOT
    startup_timeout: float = 180.0
    env: dict[str, str] = field(default_factory=dict)
    server: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.env = {
            **os.environ,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_UI_ENABLED": os.environ.get("PREFECT_UI_ENABLED", "true"),
            # The deployments' pull step changes into the project: flows run from this checkout.
            "CONVERGENZE_HOME": str(self.project_dir.resolve()),
            "CONVERGENZE_DATA": str(self.data_dir.resolve()),
            **self.env,
        }

    @property
    def api_url(self) -> str:
        return self.env.get("PREFECT_API_URL") or f"http://127.0.0.1:{self.port}/api"

    def run(self) -> None:
        if not self.env.get("PREFECT_API_URL"):
            self.start_server()
        self.prefect("work-pool", "create", POOL, "--type", "process", "--overwrite")
        self.prefect("work-pool", "set-concurrency-limit", POOL, str(POOL_CONCURRENCY))
        names = [a for name in self.deployments for a in ("--name", name)] or ["--all"]
        self.prefect("--no-prompt", "deploy", *names)

    def start_server(self) -> None:
        """``prefect server start`` on 127.0.0.1, its database with the project's data; waits until healthy."""
        home = self.data_dir / "prefect-server"
        home.mkdir(parents=True, exist_ok=True)
        self.env["PREFECT_HOME"] = str(home.resolve())
        log = (home / "server.log").open("ab")
        # The UI asks the server where its API is; unset, that is port 4200 whatever --port says.
        self.env["PREFECT_UI_API_URL"] = f"http://127.0.0.1:{self.port}/api"
        self.server = subprocess.Popen(
            [_prefect(), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.project_dir,
        )
        self.env["PREFECT_API_URL"] = f"http://127.0.0.1:{self.port}/api"
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise SchedulerError(f"the Prefect server exited with {self.server.returncode}; see {home}/server.log")
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass  # not listening yet
            time.sleep(1.0)
        self.stop()
        raise SchedulerError(f"the Prefect server did not answer within {self.startup_timeout:.0f} s")

    def prefect(self, *args: str, timeout: float = 600.0) -> str:
        done = subprocess.run(
            [_prefect(), *args], env=self.env, cwd=self.project_dir, capture_output=True, text=True,
            timeout=timeout, check=False,
        )
        if done.returncode != 0:
            raise SchedulerError(f"`prefect {' '.join(args)}` failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done.stdout

    def start_worker(self, log: Path | None = None) -> subprocess.Popen[bytes]:
        """A process worker on the pool, in the background (the test and ``schedule --no-wait``)."""
        out = log.open("ab") if log else subprocess.DEVNULL
        return subprocess.Popen(
            [_prefect(), "worker", "start", "--pool", POOL, "--type", "process"],
            env=self.env, cwd=self.project_dir, stdout=out, stderr=subprocess.STDOUT,
        )

    def worker(self) -> int:
        """The worker in the foreground until Ctrl-C; stops the server this scheduler started."""
        try:
            return subprocess.call(
                [_prefect(), "worker", "start", "--pool", POOL, "--type", "process"],
                env=self.env, cwd=self.project_dir,
            )
        except KeyboardInterrupt:
            return 0
        finally:
            self.stop()

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.server.kill()
        self.server = None
