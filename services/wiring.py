"""The one place where the services are built from the settings, for the API, the web pages and the CLI.

Each part opens on first use, so a command pays only for what it needs: ``convergenze actors`` reads the
catalog and never loads the model, ``convergenze search`` never builds the mission classifier. For the same
reason the modules behind each part are imported when the part is first built (spaCy, the model runtime and
Qdrant take seconds to import). The API warms every part up before it answers (``Services.warm_up``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from convergenze.core.settings import Settings
from convergenze.corpora.state import StateStore
from convergenze.extractors.gazetteer import Gazetteer, default_gazetteer
from convergenze.matching.catalog import Catalog
from convergenze.matching.catalog_build import CatalogBuilder

if TYPE_CHECKING:
    from convergenze.core.embedding import Embedder
    from convergenze.extractors.taxonomy import Taxonomy
    from convergenze.index.search import SearchService
    from convergenze.index.store.base import VectorStore
    from convergenze.matching.service import ConvergenceService


@dataclass(frozen=True, slots=True)
class IndexStats:
    documents: int
    points: int
    by_type: dict[str, int]
    by_source: dict[str, int]
    last_ingestion: dict[str, Any] | None  # the last ingestion report (pipelines/report.py), as saved


class Services:
    """The store (a reader), the model, search, convergence, the catalog, the gazetteer, the taxonomy and the
    ingestion state, all from one ``Settings``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def backend(self) -> str:
        return "qdrant-server" if self.settings.qdrant.url else "qdrant-edge"

    @cached_property
    def store(self) -> VectorStore:
        from convergenze.index.store.factory import open_store

        return open_store(self.settings.qdrant, self.settings.data, write=False)

    @cached_property
    def embedder(self) -> Embedder:
        from convergenze.index.embeddings import create_embedder

        return create_embedder(self.settings.embedding, self.settings.data)

    @cached_property
    def search(self) -> SearchService:
        from convergenze.index.search import SearchService
        from convergenze.index.sparse import Bm25SparseEncoder

        return SearchService(self.store, self.embedder, Bm25SparseEncoder())

    @cached_property
    def catalog(self) -> Catalog:
        return Catalog(self.settings.data.catalog_path)

    @cached_property
    def gazetteer(self) -> Gazetteer:
        return default_gazetteer()

    @cached_property
    def taxonomy(self) -> Taxonomy:
        from convergenze.extractors.taxonomy import Taxonomy

        return Taxonomy.load()

    @cached_property
    def state(self) -> StateStore:
        """Notice versions, change events and alerts (``data/state/state.sqlite``)."""
        return StateStore(self.settings.data.state_dir / "state.sqlite")

    @cached_property
    def convergence(self) -> ConvergenceService:
        from convergenze.extractors.missions import MissionClassifier
        from convergenze.matching.explain import Explainer
        from convergenze.matching.service import ConvergenceService

        classifier = MissionClassifier.from_settings(self.embedder, self.settings.data)
        explainer = Explainer(self.embedder, self.store, classifier)
        return ConvergenceService(self.search, self.catalog, explainer, self.gazetteer)

    def stats(self) -> IndexStats:
        latest = self.settings.data.reports_dir / "latest.json"
        return IndexStats(
            documents=self.store.count_documents(),
            points=self.store.count_points(),
            by_type=self.store.facet("type", None),
            by_source=self.store.facet("source", None),
            last_ingestion=json.loads(latest.read_text(encoding="utf-8")) if latest.exists() else None,
        )

    def warm_up(self) -> None:
        """Open every part before the first request, and build the catalog of an index that predates it."""
        if not self.catalog.path.is_file() and self.store.count_points():
            CatalogBuilder(self.catalog.path).run(self.store)
        self.convergence.warm_up()

    def close(self) -> None:
        if "store" in self.__dict__:  # only what was opened
            self.store.close()


@contextmanager
def open_services(settings: Settings) -> Iterator[Services]:
    """``Services`` for the length of a command; the store is closed at the end."""
    services = Services(settings)
    try:
        yield services
    finally:
        services.close()
