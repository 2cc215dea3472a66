"""Dependencies: the services the routes need, opened once per application, injected per request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from convergenze.core.settings import ApiSettings
from convergenze.extractors.gazetteer import Gazetteer
from convergenze.extractors.taxonomy import Taxonomy
from convergenze.index.search import SearchService
from convergenze.index.store.base import VectorStore
from convergenze.matching.service import ConvergenceService


@dataclass(slots=True)
class Services:
    store: VectorStore
    search: SearchService
    settings: ApiSettings
    backend: str
    taxonomy: Taxonomy
    convergence: ConvergenceService

    @property
    def gazetteer(self) -> Gazetteer:
        return self.convergence.gazetteer


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
