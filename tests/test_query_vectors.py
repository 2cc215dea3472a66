"""A query asked again (another facet, page or order of the same results) is not embedded again, and gets the
same results; the kept vectors are bounded and cannot be changed by a caller."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from convergenze.core.embedding import DelegatingEmbedder, Embedder
from convergenze.core.records import Chunk, IndexedChunk, SearchFilters
from convergenze.core.settings import DataSettings, EmbeddingSettings
from convergenze.index import search as search_module
from convergenze.index.embeddings import create_embedder
from convergenze.index.search import SearchService
from convergenze.index.sparse import Bm25SparseEncoder
from convergenze.index.store import EdgeStore

TEXTS = {
    "call:solar": "Contributi ai comuni per impianti fotovoltaici sugli edifici scolastici.",
    "call:care": "Servizi di assistenza domiciliare per anziani non autosufficienti nelle aree interne.",
    "call:cloud": "Migrazione al cloud dei servizi digitali dei comuni.",
}


class QueryCounter(DelegatingEmbedder):
    def __init__(self, inner: Embedder) -> None:
        super().__init__(inner)
        self.queries: list[str] = []

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.queries += list(texts)
        return self.inner.embed_queries(texts)


@pytest.fixture(scope="module")
def service(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> SearchService:
    embedder = QueryCounter(create_embedder(EmbeddingSettings(), DataSettings(CONVERGENZE_MODELS=models_dir)))
    sparse = Bm25SparseEncoder()
    ids, texts = list(TEXTS), list(TEXTS.values())
    root = tmp_path_factory.mktemp("edge") / "edge"
    with EdgeStore.begin_write(root) as writer:
        writer.ensure_schema(embedder.dim)
        writer.upsert([
            IndexedChunk(Chunk(document_id, 0, text, language="it"), vector.tolist(), encoded,
                         {"content_hash": document_id, "type": "call", "source": "test", "title": text})
            for document_id, text, vector, encoded in zip(
                ids, texts, embedder.inner.embed_passages(texts), sparse.encode_documents(texts, ["it"] * 3),
                strict=True)
        ])
    return SearchService(EdgeStore.open_reader(root), embedder, sparse)


def test_a_query_asked_again_is_not_embedded_again(service: SearchService) -> None:
    counter = service.embedder
    assert isinstance(counter, QueryCounter)
    counter.queries.clear()
    query = "pannelli solari per le scuole"
    assert service.known_vector(query) is None
    first = service.search(query, SearchFilters(), limit=3)
    assert first[0].document_id == "call:solar"
    again = service.search(query, SearchFilters(types=("call",)), limit=2)
    assert counter.queries == [query]
    assert [h.document_id for h in again] == [h.document_id for h in first][:2]
    kept = service.known_vector(query)
    assert kept is not None and float(kept @ counter.inner.embed_queries([query])[0]) >= 0.9999
    kept[:] = 0.0  # a caller changing its copy changes nothing kept
    assert float(np.linalg.norm(service.embed(query))) == pytest.approx(1.0, abs=1e-4)


def test_the_kept_query_vectors_are_bounded(service: SearchService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_module, "QUERY_VECTORS_KEPT", 2)
    service = SearchService(service.store, service.embedder, service.sparse)  # the bound is read when it is made
    for query in ("anziani", "cloud", "scuole"):
        service.embed(query)
    assert service.known_vector("anziani") is None
    assert service.known_vector("cloud") is not None and service.known_vector("scuole") is not None
