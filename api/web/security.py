"""Browser safety for the whole app: a strict Content-Security-Policy and friends on every response, and CSRF
tokens on the pages' forms.

CSRF uses asgi-csrf: a signed ``csrftoken`` cookie that a form's hidden ``csrftoken`` field or an
``x-csrftoken`` header must match, so forms work without JavaScript. Left out: the JSON API (``/v1``), which
never takes a cookie as a credential (and a browser cannot send it JSON or a DELETE from another site without a
CORS preflight, which the app does not allow), and the forms that change nothing (match, overlaps: they only
read). Those are also the only multipart forms, which asgi-csrf 0.11 cannot parse with python-multipart 0.0.2x
and later (it passes the removed ``FileClass`` argument).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgi_csrf import asgi_csrf
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style anywhere (htmx runs with its eval and injected styles switched off), every asset
# from the app itself, no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
# FastAPI's interactive docs for developers (Swagger UI, ReDoc; their files served by the app) start with an
# inline script and inject styles: they get a policy that allows those, from the app only. Nothing a funding
# officer opens is exempt from the strict one.
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Adds ``HEADERS`` to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"] in DOCS_PATHS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, DOCS_CSP if docs and name == "content-security-policy" else value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _Prefixes:
    """``path in _Prefixes(...)``: asgi-csrf's ``always_protect`` takes a container of paths; forms that change
    state are checked even when the browser sent no cookie at all."""

    def __init__(self, *prefixes: str) -> None:
        self.prefixes = prefixes

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and path.startswith(self.prefixes)


CsrfFailed = Callable[[Scope, Send, Any], Awaitable[None]]


class CsrfProtection:
    """asgi-csrf as a Starlette middleware class (so ``create_app`` still returns the FastAPI app)."""

    def __init__(self, app: ASGIApp, secret: str | None, on_failure: CsrfFailed, protect: tuple[str, ...],
                 exempt: tuple[str, ...]) -> None:
        self.app = asgi_csrf(
            app,
            signing_secret=secret,
            cookie_samesite="Lax",
            always_protect=_Prefixes(*protect),
            skip_if_scope=lambda scope: scope["path"].startswith(exempt),
            send_csrf_failed=on_failure,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
