"""The catalog: a document-level SQLite database derived from the index after every ingestion.

The vector store answers "what is like this text"; the convergence questions also need "who works on this
mission in this region, with how much money" and "which calls are open where projects were funded". Those are
aggregations over every document, so they run on a small relational copy of the documents' payloads (one row
per document, their regions, missions, beneficiary types, places and actors, and the near-duplicates found
across sources). It is a pure function of the index: rebuilt after each ingestion (``catalog_build``), written
to a temporary file and renamed into place, so readers always see a whole catalog (the API keeps answering
during a rebuild).

This module is the read side and the schema; every query the project runs on the catalog is a method of
``Catalog`` and answers with the records below.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convergenze.core.errors import NotReady
from convergenze.core.records import Hit
from convergenze.core.vocabulary import ActorType, DocType, Lever

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents (
    id TEXT PRIMARY KEY, type TEXT NOT NULL, source TEXT NOT NULL, title TEXT NOT NULL, url TEXT,
    status TEXT NOT NULL, deadline TEXT, opening TEXT, budget REAL, amount REAL, issuer TEXT,
    levers TEXT NOT NULL, submeasures TEXT NOT NULL, duplicate_of TEXT
);
CREATE TABLE territories (document_id TEXT NOT NULL, territory TEXT NOT NULL, PRIMARY KEY (document_id, territory));
CREATE TABLE missions (
    document_id TEXT NOT NULL, framework TEXT NOT NULL, code TEXT NOT NULL, label TEXT NOT NULL,
    score REAL NOT NULL, source TEXT NOT NULL, PRIMARY KEY (document_id, framework, code)
);
CREATE TABLE targets (document_id TEXT NOT NULL, actor_type TEXT NOT NULL, PRIMARY KEY (document_id, actor_type));
CREATE TABLE places (
    document_id TEXT NOT NULL, region TEXT, province TEXT, municipality TEXT, istat_code TEXT
);
CREATE TABLE actors (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, normalized TEXT NOT NULL, type TEXT, type_basis TEXT,
    tax_code TEXT, names TEXT NOT NULL
);
CREATE TABLE roles (
    actor_id TEXT NOT NULL, document_id TEXT NOT NULL, role TEXT NOT NULL, amount REAL,
    PRIMARY KEY (actor_id, document_id, role)
);
CREATE TABLE duplicates (
    document_id TEXT NOT NULL, canonical_id TEXT NOT NULL, score REAL NOT NULL, reason TEXT NOT NULL,
    PRIMARY KEY (document_id)
);
CREATE INDEX missions_code ON missions (code, framework);
-- The actors directory and match's partners look missions up by code whatever its case: without this index each
-- lookup scanned every mission row (whole corpus: partners on one mission 279 -> 60 ms).
CREATE INDEX missions_code_folded ON missions (lower(code));
CREATE INDEX territories_territory ON territories (territory);
CREATE INDEX roles_document ON roles (document_id);
CREATE INDEX places_municipality ON places (municipality);
"""

NATIONAL = "Italia"
EUROPE = "EU"
UNSPECIFIED = "non indicato"
IMPLEMENTER = "implementer"  # a role: the body that carries out a funded project


# --- what the catalog answers with ---


@dataclass(frozen=True, slots=True)
class Publication:
    """Another publication of the same call by another source."""

    id: str
    source: str | None
    score: float
    reason: str


@dataclass(frozen=True, slots=True)
class ActorRole:
    """An actor's part in one document: issuer, administration or implementer."""

    id: str
    name: str
    type: ActorType | None
    role: str


@dataclass(frozen=True, slots=True)
class ActorDocument:
    id: str
    type: DocType
    title: str
    role: str
    amount: float | None
    status: str


@dataclass(frozen=True, slots=True)
class Actor:
    """A body with its funded projects (as implementer) and amounts, the documents it issued, its regions."""

    id: str
    name: str
    type: ActorType | None
    type_basis: str | None
    tax_code: str | None
    names: list[str]
    projects: int
    amount: float
    issued: int
    regions: list[str] = field(default_factory=list)
    documents: list[ActorDocument] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ActorScope:
    """Which actors: with documents on ``mission`` (a code of any framework) in ``region``, of ``actor_type``."""

    mission: str | None = None
    region: str | None = None
    actor_type: ActorType | None = None
    actor_id: str | None = None  # one actor (its page)


@dataclass(frozen=True, slots=True)
class CountedDocument:
    """What the mission map counts of a document (near-duplicate copies are left out)."""

    id: str
    type: DocType
    status: str
    budget: float | None
    amount: float | None


class CatalogMissing(NotReady):
    """No catalog next to the index yet: the index predates it, or nothing was ingested."""


def _actor_type(value: str | None) -> ActorType | None:
    return ActorType(value) if value in set(ActorType) else None


