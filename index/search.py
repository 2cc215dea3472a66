"""Search and match over the store: one query in, one ranked hit per document out."""

from __future__ import annotations

from convergenze.core.embedding import Embedder
from convergenze.core.errors import InvalidInput
from convergenze.core.records import Hit, SearchFilters
from convergenze.core.vocabulary import SearchMode

from .sparse import Bm25SparseEncoder
from .store.base import VectorStore


class SearchService:
    def __init__(self, store: VectorStore, embedder: Embedder, sparse: Bm25SparseEncoder) -> None:
        self.store = store
        self.embedder = embedder
        self.sparse = sparse

    def search(
        self, query: str, filters: SearchFilters | None = None, limit: int = 10,
        mode: SearchMode = SearchMode.HYBRID,
    ) -> list[Hit]:
        """Short keyword-like queries ("digitalizzazione PMI Lazio")."""
        return self._run(query, filters or SearchFilters(), limit, mode)

    def match(
        self, description: str, filters: SearchFilters | None = None, limit: int = 10,
        mode: SearchMode = SearchMode.HYBRID,
    ) -> list[Hit]:
        """A project description of a paragraph or more, ranked against calls and measures."""
        return self._run(description, filters or SearchFilters(), limit, mode)

    def _run(self, text: str, filters: SearchFilters, limit: int, mode: SearchMode) -> list[Hit]:
        if not text.strip():
            raise InvalidInput("The query is empty: give a few words or a project description.")
        mode = SearchMode(mode)
        if limit < 1:
            raise ValueError("limit must be at least 1.")
        dense = self.embedder.embed_queries([text])[0].tolist() if mode != SearchMode.SPARSE else None
        sparse = self.sparse.encode_query(text) if mode != SearchMode.DENSE else None
        return self.store.search(dense, sparse, filters, limit, mode=mode)
