"""The distributed backfill: the flow's embedding stage on a two-process Dask ``LocalCluster`` (prefect-dask)
writes the same points and vectors as the sequential run of the same sources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from convergenze.core.settings import DataSettings, QdrantSettings, Settings
from convergenze.index.store.base import VectorStore
from convergenze.index.store.factory import open_store
from convergenze.index.store.filters import document_filter
from tests.conftest import use_environment

pytestmark = pytest.mark.slow
SOURCES = ["pnrr-calls", "eu-funding-tenders"]


def _points(store: VectorStore, document_ids: list[str]) -> dict[str, tuple[dict[str, Any], np.ndarray]]:
    """point id -> (payload, dense vector) for every point of ``document_ids``."""
    payloads = {pid: payload for d in document_ids for pid, payload in store._scroll(document_filter(d), None)}
    vectors = store.dense_vectors(sorted(payloads))
    return {pid: (payload, np.asarray(vectors[pid])) for pid, payload in payloads.items()}


def _index(data_dir: Path, mirror: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch, *, distributed: bool
           ) -> tuple[dict[str, Any], dict[str, tuple[dict[str, Any], np.ndarray]]]:
    from convergenze.pipelines.ingest import run_ingestion

    use_environment(monkeypatch, data_dir, mirror, models_dir)
    monkeypatch.setenv("CONVERGENZE_DASK_WORKERS", "2")
    monkeypatch.delenv("CONVERGENZE_DASK_ADDRESS", raising=False)
    report = run_ingestion(Settings.load(), sources=SOURCES, today="2026-11-24", progress=False,
                           distributed=distributed)
    store = open_store(QdrantSettings(), DataSettings(), write=False)
    try:
        return report, _points(store, sorted(store.document_hashes()))
    finally:
        store.close()


def test_a_dask_backfill_writes_what_a_sequential_run_writes(
    ingested: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = (ingested["mirror"], ingested["models_dir"], monkeypatch)
    sequential_report, sequential = _index(tmp_path / "sequential", *args, distributed=False)
    dask_report, dask = _index(tmp_path / "dask", *args, distributed=True)

    counts = [(s["source"], s["indexed"], s["points"], s["error"]) for s in sequential_report["sources"]]
    assert counts == [(s["source"], s["indexed"], s["points"], s["error"]) for s in dask_report["sources"]]
    assert sum(s["indexed"] for s in dask_report["sources"]) == 48 and len(dask) > 48
    assert set(dask) == set(sequential)
    for point_id, (payload, vector) in sequential.items():
        other_payload, other_vector = dask[point_id]
        assert other_payload == payload, point_id
        # Workers run one thread each, the sequential run two: the same int8 model, summed in another order.
        assert float(vector @ other_vector) >= 0.99999, point_id
