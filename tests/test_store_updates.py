"""Status updates in place and the document-id filter, the same on Qdrant Edge and on qdrant-client."""

from __future__ import annotations

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
