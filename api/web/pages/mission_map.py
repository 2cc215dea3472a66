"""``/map``: a choropleth of Italy's regions for one mission and one measure (funded amount, funded projects,
open calls, open budget, gaps), with the table beside it and its CSV: the catalog's mission map, as
``GET /v1/missions/map``, one row per mission x territory."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from convergenze.core.vocabulary import MissionFramework
from convergenze.matching.catalog import EUROPE, NATIONAL, UNSPECIFIED, CatalogMissing
from convergenze.services.wiring import Services

from ...deps import ServicesDep
from .. import choropleth, forms, messages
from ..i18n import N_, format_amount, format_number, language
from ..templating import render, translate

router = APIRouter()
Measure = Literal["funded_amount", "projects", "open_calls", "open_budget", "gaps"]
MEASURES = {
    "funded_amount": N_("Importo dei progetti finanziati"),
    "projects": N_("Progetti finanziati"),
    "open_calls": N_("Bandi aperti"),
    "open_budget": N_("Dotazione dei bandi aperti"),
    "gaps": N_("Lacune"),
}
GAPS = {
    "no_open_call": N_("nessun bando aperto"),
    "no_local_implementer": N_("nessun attuatore locale"),
}
COLUMNS = ("territory", "documents", "calls", "open_calls", "open_budget", "projects", "funded_amount", "gap")


class MapParams(BaseModel):
    framework: MissionFramework = MissionFramework.CONVERGENZE
    mission: str | None = Field(default=None, max_length=40)
    measure: Measure = "funded_amount"


@dataclass(slots=True)
class MapTable:
    missions: list[tuple[str, str]]  # (code, label) with data
    mission: str | None
    rows: list[dict[str, Any]]  # the regions, then Italy-wide, EU and unspecified


def table(services: Services, params: MapParams) -> MapTable:
    found = services.convergence.mission_map(params.framework, None)
    missions = sorted({(r.mission, r.label) for r in found.totals}, key=lambda m: m[1].casefold())
    weight: dict[str, float] = {}
    for cell in found.totals:  # the mission shown first: the one with most money and documents
        weight[cell.mission] = weight.get(cell.mission, 0.0) + cell.funded_amount + cell.documents
    codes = {code for code, _ in missions}
    chosen = next((code for code in codes if params.mission and code.casefold() == params.mission.casefold()),
                  max(weight, key=lambda c: weight[c]) if weight else None)
    gaps = {g.territory: g.kind for g in found.gaps if g.mission == chosen}
    rows = [{**dataclasses.asdict(r), "gap": gaps.get(r.territory)} for r in found.totals if r.mission == chosen]
    rows.sort(key=lambda r: (r["territory"] in (NATIONAL, EUROPE, UNSPECIFIED), r["territory"]))
    return MapTable(missions, chosen, rows)


def _value(row: dict[str, Any], measure: str) -> float:
    if measure == "gaps":
        return 1.0 if row["gap"] else 0.0
    return float(row.get(measure) or 0)


@router.get("/map", response_class=HTMLResponse)
async def map_page(request: Request, services: ServicesDep) -> HTMLResponse:
    params, error = forms.read_query(request, MapParams, lists=())
    lang = language(request)
    try:
        found = await run_in_threadpool(table, services, params)
    except CatalogMissing:
        return render(request, "error.html", {"message": translate(request, messages.CATALOG_MISSING)}, 503)
    codes = {e.name: e.istat_code for e in services.gazetteer.entries("region")}
    values: dict[str, float] = {}
    shown: dict[str, str] = {}
    for row in found.rows:
        code = codes.get(row["territory"])
        row["is_region"] = code is not None
        if code is None:
            continue
        values[code] = _value(row, params.measure)
        if params.measure == "gaps":
            shown[code] = translate(request, GAPS[row["gap"]]) if row["gap"] else "—"
        elif params.measure in ("funded_amount", "open_budget"):
            shown[code] = format_amount(values[code], lang)
        else:
            shown[code] = format_number(values[code], lang)
    label = dict(found.missions).get(found.mission or "", "")
    title = translate(request, MEASURES[params.measure]) + (f" · {label}" if label else "")
    svg = choropleth.render(values, shown, title, translate(request, N_("nessun dato")))
    classes, edges = choropleth.bins(values)
    money = params.measure in ("funded_amount", "open_budget")
    legend = _legend(request, edges, set(classes.values()),
                     lambda v: format_amount(v, lang) if money else format_number(v, lang))
    return render(request, "map.html", {
        "params": params, "error": error, "table": found, "svg": svg, "title": title,
        "measures": MEASURES, "gaps": GAPS, "legend": legend, "frameworks": services.taxonomy.frameworks,
    })


def _legend(request: Request, edges: list[float], used: set[int],
            show: Callable[[float], str]) -> list[tuple[int, str]]:
    """Each colour class that some region has, with the range of values it stands for (a bin holds the values
    above the edge before it, up to its own edge)."""
    out = []
    for i in sorted(used):
        if i == 0:
            text = translate(request, N_("fino a %(high)s"), high=show(edges[0])) if edges else ""
        elif i >= len(edges):
            text = translate(request, N_("oltre %(low)s"), low=show(edges[-1]))
        else:
            text = translate(request, N_("da %(low)s a %(high)s"), low=show(edges[i - 1]), high=show(edges[i]))
        out.append((i, text))
    return out


@router.get("/map.csv")
async def map_csv(request: Request, services: ServicesDep) -> Response:
    params, _ = forms.read_query(request, MapParams, lists=())
    try:
        found = await run_in_threadpool(table, services, params)
    except CatalogMissing:
        return Response(translate(request, messages.CATALOG_MISSING), status_code=503, media_type="text/plain")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=("mission", "label", *COLUMNS), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(found.rows)
    name = f"mappa-{params.framework}-{found.mission or 'nessuna'}.csv"
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
