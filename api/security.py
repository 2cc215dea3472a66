"""Who is calling, and what they may do: one dependency resolves the caller (anonymous, or an API key with its
role) from ``Authorization: Bearer <key>`` or ``X-API-Key``; ``require(role)`` and ``public_read`` guard routes.

Web pages use the same rule: ``caller_for_key`` takes the key from wherever the page keeps it (a signed session
cookie) and returns the same ``Caller``. Messages are fixed, and say nothing about which keys exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from convergenze.core.vocabulary import Role
from convergenze.services.access import ApiKey
from convergenze.services.wiring import Services

from .deps import ServicesDep
from .errors import BAD_KEY, KEY_NEEDED, ROLE_NEEDED
from .models import ErrorOut

AUTH_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut, "description": "No API key, or one that is unknown or revoked."},
    403: {"model": ErrorOut, "description": "The key's role does not allow this."},
}


@dataclass(frozen=True, slots=True)
class Caller:
    """An anonymous caller (``key`` None) or an API key's holder, and the address the request came from."""

    key: ApiKey | None
    address: str | None = None

    @property
    def role(self) -> Role | None:
        return None if self.key is None else self.key.role

    @property
    def id(self) -> str:
        """Who, in the audit log and as an alert's owner: the key's id, or ``anonymous``."""
        return "anonymous" if self.key is None else self.key.id

    @property
    def is_admin(self) -> bool:
        return self.key is not None and self.key.role is Role.ADMIN

    def may(self, role: Role) -> bool:
        return self.key is not None and self.key.role.includes(role)


def presented_key(request: Request) -> str | None:
    """The key a request carries: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("x-api-key", "").strip() or None


def caller_for_key(services: Services, key: str | None, address: str | None) -> Caller:
    """The caller a key makes; an unknown or revoked key is a 401 (never silently anonymous)."""
    if key is None:
        return Caller(None, address)
    found = services.access.verify(key)
    if found is None:
        raise HTTPException(status_code=401, detail=BAD_KEY, headers={"WWW-Authenticate": "Bearer"})
    return Caller(found, address)


def get_caller(request: Request, services: ServicesDep) -> Caller:
    cached: Caller | None = getattr(request.state, "caller", None)
    if cached is None:
        cached = caller_for_key(services, presented_key(request), request.client.host if request.client else None)
        request.state.caller = cached  # the rate limiter and the audit log read it too
    return cached


CallerDep = Annotated[Caller, Depends(get_caller)]


def require(role: Role) -> Callable[[Caller], Caller]:
    """A dependency: the caller, when its key has ``role`` or more; else 401 (no key) or 403."""

    def check(caller: CallerDep) -> Caller:
        if caller.key is None:
            raise HTTPException(status_code=401, detail=KEY_NEEDED, headers={"WWW-Authenticate": "Bearer"})
        if not caller.may(role):
            raise HTTPException(status_code=403, detail=ROLE_NEEDED.format(role=role.value))
        return caller

    return check


def public_read(caller: CallerDep, services: ServicesDep) -> Caller:
    """Public data: anyone while ``CONVERGENZE_PUBLIC_READ`` is on (the default), else a reader's key or more."""
    if services.settings.security.public_read:
        return caller
    return require(Role.READER)(caller)


PublicReader = Annotated[Caller, Depends(public_read)]
Editor = Annotated[Caller, Depends(require(Role.EDITOR))]
Admin = Annotated[Caller, Depends(require(Role.ADMIN))]


def audit(services: Services, caller: Caller, action: str, target: str, status: int) -> None:
    """One line of the audit log for a write that was done: who, what, on what, when (no bodies, no secrets)."""
    role = caller.role.value if caller.role else "anonymous"
    services.access.audit(caller.id, role, action, target, status, caller.address)
