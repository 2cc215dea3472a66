"""``/status``: the sources, the last ingestion with every skipped item and its reason, what the index holds
and which backend serves it."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from convergenze.corpora.registry import load_sources

from ...deps import ServicesDep
from ..templating import render, web_of

router = APIRouter()


def _report(request: Request) -> dict[str, Any] | None:
    latest = web_of(request).reports_dir / "latest.json"
    if not latest.is_file():
        return None
    try:
        report: dict[str, Any] = json.loads(latest.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return report


@router.get("/status", response_class=HTMLResponse)
async def status_page(request: Request, services: ServicesDep) -> HTMLResponse:
    store = services.store
    documents, points = await run_in_threadpool(lambda: (store.count_documents(), store.count_points()))
    by_type = await run_in_threadpool(store.facet, "type", None)
    by_source = await run_in_threadpool(store.facet, "source", None)
    report = _report(request)
    return render(request, "status.html", {
        "sources": load_sources(web_of(request).sources_file),
        "report": report,
        "reports": {s["source"]: s for s in (report or {}).get("sources", [])},
        "documents": documents,
        "points": points,
        "by_type": by_type,
        "by_source": by_source,
        "backend": services.backend,
    })
