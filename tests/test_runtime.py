"""Prefect's environment on a fresh machine (regression: the ephemeral server could not open its database
because the data directory did not exist yet)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from convergenze.pipelines.runtime import configure_prefect


def test_prefect_home_is_created_inside_a_missing_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_HOME", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    data_dir = tmp_path / "not" / "yet" / "there"
    configure_prefect(data_dir)
    assert Path(os.environ["PREFECT_HOME"]) == (data_dir / "prefect").resolve()
    assert (data_dir / "prefect").is_dir()


def test_a_prefect_server_url_keeps_the_users_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "home"))
    configure_prefect(tmp_path / "data")
    assert not (tmp_path / "data" / "prefect").exists()


def test_only_network_failures_are_retried() -> None:
    from prefect.states import Failed

    from convergenze.corpora.registry import SourceUnavailable
    from convergenze.pipelines.ingest import _transient

    assert _transient(None, None, Failed(data=SourceUnavailable("timeout", retryable=True))) is True
    assert _transient(None, None, Failed(data=SourceUnavailable("not in the mirror"))) is False
    assert _transient(None, None, Failed(data=ValueError("a bug"))) is False
