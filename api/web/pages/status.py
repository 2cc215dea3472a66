"""``/status``: the sources, the last ingestion with every skipped item and its reason, what the index holds
and which backend serves it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from convergenze.corpora.registry import load_sources

from ...deps import ServicesDep
from ..templating import render, web_of

router = APIRouter()


@router.get("/status", response_class=HTMLResponse)
async def status_page(request: Request, services: ServicesDep) -> HTMLResponse:
    # Counts and facets are kept per index generation; the report is the running ingestion's while it goes on.
    stats = await run_in_threadpool(services.stats)
    report = stats.last_ingestion
    return render(request, "status.html", {
        "sources": load_sources(web_of(request).sources_file),
        "report": report,
        "progress": services.progress(),
        "reports": {s["source"]: s for s in (report or {}).get("sources", [])},
        "documents": stats.documents,
        "points": stats.points,
        "by_type": stats.by_type,
        "by_source": stats.by_source,
        "backend": services.backend,
    })
