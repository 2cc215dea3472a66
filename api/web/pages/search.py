"""``/search``: the search box, facets, result cards, sort, pages, and the current results as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from convergenze.core.records import Hit, SearchFilters
from convergenze.services.responses import HitList, HitOut
from convergenze.services.wiring import Services

from ...deps import ServicesDep
from ...limits import run_search
from .. import facets, forms, messages, views
from ..forms import SearchPage
from ..i18n import N_, language
from ..templating import render, translate

router = APIRouter()
PER_PAGE = 10
POOL = 100  # results a page can reach, and what sorting by deadline or budget orders
SORTS = (("relevance", N_("pertinenza")), ("deadline", N_("scadenza")), ("budget", N_("importo")))
EXPORT_COLUMNS = ("id", "type", "title", "status", "deadline", "budget", "issuer", "territory", "source", "url",
                  "score")


async def _ranked(services: Services, params: SearchPage, filters: SearchFilters) -> list[Hit]:
    """The hits for the page and its sort: relevance asks for the pages up to this one (page 1 is exactly what
    ``GET /v1/search?limit=10`` answers), the other orders sort the best ``POOL`` results."""
    limit = POOL if params.sort != "relevance" else min(POOL, params.page * PER_PAGE)
    hits = await run_search(services, params.q, filters, limit, params.mode)
    if params.sort == "deadline":  # soonest first, no deadline last
        hits.sort(key=lambda h: (h.payload.get("deadline") is None, str(h.payload.get("deadline") or "")))
    elif params.sort == "budget":  # largest first, no amount last
        hits.sort(key=lambda h: -(h.payload.get("budget") or -1.0))
    return hits


@router.get("/search", response_class=HTMLResponse)
async def search_page(request: Request, services: ServicesDep) -> HTMLResponse:
    params, error = forms.read_query(request, SearchPage)
    filters, filter_error = forms.filters_or_message(request, params, services)
    error = error or filter_error
    if "q" in request.query_params and not params.q.strip() and not error:
        error = translate(request, messages.QUERY_EMPTY)
    lang, today = language(request), date.today()
    hits: list[Hit] = []
    if params.q.strip() and not error:
        hits = await _ranked(services, params, filters)
    found = await run_in_threadpool(facets.collect, services.store, filters, params, services.taxonomy, lang, today)
    start = (params.page - 1) * PER_PAGE
    stems = views.query_stems(params.q)
    cards = [views.card(HitOut.from_hit(h), stems, services.taxonomy, lang, today)
             for h in hits[start: start + PER_PAGE]]
    return render(request, "search.html", {
        "params": params,
        "error": error,
        "facets": found,
        "cards": cards,
        "start": start,
        # relevance fetched exactly up to this page: a full page may have a next one
        "has_next": len(hits) > start + PER_PAGE or (
            params.sort == "relevance" and len(hits) == start + PER_PAGE < POOL),
        "searched": bool(params.q.strip()) and not error,
        "sorts": SORTS,
    }, status_code=400 if error else 200)


@router.get("/search.csv")
async def export_csv(request: Request, services: ServicesDep) -> Response:
    hits = await _export(request, services)
    if isinstance(hits, Response):
        return hits
    lang, buffer = language(request), io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for hit in hits:
        card = views.card(hit, (), services.taxonomy, lang, date.today())
        writer.writerow([hit.id, hit.type, hit.title, card.status, card.deadline or "", card.budget or "",
                         card.issuer or "", "; ".join(card.territory), hit.source, hit.url or "",
                         round(hit.score, 4)])
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="convergenze-ricerca.csv"'})


@router.get("/search.json")
async def export_json(request: Request, services: ServicesDep) -> Response:
    hits = await _export(request, services)
    if isinstance(hits, Response):
        return hits
    body = HitList(data=hits, count=len(hits)).model_dump(mode="json")
    return Response(json.dumps(body, ensure_ascii=False, indent=1), media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="convergenze-ricerca.json"'})


async def _export(request: Request, services: Services) -> list[HitOut] | Response:
    """The results as the page has them (relevance: every page up to the current one; other orders: the
    sorted best ``POOL``), or the message of a bad request."""
    params, error = forms.read_query(request, SearchPage)
    filters, filter_error = forms.filters_or_message(request, params, services)
    error = error or filter_error or (None if params.q.strip() else translate(request, messages.QUERY_EMPTY))
    if error:
        return Response(error, status_code=400, media_type="text/plain; charset=utf-8")
    hits: list[Any] = await _ranked(services, params, filters)
    return [HitOut.from_hit(h) for h in hits]
