"""Scheduled ingestion for real: a Prefect server on 127.0.0.1, the `convergenze` process pool, one
deployment of prefect.yaml, a worker; a triggered run must put documents in the index."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from convergenze.core.settings import DataSettings, QdrantSettings
from convergenze.index.store.factory import open_store
from convergenze.pipelines.scheduler import LocalScheduler, free_port

pytestmark = pytest.mark.slow


def test_a_deployment_run_by_a_worker_fills_the_index(
    mini_mirror: Path, models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    environment = {
        "CONVERGENZE_CORPORA": str(mini_mirror),
        "CONVERGENZE_MODELS": str(models_dir),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PREFECT_LOGGING_LEVEL": "INFO",
    }
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    scheduler = LocalScheduler(data_dir, port=free_port(), deployments=["regional-notices"], env=environment)
    worker = None
    try:
        scheduler.run()
        assert scheduler.server is not None and scheduler.api_url.startswith("http://127.0.0.1:")
        # The UI on a port other than 4200 must be told where its API is, or it shows no runs.
        ui = httpx.get(scheduler.api_url.removesuffix("/api") + "/ui-settings", timeout=30).json()
        assert ui["api_url"] == scheduler.api_url
        deployments = httpx.post(f"{scheduler.api_url}/deployments/filter", json={}, timeout=30).json()
        (deployed,) = deployments
        assert deployed["name"] == "regional-notices" and deployed["work_pool_name"] == "convergenze"
        assert deployed["schedules"][0]["schedule"]["timezone"] == "Europe/Rome"
        assert deployed["parameters"]["sources"] == ["emilia-romagna", "lazio-innova", "incentivi-gov", "bandi-pdf"]
        pool = httpx.get(f"{scheduler.api_url}/work_pools/convergenze", timeout=30).json()
        assert pool["type"] == "process" and pool["concurrency_limit"] == 1
        worker = scheduler.start_worker(tmp_path / "worker.log")
        out = scheduler.prefect(
            "deployment", "run", "convergenze-ingest/regional-notices",
            "--param", 'sources=["emilia-romagna"]', "--param", 'today="2026-11-24"',
            "--watch", "--watch-timeout", "900",
            timeout=960,
        )
        assert "Completed" in out, out + (tmp_path / "worker.log").read_text(errors="replace")
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:  # a worker busy shutting down on a loaded machine: not the claim here
                worker.kill()
                worker.wait(timeout=30)
        scheduler.stop()
    monkeypatch.setenv("CONVERGENZE_DATA", str(data_dir))
    store = open_store(QdrantSettings(), DataSettings(), write=False)
    try:
        assert store.facet("source") == {"emilia-romagna": 18}
    finally:
        store.close()
    latest = data_dir / "reports" / "latest.json"
    assert latest.exists() and '"new": 18' in latest.read_text(encoding="utf-8")


def test_schedule_against_an_unreachable_server_fails_with_a_plain_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from convergenze.cli.app import app

    monkeypatch.setenv("CONVERGENZE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")  # nobody listens there
    result = CliRunner().invoke(app, ["schedule", "--no-worker"])
    assert result.exit_code == 1
    assert "error: `prefect work-pool create convergenze --type process --overwrite` failed" in result.output
    assert not (tmp_path / "data" / "prefect-server").exists()  # a server was named: none was started
