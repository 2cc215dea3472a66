"""Choosing the backend from settings, and the write path.

Reading (the API)::

    store = open_store(qdrant_settings, data_settings, write=False)   # a VectorStore
    hits = store.search(dense, sparse, filters, limit=10)

Writing (an ingestion)::

    with store_writer(qdrant_settings, data_settings) as store:       # a VectorWriter
        store.ensure_schema(dim)
        known = store.document_hashes(source)
        store.delete_document(doc_id); store.upsert(points)
    # leaving the block commits (Edge: flush, build HNSW, swap CURRENT); an exception aborts instead
    # (Edge: the new generation is deleted, readers never saw it).

``QDRANT_URL`` set selects a Qdrant server through qdrant-client; otherwise Qdrant Edge under
``<CONVERGENZE_DATA>/index/edge``. Only one Edge writer may run at a time: a second one raises StoreBusyError.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal, overload

from convergenze.core.settings import DataSettings, QdrantSettings
from convergenze.index.store.base import VectorStore, VectorWriter


@overload
def open_store(qdrant: QdrantSettings, data: DataSettings, *, write: Literal[False]) -> VectorStore: ...


@overload
def open_store(qdrant: QdrantSettings, data: DataSettings, *, write: Literal[True]) -> VectorWriter: ...


def open_store(qdrant: QdrantSettings, data: DataSettings, *, write: bool) -> VectorStore:
    """A reader (``write=False``) or a writer that the caller must ``commit()`` or ``abort()``."""
    # Each backend is imported when chosen: qdrant-client alone takes seconds to import.
    if qdrant.url:
        from qdrant_client import QdrantClient

        from convergenze.index.store.qdrant_client_store import QdrantClientStore, QdrantClientWriter

        client = QdrantClient(url=qdrant.url, api_key=qdrant.api_key)
        if write:
            return QdrantClientWriter(client, qdrant.collection, shards=qdrant.shards, replicas=qdrant.replicas)
        return QdrantClientStore(client, qdrant.collection, shards=qdrant.shards, replicas=qdrant.replicas)
    from convergenze.index.store.edge import EdgeStore

    root = data.index_dir / "edge"
    return EdgeStore.begin_write(root) if write else EdgeStore.open_reader(root)


@contextmanager
def store_writer(qdrant: QdrantSettings, data: DataSettings) -> Iterator[VectorWriter]:
    """The write path: yields a writer; commits it when the block succeeds, aborts it when it raises."""
    with open_store(qdrant, data, write=True) as writer:
        yield writer
