"""``/places``: municipality suggestions from the gazetteer, as ``<option>``s for a ``<datalist>`` (htmx fills it
while a person types; without JavaScript the field is plain text and the server checks it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from convergenze.extractors.gazetteer import normalize

from ...deps import ServicesDep
from ..templating import render

router = APIRouter()
SUGGESTIONS = 12


@router.get("/places", response_class=HTMLResponse)
def places(request: Request, services: ServicesDep,
           municipality: Annotated[str, Query(max_length=80)] = "") -> HTMLResponse:
    typed = normalize(municipality)
    names: list[str] = []
    if len(typed) >= 2:
        towns = services.gazetteer.entries("municipality")
        starts = sorted(e.name for e in towns if normalize(e.name).startswith(typed))
        inside = sorted(e.name for e in towns if typed in normalize(e.name) and e.name not in starts)
        names = (starts + inside)[:SUGGESTIONS]
    return render(request, "_options.html", {"names": names})
