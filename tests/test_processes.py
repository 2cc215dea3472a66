"""Processes: one ingestion at a time per data directory (a second gets one line, not a traceback), and the
Prefect server a command starts dies with it, even on kill -9."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from convergenze.pipelines.runtime import IngestionBusy, IngestionLock

CLI = str(Path(sys.executable).with_name("convergenze"))
HOLD = "import sys, time; from pathlib import Path; from convergenze.pipelines.runtime import IngestionLock\n" \
       "with IngestionLock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)"


def _holder(data_dir: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(data_dir)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_ingestion_gets_one_line_with_who_holds_the_lock(tmp_path: Path) -> None:
    holder = _holder(tmp_path)
    try:
        with pytest.raises(IngestionBusy, match=rf"another ingestion is running since \d\d:\d\d, pid {holder.pid}$"):
            with IngestionLock(tmp_path):
                pass
        env = {**os.environ, "CONVERGENZE_DATA": str(tmp_path)}
        second = subprocess.run([CLI, "ingest"], env=env, capture_output=True, text=True, timeout=120)
    finally:
        holder.kill()
        holder.wait()
    assert second.returncode == 1
    assert re.fullmatch(rf"error: another ingestion is running since \d\d:\d\d, pid {holder.pid}",
                        second.stderr.strip()), second.stderr
    with IngestionLock(tmp_path):  # freed when its holder died
        pass


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


@pytest.mark.slow
def test_the_prefect_server_of_a_killed_command_dies_with_it(tmp_path: Path) -> None:
    env = {**os.environ, "CONVERGENZE_DATA": str(tmp_path), "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    command = subprocess.Popen([CLI, "deliver"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    servers: list[int] = []
    while not servers and time.monotonic() < deadline:
        servers = [c for c in _children(command.pid)
                   if b"prefect.server.api.server" in Path(f"/proc/{c}/cmdline").read_bytes()]
        time.sleep(0.1)
    assert servers, "the command started no Prefect server"
    time.sleep(1.0)  # past exec: the server is starting up
    command.send_signal(signal.SIGKILL)
    command.wait()
    deadline = time.monotonic() + 15
    while _alive(servers[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(servers[0]), "the Prefect server outlived the command (an orphan)"
