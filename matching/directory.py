"""Who works on what, where: the actors directory and the mission map, both read from the catalog."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, TextIO

from convergenze.core.vocabulary import CallStatus, DocType

from .catalog import EUROPE, NATIONAL, UNSPECIFIED, Catalog


@dataclass(slots=True)
class ActorQuery:
    mission: str | None = None
    region: str | None = None
    actor_type: str | None = None
    limit: int = 20
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= 500:
            raise ValueError(f"limit must be between 1 and 500, got {self.limit}.")
        if self.offset < 0:
            raise ValueError(f"offset must not be negative, got {self.offset}.")


def _scope(query: ActorQuery) -> tuple[str, dict[str, Any]]:
    """SQL conditions on a role row ``r`` and actor ``a`` for the query's mission, region and type."""
    where, params = ["1 = 1"], {}
    if query.actor_type:
        where.append("a.type = :type")
        params["type"] = query.actor_type
    if query.mission:
        where.append("r.document_id IN (SELECT document_id FROM missions WHERE lower(code) = lower(:mission))")
        params["mission"] = query.mission
    if query.region:
        where.append("r.document_id IN (SELECT document_id FROM territories WHERE territory = :region)")
        params["region"] = query.region
    return " AND ".join(where), params


def list_actors(catalog: Catalog, query: ActorQuery, projects_per_actor: int = 5) -> tuple[list[dict], int]:
    """Actors with documents on ``query.mission`` in ``query.region``, most money first, and their projects."""
    where, params = _scope(query)
    total = catalog.query(
        f"SELECT COUNT(DISTINCT a.id) AS n FROM actors a JOIN roles r ON r.actor_id = a.id WHERE {where}", params
    )[0]["n"]
    rows = catalog.query(
        "SELECT a.id, a.name, a.type, a.type_basis, a.tax_code, a.names, "
        "COUNT(DISTINCT CASE WHEN r.role = 'implementer' THEN r.document_id END) AS projects, "
        "COALESCE(SUM(CASE WHEN r.role = 'implementer' THEN r.amount END), 0) AS amount, "
        "COUNT(DISTINCT CASE WHEN r.role != 'implementer' THEN r.document_id END) AS issued "
        f"FROM actors a JOIN roles r ON r.actor_id = a.id WHERE {where} "
        "GROUP BY a.id ORDER BY amount DESC, projects DESC, issued DESC, a.name LIMIT :limit OFFSET :offset",
        {**params, "limit": query.limit, "offset": query.offset},
    )
    ids = [row["id"] for row in rows]
    documents = _documents_of(catalog, ids, where, params, projects_per_actor)
    regions = _regions_of(catalog, ids)
    actors = [
        {
            "id": row["id"], "name": row["name"], "type": row["type"], "type_basis": row["type_basis"],
            "tax_code": row["tax_code"], "names": json.loads(row["names"]), "projects": row["projects"],
            "amount": round(row["amount"], 2), "issued": row["issued"], "regions": regions.get(row["id"], []),
            "documents": documents.get(row["id"], []),
        }
        for row in rows
    ]
    return actors, int(total)


def _documents_of(
    catalog: Catalog, ids: list[str], where: str, params: dict[str, Any], per_actor: int
) -> dict[str, list[dict]]:
    if not ids:
        return {}
    marks = ",".join(f":id{i}" for i in range(len(ids)))
    rows = catalog.query(
        "SELECT * FROM (SELECT r.actor_id, r.role, r.amount, d.id, d.type, d.title, d.status, "
        "ROW_NUMBER() OVER (PARTITION BY r.actor_id ORDER BY COALESCE(r.amount, 0) DESC, d.id) AS rank "
        f"FROM roles r JOIN actors a ON a.id = r.actor_id JOIN documents d ON d.id = r.document_id "
        f"WHERE {where} AND r.actor_id IN ({marks})) WHERE rank <= :per_actor",
        {**params, **{f"id{i}": v for i, v in enumerate(ids)}, "per_actor": per_actor},
    )
    out: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        out[row["actor_id"]].append({"id": row["id"], "type": row["type"], "title": row["title"],
                                     "role": row["role"], "amount": row["amount"], "status": row["status"]})
    return dict(out)


def _regions_of(catalog: Catalog, ids: list[str]) -> dict[str, list[str]]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = catalog.query(
        "SELECT r.actor_id, t.territory, COUNT(*) AS n FROM roles r JOIN territories t ON t.document_id = "
        f"r.document_id WHERE r.actor_id IN ({marks}) GROUP BY r.actor_id, t.territory ORDER BY n DESC", ids,
    )
    out: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        out[row["actor_id"]].append(row["territory"])
    return dict(out)


# --- the mission map ----------------------------------------------------------------------------------------

