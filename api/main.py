"""The HTTP API: FastAPI over the search services. ``create_app()`` opens the store and the model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from convergenze import __version__
from convergenze.core.settings import ApiSettings, DataSettings, FetchSettings, QdrantSettings, WebSettings
from convergenze.corpora.registry import SOURCES_FILE

from . import web
from .deps import Services
from .routes import actors, documents, health, match, missions_map, overlaps, search, taxonomy
from .routes import alerts as alert_routes
from .routes import history as history_routes


def open_services() -> Services:
    """The production wiring: settings-driven store (reader), embedder and convergence catalog."""
    from convergenze.extractors.taxonomy import Taxonomy
    from convergenze.matching.catalog import CatalogBuilder
    from convergenze.matching.wiring import open_convergence, open_search

    data, qdrant = DataSettings(), QdrantSettings()
    search = open_search(data)
    if not data.catalog_path.is_file() and search.store.count_points():
        CatalogBuilder(data.catalog_path).run(search.store)  # an index built before the catalog existed
    convergence = open_convergence(search, data)
    convergence.warm_up()
    return Services(
        store=search.store,
        search=search,
        settings=ApiSettings(),
        backend="qdrant-server" if qdrant.url else "qdrant-edge",
        taxonomy=Taxonomy.load(),
        convergence=convergence,
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
    for module in (health, search, match, overlaps, actors, missions_map, documents, history_routes, alert_routes,
                   taxonomy):
        app.include_router(module.router)
    web.install(app, reports_dir=DataSettings().reports_dir,
                sources_file=FetchSettings().sources_file or SOURCES_FILE, csrf_secret=WebSettings().csrf_secret)
    return app
