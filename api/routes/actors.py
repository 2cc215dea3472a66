from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from convergenze.core.vocabulary import ActorType
from convergenze.matching.directory import ActorQuery, list_actors
from convergenze.services.responses import ActorList, actors_out

from ..deps import ServicesDep
from ..inputs import canonical_mission, canonical_region
from ..models import ErrorOut

router = APIRouter(prefix="/v1", tags=["actors"])


@router.get("/actors", response_model=ActorList, responses={400: {"model": ErrorOut}, 503: {"model": ErrorOut}})
def actors(
    services: ServicesDep,
    mission: Annotated[str | None, Query(max_length=40, description="A mission code of any framework: "
                                         "climate, M2, M2C1, SDG7, PO2, cluster5...")] = None,
    region: Annotated[str | None, Query(max_length=60, examples=["Puglia"])] = None,
    type: ActorType | None = None,  # noqa: A002 - the public name
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ActorList:
    """Who works on a mission in a territory: issuing bodies and implementers of funded projects, normalized
    (case, legal form, tax code) and typed, with their projects and amounts, most money first."""
    query = ActorQuery(
        mission=canonical_mission(mission, services.taxonomy),
        region=canonical_region(region, services.gazetteer),
        actor_type=type,
        limit=limit,
        offset=offset,
    )
    found, total = list_actors(services.catalog, query)
    return actors_out(found, total, limit, offset)
