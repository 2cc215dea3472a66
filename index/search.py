"""Search and match over the store: one query in, one ranked hit per document out, across languages.

Every caller goes through ``SearchService.retrieve`` (search, match, alerts) or ``SearchService.similar``
(overlaps, where scores must stay cosines), so that all of them cross from Italian to English and back in the
same way (see ``crosslingual``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from convergenze.core.embedding import Embedder
from convergenze.core.errors import InvalidInput
from convergenze.core.generations import PerGeneration
from convergenze.core.records import Hit, SearchFilters
from convergenze.core.vocabulary import SearchMode
from convergenze.extractors.language import detect_language

from .crosslingual import LEG_LANGUAGES, Glossary, expanded_query
from .sparse import Bm25SparseEncoder
from .store.base import VectorStore


@dataclass(frozen=True, slots=True)
class CrossLingual:
    """How a search crosses languages (measured by benchmarks/crosslingual.py on its development split).

    ``languages``: the legs each retriever runs on (empty: one list over everything, as before).
    ``expansion_weight``: weight of the glossary's translations in the BM25 query (0: no expansion).
    ``cosine_gap``: what a passage in another language than the query's loses in cosine to an equally relevant
    one in the query's language; ``similar`` adds it back before comparing cosines across languages. Measured on
    the development split (the two wordings of a need against its document's opening): 0.014 for an Italian
    query on an EU topic, 0.055 for an English query on an Italian document, 0.033 over both; the
    benchmark prints it again on the best passages of the full index.
    """

    languages: tuple[str, ...] = LEG_LANGUAGES
    expansion_weight: float = 1.0
    cosine_gap: float = 0.03

    def __post_init__(self) -> None:
        if self.expansion_weight < 0 or self.cosine_gap < 0:
            raise ValueError("expansion_weight and cosine_gap cannot be negative.")


MONOLINGUAL = CrossLingual(languages=(), expansion_weight=0.0, cosine_gap=0.0)


# Query vectors kept (1.5 KB each): a results page asked again with another facet, page or order, or exported,
# embeds nothing, and a re-asked search costs what the BM25 route costs.
QUERY_VECTORS_KEPT = 1024


def _one_embedder() -> None:
    """The kept query vectors' version: a service has one embedder, and a text's vector under it never changes."""
    return None


class SearchService:
    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        sparse: Bm25SparseEncoder,
        glossary: Glossary | None = None,
        crosslingual: CrossLingual = CrossLingual(),
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.crosslingual = crosslingual
        if glossary is not None:
            self.glossary = glossary
        self._query_vectors: PerGeneration[str, np.ndarray] = PerGeneration(_one_embedder, QUERY_VECTORS_KEPT)

    @cached_property
    def glossary(self) -> Glossary:
        """The default glossary, read on first use (a second of lemmatizing; most searches need it)."""
        return Glossary.load(self.sparse)

    def search(
        self, query: str, filters: SearchFilters | None = None, limit: int = 10,
        mode: SearchMode = SearchMode.HYBRID,
    ) -> list[Hit]:
        """Short keyword-like queries ("digitalizzazione PMI Lazio")."""
        return self.retrieve(query, filters or SearchFilters(), limit, mode)

    def match(
        self, description: str, filters: SearchFilters | None = None, limit: int = 10,
        mode: SearchMode = SearchMode.HYBRID,
    ) -> list[Hit]:
        """A project description of a paragraph or more, ranked against calls and measures."""
        return self.retrieve(description, filters or SearchFilters(), limit, mode)

    def embed(self, text: str) -> np.ndarray:
        """``text`` as a query vector: callers that compare it with hits afterwards embed it once. The last
        ``QUERY_VECTORS_KEPT`` texts' vectors are kept (a text's vector never changes under one embedder)."""
        return self._query_vectors.get(text, lambda: self.embedder.embed_queries([text])[0]).copy()

    def known_vector(self, text: str) -> np.ndarray | None:
        """``text``'s query vector if it is kept, without any model work (None otherwise)."""
        vector = self._query_vectors.peek(text)
        return None if vector is None else vector.copy()

    def retrieve(
        self, text: str, filters: SearchFilters, limit: int, mode: SearchMode, vector: np.ndarray | None = None
    ) -> list[Hit]:
        """The ranked documents for ``text``: each retriever once per language leg, fused (unless ``filters``
        asks for one language), the BM25 query with the glossary's translations. ``vector``: ``text`` already
        embedded (``embed``)."""
        self._check(text, mode, limit)
        dense = None
        if mode != SearchMode.SPARSE:
            dense = (vector if vector is not None else self.embed(text)).tolist()
        sparse = None
        if mode != SearchMode.DENSE:
            sparse = expanded_query(self.sparse, self.glossary if self.crosslingual.expansion_weight else None,
                                    text, self.crosslingual.expansion_weight)
        languages = () if filters.language else self.crosslingual.languages
        return self.store.search(dense, sparse, filters, limit, mode=mode, languages=languages)

    def similar(self, text: str, filters: SearchFilters, limit: int, vector: np.ndarray | None = None) -> list[Hit]:
        """Nearest documents by cosine, in every language: the best of each language leg, with the cosine gap
        added to passages in another language than ``text``'s, so that one threshold serves both. Scores stay
        cosines (calibrated), which thresholds (overlaps, alerts) need."""
        self._check(text, SearchMode.DENSE, limit)
        dense = (vector if vector is not None else self.embed(text)).tolist()
        languages = () if filters.language else self.crosslingual.languages
        own = detect_language(text)
        gap = self.crosslingual.cosine_gap if own else 0.0
        best: dict[str, Hit] = {}
        for hits in self.store.search_per_language(dense, filters, limit, languages):
            for hit in hits:
                score = hit.score + (gap if hit.payload.get("language") != own else 0.0)
                if hit.document_id not in best or score > best[hit.document_id].score:
                    best[hit.document_id] = replace(hit, score=score)
        return sorted(best.values(), key=lambda h: (-h.score, h.document_id))[:limit]

    @staticmethod
    def _check(text: str, mode: SearchMode, limit: int) -> None:
        if not text.strip():
            raise InvalidInput("The query is empty: give a few words or a project description.")
        SearchMode(mode)  # an unknown mode is refused here, before any work
        if limit < 1:
            raise ValueError("limit must be at least 1.")
