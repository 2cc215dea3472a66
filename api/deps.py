"""Dependencies: the services the routes need, built once per application (``create_app``), injected per
request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from convergenze.services.wiring import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def _services(request: Request) -> Services:
    """Async so that FastAPI calls it on the event loop: a plain function would take a turn in the server's
    thread pool on every request, ``/health`` included, behind whatever fills that pool under load."""
    return get_services(request)


ServicesDep = Annotated[Services, Depends(_services)]