ANY_ACTOR = "any"
MAP_COLUMNS = ("mission", "label", "territory", "actor_type", "documents", "calls", "open_calls",
               "open_budget", "projects", "funded_amount")


@dataclass(slots=True)
class MissionMap:
    framework: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    gaps: list[dict[str, Any]] = field(default_factory=list)

    def write_csv(self, stream: TextIO) -> None:
        """The rows as CSV, one line per mission x territory x actor type (``MAP_COLUMNS``)."""
        writer = csv.DictWriter(stream, fieldnames=MAP_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(self.rows)


def _cell() -> dict[str, Any]:
    return {"documents": 0, "calls": 0, "open_calls": 0, "open_budget": 0.0, "projects": 0, "funded_amount": 0.0}


def mission_map(catalog: Catalog, framework: str, region: str | None = None) -> MissionMap:
    """Documents, calls (open now), funded projects and amounts by mission x territory x actor type, and gaps:
    missions with funded projects in a region but no open call there (regional or national), and open
    regional calls on a mission with no implementer of a funded project in that region."""
    labels: dict[str, str] = {}
    missions: dict[str, list[str]] = defaultdict(list)
    for row in catalog.query("SELECT document_id, code, label FROM missions WHERE framework = ?", (framework,)):
        missions[row["document_id"]].append(row["code"])
        labels[row["code"]] = row["label"]
    territories: dict[str, list[str]] = defaultdict(list)
    for row in catalog.query("SELECT document_id, territory FROM territories"):
        territories[row["document_id"]].append(row["territory"])
    actor_types: dict[str, set[str]] = defaultdict(set)
    for row in catalog.query("SELECT document_id, actor_type FROM targets"):
        actor_types[row["document_id"]].add(row["actor_type"])
    for row in catalog.query("SELECT r.document_id, a.type FROM roles r JOIN actors a ON a.id = r.actor_id "
                             "WHERE r.role = 'implementer' AND a.type IS NOT NULL"):
        actor_types[row["document_id"]].add(row["type"])
    cells: dict[tuple[str, str, str], dict[str, Any]] = defaultdict(_cell)
    totals: dict[tuple[str, str], dict[str, Any]] = defaultdict(_cell)  # per mission x territory, no double count
    documents = catalog.query("SELECT id, type, status, budget, amount FROM documents WHERE duplicate_of IS NULL")
    for doc in documents:
        codes = missions.get(doc["id"])
        if not codes:
            continue
        places = territories.get(doc["id"]) or [UNSPECIFIED]
        if region:
            places = [p for p in places if p == region]
        for code in codes:
            for place in places:
                kinds = sorted(actor_types.get(doc["id"]) or {ANY_ACTOR})
                for cell in (*(cells[(code, place, kind)] for kind in kinds), totals[(code, place)]):
                    _count(cell, doc)
    rows = [
        {"mission": code, "label": labels.get(code, code), "territory": place, "actor_type": kind,
         **{k: round(v, 2) if isinstance(v, float) else v for k, v in cell.items()}}
        for (code, place, kind), cell in sorted(cells.items())
    ]
    return MissionMap(framework=framework, rows=rows, gaps=_gaps(totals, labels, region))


def _count(cell: dict[str, Any], doc: Any) -> None:
    cell["documents"] += 1
    if doc["type"] == DocType.CALL:
        cell["calls"] += 1
        if doc["status"] == CallStatus.OPEN:
            cell["open_calls"] += 1
            cell["open_budget"] += doc["budget"] or 0.0
    elif doc["type"] == DocType.PROJECT:
        cell["projects"] += 1
        cell["funded_amount"] += doc["amount"] or 0.0


def _count_of(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _gaps(
    totals: dict[tuple[str, str], dict[str, Any]], labels: dict[str, str], region: str | None
) -> list[dict[str, Any]]:
    national_open = {m for (m, t), v in totals.items() if t == NATIONAL and v["open_calls"]}
    gaps = []
    for (mission, place), total in sorted(totals.items()):
        label = labels.get(mission, mission)
        if place in (NATIONAL, EUROPE, UNSPECIFIED) or (region and place != region):
            continue
        if total["projects"] and not total["open_calls"] and mission not in national_open:
            gaps.append({
                "kind": "no_open_call", "mission": mission, "label": label, "territory": place,
                "projects": total["projects"], "funded_amount": round(total["funded_amount"], 2),
                "reason": f"{_count_of(total['projects'], 'funded project')} on {label} in {place}, "
                          "but no open call there (regional or national).",
            })
        if total["open_calls"] and not total["projects"]:
            gaps.append({
                "kind": "no_local_implementer", "mission": mission, "label": label, "territory": place,
                "open_calls": total["open_calls"],
                "reason": f"{_count_of(total['open_calls'], 'open call')} on {label} in {place}, "
                          "but no funded project has an implementer there yet.",
            })
    return gaps
