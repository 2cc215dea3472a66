"""The web application for funding officers and foundations: server-rendered pages (Jinja2, a little htmx)
over the same services and response builders as the JSON API, served by the same process.

``install(app, ...)`` mounts the pages, the static files (every asset is served by the app itself), the
browser-safety headers for the whole app and CSRF protection for the pages' forms.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope, Send

from . import messages
from .i18n import Catalogue
from .pages import PAGES
from .security import CsrfProtection, SecurityHeaders
from .templating import STATIC_DIR, Web, build_templates, render, translate

# Paths whose errors stay JSON (the API and its docs); every other path is a page and answers with one.
API_PREFIXES = ("/v1/", "/health", "/openapi.json", "/docs", "/redoc", "/static/")
# Forms that change state: their token is checked even when the browser sent no cookie. Exempt: the JSON API
# (no cookie credentials) and the forms that only read (see security.py).
STATEFUL_PREFIXES = ("/alerts",)
CSRF_EXEMPT = ("/v1/", "/match", "/overlaps")


def install(app: FastAPI, *, reports_dir: Path, sources_file: Path, csrf_secret: str | None) -> None:
    catalogue = Catalogue.load()
    app.state.web = Web(build_templates(catalogue), catalogue, reports_dir, sources_file)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in PAGES:
        app.include_router(module.router, include_in_schema=False)

    async def page_error(request: Request, error: Exception) -> Response:
        if not isinstance(error, StarletteHTTPException) or request.url.path.startswith(API_PREFIXES):
            return await http_exception_handler(request, error)  # type: ignore[arg-type]
        message = messages.NOT_FOUND if error.status_code == 404 else str(error.detail)
        return render(request, "error.html", {"message": translate(request, message)}, error.status_code)

    async def csrf_failed(scope: Scope, send: Send, _reason: object) -> None:
        request = Request(scope)
        response = render(request, "error.html", {"message": translate(request, messages.CSRF_FAILED)}, 403)

        async def no_body() -> dict[str, object]:
            return {"type": "http.disconnect"}

        await response(scope, no_body, send)

    app.add_exception_handler(StarletteHTTPException, page_error)
    app.add_middleware(CsrfProtection, secret=csrf_secret, on_failure=csrf_failed, protect=STATEFUL_PREFIXES,
                       exempt=CSRF_EXEMPT)
    app.add_middleware(SecurityHeaders)
