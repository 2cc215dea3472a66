"""The HTTP API: FastAPI over the shared services. ``create_app()`` builds them from the settings when the
application starts (or takes ready ones, as tests and benchmarks do).

Around the routes: the body limit (``inputs.BodyLimit``), CORS only for the origins configured, the caller's
key and role (``security``), rate limits and model slots (``limits``), and 422s that do not echo the input."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool

from convergenze import __version__
from convergenze.core.errors import ConvergenzeError
from convergenze.core.settings import Settings
from convergenze.corpora.registry import SOURCES_FILE
from convergenze.services.wiring import Services
from convergenze.services.workers import bound_allocator

from . import web
from .errors import named_error_handler, validation_error_handler
from .inputs import BodyLimit
from .limits import ModelSlots, RateLimits
from .openapi import complete_openapi
from .routes import actors, documents, extract, health, match, missions_map, overlaps, search, taxonomy
from .routes import alerts as alert_routes
from .routes import history as history_routes
from .security import AUTH_RESPONSES, public_read

PUBLIC = (search, match, extract, overlaps, actors, missions_map, documents, history_routes, taxonomy)


def create_app(services: Services | None = None) -> FastAPI:
    settings = services.settings if services is not None else Settings.load()
    security = settings.security
    # Before the server starts its threads: each would otherwise keep an allocator arena at its peak size.
    bound_allocator(max(2, settings.embedding.cores))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ready = services or Services(settings)
        # Loading the model and the taxonomy's prototypes takes seconds: the first request should not pay them.
        await run_in_threadpool(ready.warm_up)
        app.state.services = ready
        app.state.rate_limits = RateLimits(security)
        app.state.model_slots = ModelSlots(security.max_concurrent, security.queue_wait)
        # Which document each stored passage belongs to, read in the background while the server answers: a
        # search or match then reads it for none of the passages it ranks (see VectorStore.remember_documents).
        stop = threading.Event()
        remembering = threading.Thread(target=ready.store.remember_documents, args=(stop,),
                                       name="remember-documents", daemon=True)
        remembering.start()
        try:
            yield
        finally:
            stop.set()
            remembering.join(timeout=10)
            ready.close()

    # FastAPI's /docs and /redoc load their scripts from a CDN, which fails offline and on many users' networks:
    # fastapi-offline serves the same Swagger UI and ReDoc files from the package.
    app = FastAPIOffline(
        title="Convergenze",
        version=__version__,
        description="Semantic search over Italian and EU funding calls, PNRR measures and funded projects.",
        lifespan=lifespan,
    )
    app.add_exception_handler(ConvergenzeError, named_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.include_router(health.router)
    for module in PUBLIC:
        app.include_router(module.router, dependencies=[Depends(public_read)], responses=AUTH_RESPONSES)
    app.include_router(alert_routes.router)
    web.install(app, reports_dir=settings.data.reports_dir, sources_file=settings.fetch.sources_file or SOURCES_FILE,
                csrf_secret=settings.web.csrf_secret)
    if security.origins:  # closed by default: no CORS headers, so browsers keep other sites' pages out
        app.add_middleware(
            CORSMiddleware, allow_origins=security.origins, allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"], max_age=600,
        )
    app.add_middleware(BodyLimit, max_json_bytes=settings.api.max_json_bytes,
                       max_upload_bytes=settings.api.max_upload_bytes)
    complete_openapi(app)
    return app
