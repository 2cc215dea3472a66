"""Vector store: one interface (``VectorStore``/``VectorWriter``), Qdrant Edge and qdrant-client backends."""

from convergenze.index.store.base import StoreBusyError, VectorStore, VectorWriter
from convergenze.index.store.edge import EdgeStore, EdgeWriter
from convergenze.index.store.factory import open_store, store_writer
from convergenze.index.store.qdrant_client_store import QdrantClientStore, QdrantClientWriter

__all__ = [
    "EdgeStore",
    "EdgeWriter",
    "QdrantClientStore",
    "QdrantClientWriter",
    "StoreBusyError",
    "VectorStore",
    "VectorWriter",
    "open_store",
    "store_writer",
]
