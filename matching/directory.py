"""Who works on what, where: the actors directory and the mission map, both read from the catalog."""

from __future__ import annotations

import csv
import dataclasses
from dataclasses import dataclass, field
from typing import TextIO

from convergenze.core.vocabulary import ActorType, CallStatus, DocType

from .catalog import EUROPE, NATIONAL, UNSPECIFIED, Actor, ActorScope, Catalog, CountedDocument


@dataclass(slots=True)
class ActorQuery:
    mission: str | None = None
    region: str | None = None
    actor_type: ActorType | None = None
    limit: int = 20
    offset: int = 0
    actor_id: str | None = None  # one actor (its page)

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= 500:
            raise ValueError(f"limit must be between 1 and 500, got {self.limit}.")
        if self.offset < 0:
            raise ValueError(f"offset must not be negative, got {self.offset}.")


def list_actors(catalog: Catalog, query: ActorQuery, projects_per_actor: int = 5) -> tuple[list[Actor], int]:
    """Actors with documents on ``query.mission`` in ``query.region``, most money first, and their projects."""
    scope = ActorScope(query.mission, query.region, query.actor_type, query.actor_id)
    return catalog.actors(scope, query.limit, query.offset, projects_per_actor)


# --- the mission map ----------------------------------------------------------------------------------------

ANY_ACTOR = "any"


@dataclass(slots=True)
class MapCell:
    """One mission x territory x actor type: what exists there."""

    mission: str
    label: str
    territory: str
    actor_type: str
    documents: int = 0
    calls: int = 0
    open_calls: int = 0
    open_budget: float = 0.0
    projects: int = 0
    funded_amount: float = 0.0

    def count(self, document: CountedDocument) -> None:
        self.documents += 1
        if document.type == DocType.CALL:
            self.calls += 1
            if document.status == CallStatus.OPEN:
                self.open_calls += 1
                self.open_budget += document.budget or 0.0
        elif document.type == DocType.PROJECT:
            self.projects += 1
            self.funded_amount += document.amount or 0.0


MAP_COLUMNS = tuple(f.name for f in dataclasses.fields(MapCell))


@dataclass(frozen=True, slots=True)
class Gap:
    """Money and calls that do not meet: ``no_open_call`` (funded projects on a mission in a region, no open
    call there, regional or national) or ``no_local_implementer`` (open regional calls, no funded implementer)."""

    kind: str
    mission: str
    label: str
    territory: str
    reason: str
    projects: int | None = None
    funded_amount: float | None = None
    open_calls: int | None = None


@dataclass(slots=True)
class MissionMap:
    framework: str
    rows: list[MapCell] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    # One row per mission x territory, every actor type together (a document counted once): what a map shows.
    totals: list[MapCell] = field(default_factory=list)

    def write_csv(self, stream: TextIO) -> None:
        """The rows as CSV, one line per mission x territory x actor type (``MAP_COLUMNS``)."""
        writer = csv.DictWriter(stream, fieldnames=MAP_COLUMNS)
        writer.writeheader()
        writer.writerows(dataclasses.asdict(row) for row in self.rows)


def mission_map(catalog: Catalog, framework: str, region: str | None = None) -> MissionMap:
    """Documents, calls (open now), funded projects and amounts by mission x territory x actor type, and gaps:
    missions with funded projects in a region but no open call there (regional or national), and open
    regional calls on a mission with no implementer of a funded project in that region."""
    missions, labels = catalog.missions(framework)
    territories = catalog.territories()
    actor_types = catalog.actor_types()
    cells: dict[tuple[str, str, str], MapCell] = {}
    totals: dict[tuple[str, str], MapCell] = {}  # per mission x territory, no double count across actor types
    for document in catalog.counted_documents():
        codes = missions.get(document.id)
        if not codes:
            continue
        places = territories.get(document.id) or [UNSPECIFIED]
        if region:
            places = [p for p in places if p == region]
        kinds = sorted(actor_types.get(document.id) or {ANY_ACTOR})
        for code in codes:
            label = labels.get(code, code)
            for place in places:
                for kind in kinds:
                    cells.setdefault((code, place, kind), MapCell(code, label, place, kind)).count(document)
                totals.setdefault((code, place), MapCell(code, label, place, ANY_ACTOR)).count(document)
    for cell in (*cells.values(), *totals.values()):
        cell.open_budget, cell.funded_amount = round(cell.open_budget, 2), round(cell.funded_amount, 2)
    rows = [cells[key] for key in sorted(cells)]
    return MissionMap(framework=framework, rows=rows, gaps=_gaps(totals, region),
                      totals=[totals[key] for key in sorted(totals)])


def _count_of(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _gaps(totals: dict[tuple[str, str], MapCell], region: str | None) -> list[Gap]:
    national_open = {m for (m, t), v in totals.items() if t == NATIONAL and v.open_calls}
    gaps = []
    for (mission, place), total in sorted(totals.items()):
        if place in (NATIONAL, EUROPE, UNSPECIFIED) or (region and place != region):
            continue
        if total.projects and not total.open_calls and mission not in national_open:
            gaps.append(Gap(
                kind="no_open_call", mission=mission, label=total.label, territory=place,
                projects=total.projects, funded_amount=total.funded_amount,
                reason=f"{_count_of(total.projects, 'funded project')} on {total.label} in {place}, "
                       "but no open call there (regional or national).",
            ))
        if total.open_calls and not total.projects:
            gaps.append(Gap(
                kind="no_local_implementer", mission=mission, label=total.label, territory=place,
                open_calls=total.open_calls,
                reason=f"{_count_of(total.open_calls, 'open call')} on {total.label} in {place}, "
                       "but no funded project has an implementer there yet.",
            ))
    return gaps
