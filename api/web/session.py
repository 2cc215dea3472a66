"""Who is signed in on the pages: the alerts are private (each belongs to the API key that made it), so the
alerts page asks for a key once and keeps, in a signed cookie, the key's id, never the key itself. Every request
looks the id up again, so a revoked key signs its sessions out at once.

The cookie is ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no other site's page sends it) and
``Secure`` over HTTPS; it lasts a working day. It is signed with ``CONVERGENZE_CSRF_SECRET`` (or a secret made
per process, as the CSRF tokens are), with itsdangerous: the signing asgi-csrf already relies on.
"""

from __future__ import annotations

from fastapi import HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from convergenze.core.vocabulary import Role

from ..deps import get_services
from ..security import Caller
from . import messages

COOKIE = "convergenze_session"
MAX_AGE = 10 * 3600  # a working day


class KeySession:
    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="convergenze.web.session")

    def caller(self, request: Request) -> Caller:
        """The signed-in key's holder, or an anonymous caller (no cookie, a bad or old one, a revoked key)."""
        address = request.client.host if request.client else None
        value = request.cookies.get(COOKIE)
        if not value:
            return Caller(None, address)
        try:
            key_id = self._serializer.loads(value, max_age=MAX_AGE)
        except BadSignature:
            return Caller(None, address)
        key = get_services(request).access.get(key_id) if isinstance(key_id, str) else None
        return Caller(key, address)

    def sign_in(self, response: Response, request: Request, key_id: str) -> None:
        response.set_cookie(COOKIE, self._serializer.dumps(key_id), max_age=MAX_AGE, httponly=True,
                            samesite="strict", secure=request.url.scheme == "https", path="/")

    @staticmethod
    def sign_out(response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def page_reader(request: Request) -> None:
    """The pages' guard: with ``CONVERGENZE_PUBLIC_READ`` off, as the API asks a reader's key, the pages ask for
    a signed-in one (the alerts page, where one signs in, is not guarded)."""
    if get_services(request).settings.security.public_read:
        return
    session: KeySession = request.app.state.web.session
    if not session.caller(request).may(Role.READER):
        raise HTTPException(status_code=401, detail=messages.SIGN_IN_TO_READ)
