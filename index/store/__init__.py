"""Vector store: one interface (``VectorStore``/``VectorWriter``), Qdrant Edge and qdrant-client backends.

The names below are imported on first use: qdrant-client takes seconds to import, and a command that reads
the embedded store (or only the catalog) should not pay for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from convergenze.index.store.base import StoreBusyError, VectorStore, VectorWriter
    from convergenze.index.store.edge import EdgeStore, EdgeWriter
    from convergenze.index.store.factory import open_store, store_writer
    from convergenze.index.store.qdrant_client_store import QdrantClientStore, QdrantClientWriter

_WHERE = {
    "StoreBusyError": "base", "VectorStore": "base", "VectorWriter": "base", "EdgeStore": "edge",
    "EdgeWriter": "edge", "open_store": "factory", "store_writer": "factory", "QdrantClientStore":
    "qdrant_client_store", "QdrantClientWriter": "qdrant_client_store",
}  # fmt: skip

__all__ = [
    "EdgeStore", "EdgeWriter", "QdrantClientStore", "QdrantClientWriter", "StoreBusyError", "VectorStore",
    "VectorWriter", "open_store", "store_writer",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # The installed name, whatever this package was imported as: one class object per name.
    return getattr(importlib.import_module(f"convergenze.index.store.{_WHERE[name]}"), name)
