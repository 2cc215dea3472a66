"""The web application for funding officers and foundations: server-rendered pages (Jinja2, a little htmx)
over the same services and response builders as the JSON API, served by the same process.

``install(app, ...)`` mounts the pages, the static files (every asset is served by the app itself), the
browser-safety headers for the whole app and CSRF protection for the pages' forms.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope, Send

from . import messages
from .i18n import Catalogue
from .pages import PAGES, alerts
from .security import HEADERS, CsrfProtection, SecurityHeaders
from .session import KeySession, page_reader
from .templating import STATIC_DIR, Web, build_templates, render, translate

# Paths whose errors stay JSON (the API and its docs); every other path is a page and answers with one.
API_PREFIXES = ("/v1/", "/health", "/openapi.json", "/docs", "/redoc", "/static/")
# Forms that change state: their token is checked even when the browser sent no cookie. Exempt: the JSON API
# (no cookie credentials) and the forms that only read (see security.py).
STATEFUL_PREFIXES = ("/alerts",)
SERVER_ERROR_PAGE = """<!doctype html>
<html lang="it"><head><meta charset="utf-8"><title>Errore interno · Convergenze</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><main id="main"><h1>Qualcosa non va</h1>
<p>Si è verificato un errore interno: riprova tra poco e, se si ripete, segnalalo all'amministratore.</p>
<p lang="en">An internal error occurred: try again shortly and, if it happens again, tell the administrator.</p>
<p><a href="/">Torna alla pagina iniziale</a></p></main></body></html>
"""
CSRF_EXEMPT = ("/v1/", "/match", "/overlaps")


def install(app: FastAPI, *, reports_dir: Path, sources_file: Path, csrf_secret: str | None) -> None:
    catalogue = Catalogue.load()
    # Unset, a secret per process: sessions and forms opened before a restart must be opened again.
    session = KeySession(csrf_secret or secrets.token_urlsafe(32))
    app.state.web = Web(build_templates(catalogue), catalogue, reports_dir, sources_file, session)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in PAGES:
        guard = [] if module is alerts else [Depends(page_reader)]
        app.include_router(module.router, include_in_schema=False, dependencies=guard)

    async def page_error(request: Request, error: Exception) -> Response:
        if not isinstance(error, StarletteHTTPException) or request.url.path.startswith(API_PREFIXES):
            return await http_exception_handler(request, error)  # type: ignore[arg-type]
        message = messages.NOT_FOUND if error.status_code == 404 else messages.from_error(error)
        return render(request, "error.html", {"message": translate(request, message)}, error.status_code)

    async def csrf_failed(scope: Scope, send: Send, _reason: object) -> None:
        request = Request(scope)
        response = render(request, "error.html", {"message": translate(request, messages.CSRF_FAILED)}, 403)

        async def no_body() -> dict[str, object]:
            return {"type": "http.disconnect"}

        await response(scope, no_body, send)

    async def server_error(request: Request, _error: Exception) -> Response:
        # Starlette answers a crash from outside every middleware: the safety headers are set here. The page is
        # fixed text, since the templates may be what failed; the traceback goes to the server's log.
        if request.url.path.startswith(API_PREFIXES):
            return JSONResponse({"detail": "Internal server error."}, status_code=500, headers=HEADERS)
        return HTMLResponse(SERVER_ERROR_PAGE, status_code=500, headers=HEADERS)

    app.add_exception_handler(StarletteHTTPException, page_error)
    app.add_exception_handler(500, server_error)
    app.add_middleware(CsrfProtection, secret=csrf_secret, on_failure=csrf_failed, protect=STATEFUL_PREFIXES,
                       exempt=CSRF_EXEMPT)
    app.add_middleware(SecurityHeaders)
