"""``/actors``: who works on a mission in a territory (issuers and implementers, most money first), and one
page per actor with its projects, amounts and regions: ``list_actors`` of the catalog, as ``GET /v1/actors``."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from convergenze.core.errors import ConvergenzeError
from convergenze.core.vocabulary import ActorType, MissionFramework
from convergenze.matching.catalog import Actor, CatalogMissing
from convergenze.matching.directory import ActorQuery, list_actors
from convergenze.services.wiring import Services

from ...deps import ServicesDep
from ...inputs import canonical_mission, canonical_region
from .. import forms, messages
from ..i18n import language
from ..templating import render, translate

router = APIRouter()
PER_PAGE = 20
DOCUMENTS_PER_ACTOR = 100


class ActorsPage(BaseModel):
    mission: str | None = Field(default=None, max_length=40)
    region: str | None = Field(default=None, max_length=60)
    type: ActorType | None = None
    page: int = Field(default=1, ge=1, le=500)
    sort: Literal["amount"] = "amount"


def _missions(services: Services, lang: str) -> list[tuple[str, str]]:
    """(code, label) of the Convergenze missions and the PNRR missions: the choices of the mission field."""
    tax, own = services.taxonomy, MissionFramework.CONVERGENZE
    return [(e.code, tax.label(f, e.code, lang) if f == own else f"{e.code} · {tax.label(f, e.code, lang)}")
            for f in (own, MissionFramework.PNRR) for e in tax.entries(f) if f == own or len(e.code) == 2]


@router.get("/actors", response_class=HTMLResponse)
async def actors_page(request: Request, services: ServicesDep) -> HTMLResponse:
    params, error = forms.read_query(request, ActorsPage, lists=())
    found: list[Actor] = []
    total = 0
    try:
        query = ActorQuery(mission=canonical_mission(params.mission, services.taxonomy),
                           region=canonical_region(params.region, services.gazetteer), actor_type=params.type,
                           limit=PER_PAGE, offset=(params.page - 1) * PER_PAGE)
        found, total = await run_in_threadpool(list_actors, services.catalog, query)
    except (HTTPException, ConvergenzeError) as named:
        error = error or translate(request, messages.from_error(named))
    return render(request, "actors.html", {
        "params": params, "error": error, "actors": found, "total": total, "per_page": PER_PAGE,
        "missions": _missions(services, language(request)), "regions": forms.region_names(services),
    }, status_code=400 if error and not found else 200)


@router.get("/actors/{actor_id:path}", response_class=HTMLResponse)
async def actor_page(request: Request, services: ServicesDep, actor_id: str) -> HTMLResponse:
    query = ActorQuery(actor_id=actor_id[:200], limit=1)
    try:
        found, _ = await run_in_threadpool(list_actors, services.catalog, query, DOCUMENTS_PER_ACTOR)
    except CatalogMissing:
        return render(request, "error.html", {"message": translate(request, messages.CATALOG_MISSING)}, 503)
    if not found:
        return render(request, "error.html", {"message": translate(request, messages.ACTOR_NOT_FOUND)}, 404)
    return render(request, "actor.html", {"actor": found[0]})
