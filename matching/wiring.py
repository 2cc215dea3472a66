"""Settings-driven construction of the convergence service (one place, shared by the API and the CLI)."""

from __future__ import annotations

from convergenze.core.settings import DataSettings, EmbeddingSettings, QdrantSettings
from convergenze.extractors.gazetteer import default_gazetteer
from convergenze.extractors.missions import MissionClassifier
from convergenze.index.search import SearchService

from .catalog import Catalog
from .explain import Explainer
from .service import ConvergenceService


def open_search(data: DataSettings) -> SearchService:
    from convergenze.index.embeddings import create_embedder
    from convergenze.index.sparse import Bm25SparseEncoder
    from convergenze.index.store.factory import open_store

    store = open_store(QdrantSettings(), data, write=False)
    return SearchService(store, create_embedder(EmbeddingSettings(), data), Bm25SparseEncoder())


def open_convergence(search: SearchService | None = None, data: DataSettings | None = None) -> ConvergenceService:
    """A ``ConvergenceService`` over ``search`` (opened from the settings when None) and the data dir's catalog."""
    data = data or DataSettings()
    search = search or open_search(data)
    classifier = MissionClassifier.from_settings(search.embedder, data)
    explainer = Explainer(search.embedder, search.store, classifier)
    return ConvergenceService(search, Catalog(data.catalog_path), explainer, default_gazetteer())