class Catalog:
    """Read side: a fresh read-only connection per use, so a rebuild (a rename) is picked up at once."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _missing(self) -> CatalogMissing:
        return CatalogMissing(f"No catalog at {self.path}: run `convergenze ingest` (it builds the catalog).")

    def stamp(self) -> tuple[int, int]:
        """Changes whenever a rebuild is renamed into place: the key for caching what is computed from it."""
        try:
            info = self.path.stat()
        except FileNotFoundError as error:
            raise self._missing() from error
        return info.st_mtime_ns, info.st_ino

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        if not self.path.is_file():
            raise self._missing()
        connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        connection.row_factory = sqlite3.Row
        try:
            yield connection
        finally:
            connection.close()

    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        with self.connect() as db:
            return list(db.execute(sql, params))

    def meta(self) -> dict[str, str]:
        return {row["key"]: row["value"] for row in self.query("SELECT key, value FROM meta")}

    # --- by document id (match, overlaps) ---

    def _rows_for(self, sql: str, ids: Iterable[str]) -> list[sqlite3.Row]:
        """Rows of ``sql`` (whose ``{marks}`` takes the ids) for the distinct ``ids``. Without a catalog nothing
        is known about any document: results still come, only without what the catalog adds to them."""
        unique = list(dict.fromkeys(ids))
        if not unique or not self.path.is_file():
            return []
        return self.query(sql.format(marks=",".join("?" * len(unique))), unique)

    def duplicates_of(self, document_ids: Iterable[str]) -> dict[str, str]:
        """``document_id -> canonical_id`` for those of ``document_ids`` that are near-duplicates."""
        rows = self._rows_for("SELECT document_id, canonical_id FROM duplicates WHERE document_id IN ({marks})",
                              document_ids)
        return {row["document_id"]: row["canonical_id"] for row in rows}

    def copies_of(self, canonical_ids: Iterable[str]) -> dict[str, list[Publication]]:
        """The other publications of each canonical call."""
        rows = self._rows_for(
            "SELECT d.document_id, d.canonical_id, d.reason, d.score, x.source FROM duplicates d "
            "JOIN documents x ON x.id = d.document_id WHERE d.canonical_id IN ({marks})", canonical_ids,
        )
        out: dict[str, list[Publication]] = defaultdict(list)
        for row in rows:
            out[row["canonical_id"]].append(Publication(row["document_id"], row["source"], row["score"],
                                                        row["reason"]))
        return dict(out)

    def levers(self, document_ids: Iterable[str]) -> dict[str, list[Lever]]:
        rows = self._rows_for("SELECT id, levers FROM documents WHERE id IN ({marks})", document_ids)
        return {row["id"]: [Lever(v) for v in json.loads(row["levers"])] for row in rows}

    def actors_of(self, document_ids: Iterable[str]) -> dict[str, list[ActorRole]]:
        """The issuers and implementers of each document."""
        rows = self._rows_for(
            "SELECT r.document_id, r.role, a.id, a.name, a.type FROM roles r JOIN actors a ON a.id = r.actor_id "
            "WHERE r.document_id IN ({marks})", document_ids,
        )
        out: dict[str, list[ActorRole]] = defaultdict(list)
        for row in rows:
            out[row["document_id"]].append(ActorRole(row["id"], row["name"], _actor_type(row["type"]), row["role"]))
        return dict(out)

    # --- the actors directory ---

    @staticmethod
    def _scope(scope: ActorScope) -> tuple[str, dict[str, Any]]:
        """SQL conditions on a role row ``r`` and actor ``a``."""
        where, params = ["1 = 1"], {}
        if scope.actor_id:
            where.append("a.id = :actor_id")
            params["actor_id"] = scope.actor_id
        if scope.actor_type:
            where.append("a.type = :type")
            params["type"] = str(scope.actor_type)
        if scope.mission:
            where.append("r.document_id IN (SELECT document_id FROM missions WHERE lower(code) = lower(:mission))")
            params["mission"] = scope.mission
        if scope.region:
            where.append("r.document_id IN (SELECT document_id FROM territories WHERE territory = :region)")
            params["region"] = scope.region
        return " AND ".join(where), params

    def actors(self, scope: ActorScope, limit: int, offset: int = 0,
               documents_per_actor: int = 5) -> tuple[list[Actor], int]:
        """Actors in ``scope``, most money first, with their documents in scope and their regions; and how many
        actors the scope holds in all."""
        where, params = self._scope(scope)
        total = self.query(
            f"SELECT COUNT(DISTINCT a.id) AS n FROM actors a JOIN roles r ON r.actor_id = a.id WHERE {where}", params
        )[0]["n"]
        rows = self.query(
            "SELECT a.id, a.name, a.type, a.type_basis, a.tax_code, a.names, "
            f"COUNT(DISTINCT CASE WHEN r.role = '{IMPLEMENTER}' THEN r.document_id END) AS projects, "
            f"COALESCE(SUM(CASE WHEN r.role = '{IMPLEMENTER}' THEN r.amount END), 0) AS amount, "
            f"COUNT(DISTINCT CASE WHEN r.role != '{IMPLEMENTER}' THEN r.document_id END) AS issued "
            f"FROM actors a JOIN roles r ON r.actor_id = a.id WHERE {where} "
            "GROUP BY a.id ORDER BY amount DESC, projects DESC, issued DESC, a.name LIMIT :limit OFFSET :offset",
            {**params, "limit": limit, "offset": offset},
        )
        ids = [row["id"] for row in rows]
        documents = self._documents_of(ids, where, params, documents_per_actor)
        regions = self._regions_of(ids)
        actors = [
            Actor(
                id=row["id"], name=row["name"], type=_actor_type(row["type"]), type_basis=row["type_basis"],
                tax_code=row["tax_code"], names=json.loads(row["names"]), projects=row["projects"],
                amount=round(row["amount"], 2), issued=row["issued"], regions=regions.get(row["id"], []),
                documents=documents.get(row["id"], []),
            )
            for row in rows
        ]
        return actors, int(total)

    def _documents_of(self, ids: list[str], where: str, params: dict[str, Any],
                      per_actor: int) -> dict[str, list[ActorDocument]]:
        if not ids:
            return {}
        marks = ",".join(f":id{i}" for i in range(len(ids)))
        rows = self.query(
            "SELECT * FROM (SELECT r.actor_id, r.role, r.amount, d.id, d.type, d.title, d.status, "
            "ROW_NUMBER() OVER (PARTITION BY r.actor_id ORDER BY COALESCE(r.amount, 0) DESC, d.id) AS rank "
            f"FROM roles r JOIN actors a ON a.id = r.actor_id JOIN documents d ON d.id = r.document_id "
            f"WHERE {where} AND r.actor_id IN ({marks})) WHERE rank <= :per_actor",
            {**params, **{f"id{i}": v for i, v in enumerate(ids)}, "per_actor": per_actor},
        )
        out: dict[str, list[ActorDocument]] = defaultdict(list)
        for row in rows:
            out[row["actor_id"]].append(ActorDocument(row["id"], DocType(row["type"]), row["title"], row["role"],
                                                      row["amount"], row["status"]))
        return dict(out)

    def _regions_of(self, ids: list[str]) -> dict[str, list[str]]:
        """Each actor's territories, the one with most of its documents first."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.query(
            "SELECT r.actor_id, t.territory, COUNT(*) AS n FROM roles r JOIN territories t ON t.document_id = "
            f"r.document_id WHERE r.actor_id IN ({marks}) GROUP BY r.actor_id, t.territory ORDER BY n DESC", ids,
        )
        out: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            out[row["actor_id"]].append(row["territory"])
        return dict(out)

    # --- what the mission map aggregates ---

    def missions(self, framework: str) -> tuple[dict[str, list[str]], dict[str, str]]:
        """``document_id -> its codes`` in ``framework``, and each code's label."""
        codes: dict[str, list[str]] = defaultdict(list)
        labels: dict[str, str] = {}
        for row in self.query("SELECT document_id, code, label FROM missions WHERE framework = ?", (framework,)):
            codes[row["document_id"]].append(row["code"])
            labels[row["code"]] = row["label"]
        return dict(codes), labels

    def territories(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for row in self.query("SELECT document_id, territory FROM territories"):
            out[row["document_id"]].append(row["territory"])
        return dict(out)

    def actor_types(self) -> dict[str, set[str]]:
        """Each document's actor types: the beneficiaries a call names and the implementers of a project."""
        out: dict[str, set[str]] = defaultdict(set)
        for row in self.query("SELECT document_id, actor_type FROM targets"):
            out[row["document_id"]].add(row["actor_type"])
        for row in self.query("SELECT r.document_id, a.type FROM roles r JOIN actors a ON a.id = r.actor_id "
                              f"WHERE r.role = '{IMPLEMENTER}' AND a.type IS NOT NULL"):
            out[row["document_id"]].add(row["type"])
        return dict(out)

    def counted_documents(self) -> list[CountedDocument]:
        return [CountedDocument(row["id"], DocType(row["type"]), row["status"], row["budget"], row["amount"])
                for row in self.query("SELECT id, type, status, budget, amount FROM documents "
                                      "WHERE duplicate_of IS NULL")]


def collapse_duplicates(catalog: Catalog, hits: list[Hit]) -> tuple[list[Hit], dict[str, list[Publication]]]:
    """The same call published by two sources is listed once (its first, best-ranked copy); the other
    publications are linked to it: ``(kept hits, document_id -> its other publications)``."""
    canonical = catalog.duplicates_of(h.document_id for h in hits)
    copies = catalog.copies_of({canonical.get(h.document_id, h.document_id) for h in hits})
    kept: list[Hit] = []
    links: dict[str, list[Publication]] = {}
    seen: set[str] = set()
    for hit in hits:
        key = canonical.get(hit.document_id, hit.document_id)
        if key in seen:
            continue
        seen.add(key)
        kept.append(hit)
        group = [c for c in copies.get(key, []) if c.id != hit.document_id]
        if key != hit.document_id:
            group.append(Publication(key, None, 1.0, "the canonical publication"))
        if group:
            links[hit.document_id] = group
    return kept, links
