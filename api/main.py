"""The HTTP API: FastAPI over the shared services. ``create_app()`` builds them from the settings when the
application starts (or takes ready ones, as tests and benchmarks do)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from convergenze import __version__
from convergenze.core.errors import ConvergenzeError
from convergenze.core.settings import Settings
from convergenze.corpora.registry import SOURCES_FILE
from convergenze.services.wiring import Services

from . import web
from .errors import named_error_handler
from .routes import actors, documents, health, match, missions_map, overlaps, search, taxonomy
from .routes import alerts as alert_routes
from .routes import history as history_routes


def create_app(services: Services | None = None) -> FastAPI:
    settings = services.settings if services else Settings.load()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ready = services or Services(settings)
        # Loading the model and the taxonomy's prototypes takes seconds: the first request should not pay them.
        await run_in_threadpool(ready.warm_up)
        app.state.services = ready
        try:
            yield
        finally:
            ready.close()

    app = FastAPI(
        title="Convergenze",
        version=__version__,
        description="Semantic search over Italian and EU funding calls, PNRR measures and funded projects.",
        lifespan=lifespan,
    )
    app.add_exception_handler(ConvergenzeError, named_error_handler)
    for module in (health, search, match, overlaps, actors, missions_map, documents, history_routes, alert_routes,
                   taxonomy):
        app.include_router(module.router)
    web.install(app, reports_dir=settings.data.reports_dir, sources_file=settings.fetch.sources_file or SOURCES_FILE,
                csrf_secret=settings.web.csrf_secret)
    return app
