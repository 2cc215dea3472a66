"""``/``: the page a funding officer opens every morning: the search box, the open calls closing soonest, and
the ways in (a project to match, a programme to compare)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from convergenze.core.records import SearchFilters

from ...deps import ServicesDep
from .. import views
from ..i18n import language
from ..templating import render

router = APIRouter()
CLOSING_SOON = 6


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, services: ServicesDep) -> HTMLResponse:
    today, lang = date.today(), language(request)
    calls = await run_in_threadpool(views.upcoming, services.store, SearchFilters(), today)
    counts = await run_in_threadpool(services.store.facet, "type", None)
    return render(request, "home.html", {
        "closing": [views.card(c, (), services.taxonomy, lang, today) for c in calls[:CLOSING_SOON]],
        "open_calls": len(calls),
        "counts": counts,
    })
