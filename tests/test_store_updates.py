"""Status updates in place and the document-id filter, the same on Qdrant Edge and on qdrant-client."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from qdrant_client import QdrantClient

from convergenze.core.records import SearchFilters
from convergenze.index.store.edge import EdgeStore
from convergenze.index.store.qdrant_client_store import QdrantClientStore
from tests.test_store_congruence import DIM, DOCUMENT_IDS, POINTS


def test_set_document_fields_and_the_document_filter_agree(tmp_path: Path) -> None:
    target, others = DOCUMENT_IDS[0], DOCUMENT_IDS[1:4]
    client = QdrantClientStore(QdrantClient(":memory:"), "updates")
    client.ensure_schema(DIM)
    client.upsert(POINTS)
    client.set_document_fields(target, {"status": "withdrawn", "withdrawn": True})
    with EdgeStore.begin_write(tmp_path / "edge") as writer:
        writer.ensure_schema(DIM)
        writer.upsert(POINTS)
        writer.set_document_fields(target, {"status": "withdrawn", "withdrawn": True})
    edge = EdgeStore.open_reader(tmp_path / "edge")
    try:
        for store in (edge, client):
            chunks = store.get_document_chunks(target)
            assert chunks and all(c["status"] == "withdrawn" and c["withdrawn"] is True for c in chunks)
            assert all(c["metadata"] == {"status": "withdrawn", "withdrawn": True} for c in chunks)
            assert all(c["status"] != "withdrawn" for d in others for c in store.get_document_chunks(d))
            query = POINTS[0].dense
            only = SearchFilters(document_ids=tuple(others))
            hits = store.search(query, None, only, limit=10, mode="dense")
            assert {h.document_id for h in hits} == set(others)
            assert store.facet("status", SearchFilters(status="withdrawn")) == {"withdrawn": 1}
    finally:
        edge.close()
        client.close()


def test_vectors_made_by_another_embedder_are_stale(tmp_path: Path) -> None:
    """A document embedded by another model or backend (or before embedders were recorded) reads as stale
    (None), so the next ingestion embeds it again even though its content did not change."""
    first, second = DOCUMENT_IDS[0], DOCUMENT_IDS[1]
    makers = {first: "e5-small", second: "e5-small/openvino-int8"}
    points = [
        dataclasses.replace(p, payload={**p.payload, "embedder": makers[p.chunk.document_id]})
        if p.chunk.document_id in makers else p
        for p in POINTS
    ]
    with EdgeStore.begin_write(tmp_path / "edge") as writer:
        writer.ensure_schema(DIM)
        writer.upsert(points)
    client = QdrantClientStore(QdrantClient(":memory:"), "stale")
    client.ensure_schema(DIM)
    client.upsert(points)
    edge = EdgeStore.open_reader(tmp_path / "edge")
    try:
        for store in (edge, client):
            assert store.document_hashes() == {p.chunk.document_id: p.payload["content_hash"] for p in POINTS}
            current = store.document_hashes(embedder="e5-small/openvino-int8")
            assert current[second] == next(p.payload["content_hash"] for p in POINTS
                                           if p.chunk.document_id == second)
            assert current[first] is None
            assert all(current[d] is None for d in DOCUMENT_IDS[2:])  # unnamed: made before embedders were kept
    finally:
        edge.close()
        client.close()
