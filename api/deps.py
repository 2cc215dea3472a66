"""Dependencies: the services the routes need, built once per application (``create_app``), injected per
request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from convergenze.services.wiring import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
