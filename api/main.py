"""The HTTP API: FastAPI over the search services. ``create_app()`` opens the store and the model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from convergenze import __version__
from convergenze.settings import ApiSettings, DataSettings, EmbeddingSettings, QdrantSettings

from .deps import Services
from .routes import alerts as alert_routes
from .routes import documents, health, match, search, taxonomy
from .routes import history as history_routes


def open_services() -> Services:
    """The production wiring: settings-driven store (reader) and embedder."""
    from extractors.taxonomy import Taxonomy
    from index.embeddings import create_embedder
    from index.search import SearchService
    from index.sparse import Bm25SparseEncoder
    from index.store.factory import open_store

    data, qdrant = DataSettings(), QdrantSettings()
    store = open_store(qdrant, data, write=False)
    embedder = create_embedder(EmbeddingSettings(), data)
    backend = "qdrant-server" if qdrant.url else "qdrant-edge"
    return Services(
        store=store,
        search=SearchService(store, embedder, Bm25SparseEncoder()),
        settings=ApiSettings(),
        backend=backend,
        taxonomy=Taxonomy.load(),
    )


def create_app(services: Services | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = services or open_services()
        try:
            yield
        finally:
            app.state.services.store.close()

    app = FastAPI(
        title="Convergenze",
        version=__version__,
        description="Semantic search over Italian and EU funding calls, PNRR measures and funded projects.",
        lifespan=lifespan,
    )
    for module in (health, search, match, documents, taxonomy):
        app.include_router(module.router)
    app.include_router(history_routes.router)
    app.include_router(alert_routes.router)
    return app
