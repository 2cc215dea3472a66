"""The catalog: a document-level SQLite database derived from the index after every ingestion.

The vector store answers "what is like this text"; the convergence questions also need "who works on this
mission in this region, with how much money" and "which calls are open where projects were funded". Those are
aggregations over every document, so they run on a small relational copy of the documents' payloads (one row
per document, their regions, missions, beneficiary types, places and actors, and the near-duplicates found
across sources). It is a pure function of the index: rebuilt after each ingestion, written to a temporary file
and renamed into place, so readers always see a whole catalog (the API keeps answering during a rebuild).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from convergenze.core.records import Hit
from convergenze.core.vocabulary import CallStatus, DocType, Lever
from convergenze.index.store.base import VectorStore

from .actors import actor_id, actor_type, actor_type_from_tax_code, clean_tax_code, display_name, normalize_name
from .levers import document_levers

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
CREATE INDEX territories_territory ON territories (territory);
CREATE INDEX roles_document ON roles (document_id);
CREATE INDEX places_municipality ON places (municipality);
"""

NATIONAL = "Italia"
EUROPE = "EU"
UNSPECIFIED = "non indicato"

_PAYLOAD_FIELDS = ("document_id", "type", "source", "title", "url", "status", "deadline", "budget", "region",
                   "beneficiary_types", "submeasure_codes", "text", "metadata")
# Sources whose documents concern the whole country when they name no region.
_NATIONAL_SOURCES = ("pnrr-measures", "pnrr-calls", "pnrr-projects", "pnc-programmes", "incentivi-gov")
_EU_SOURCES = ("eu-funding-tenders",)
# Aggregators republish what official sources publish: when both have a call, the official one is canonical.
_AGGREGATORS = ("incentivi-gov",)
_TITLE_NOISE = re.compile(r"\b(?:bando|avviso|pubblico|call|for|proposals|di|per|la|il|le|i|del|della|dei|e|a)\b")


@dataclass(slots=True)
class CatalogStats:
    documents: int = 0
    actors: int = 0
    duplicates: int = 0
    built: str = ""


@dataclass(slots=True)
class _ActorMention:
    name: str
    tax_code: str | None
    document_id: str
    role: str
    amount: float | None


def _territories(payload: dict[str, Any]) -> list[str]:
    regions = [r for r in payload.get("region") or [] if isinstance(r, str) and r]
    meta = payload.get("metadata") or {}
    if regions:
        return sorted(set(regions))
    if meta.get("national") or payload.get("source") in _NATIONAL_SOURCES:
        return [NATIONAL]
    if payload.get("source") in _EU_SOURCES:
        return [EUROPE]
    return [UNSPECIFIED]


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _mentions(payload: dict[str, Any]) -> Iterator[_ActorMention]:
    meta = payload.get("metadata") or {}
    document_id, kind = payload["document_id"], payload.get("type")
    if kind == DocType.PROJECT and meta.get("implementing_body"):
        yield _ActorMention(str(meta["implementing_body"]), clean_tax_code(meta.get("implementing_body_tax_code")),
                            document_id, "implementer", _float(meta.get("amount_pnrr")))
    if kind in (DocType.CALL, DocType.PROGRAMME, DocType.POLICY) and meta.get("issuer"):
        yield _ActorMention(str(meta["issuer"]), clean_tax_code(meta.get("issuer_tax_code")), document_id,
                            "issuer", _float(payload.get("budget")))
    if kind == DocType.MEASURE and meta.get("administration"):
        yield _ActorMention(str(meta["administration"]), None, document_id, "administration",
                            _float(payload.get("budget")))


def _title_key(title: str) -> str:
    return re.sub(r"\s+", " ", _TITLE_NOISE.sub(" ", normalize_name(title))).strip()


def find_duplicates(rows: list[dict[str, Any]], threshold: float = 90.0) -> list[tuple[str, str, float, str]]:
    """Calls published by two sources: near-identical titles (token-set ratio >= ``threshold``, rapidfuzz, on
    titles of comparable length) and deadlines that agree where both give one.
    Returns ``(duplicate_id, canonical_id, score, reason)``."""
    calls = [r for r in rows if r["type"] == DocType.CALL and len(_title_key(r["title"]).split()) >= 3]
    if len(calls) < 2:
        return []
    keys = [_title_key(r["title"]) for r in calls]
    scores = process.cdist(keys, keys, scorer=fuzz.token_set_ratio, score_cutoff=threshold, workers=1)
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.get(i, i) != i:
            i = parent[i]
        return i

    best: dict[tuple[int, int], float] = {}
    for i in range(len(calls)):
        for j in range(i + 1, len(calls)):
            score = float(scores[i][j])
            a, b = calls[i], calls[j]
            if score < threshold or a["source"] == b["source"]:
                continue
            # A token-set ratio is 100 whenever one title's words are a subset of the other's: demand titles of
            # comparable length, so "Bando cooperative di comunità" is not the copy of every longer title.
            sizes = sorted((len(keys[i].split()), len(keys[j].split())))
            if sizes[0] < 0.6 * sizes[1]:
                continue
            if a["deadline"] and b["deadline"] and a["deadline"][:10] != b["deadline"][:10]:
                continue
            parent[root(j)] = root(i)
            best[(i, j)] = score
    clusters: dict[int, list[int]] = defaultdict(list)
    for i in {i for pair in best for i in pair}:
        clusters[root(i)].append(i)
    out = []
    for members in clusters.values():
        # The canonical copy: an official source over an aggregator, then the longer text, then the id.
        canonical = min(members, key=lambda i: (calls[i]["source"] in _AGGREGATORS, -len(calls[i]["text"]),
                                                 calls[i]["id"]))
        for i in members:
            if i == canonical:
                continue
            pair = (min(i, canonical), max(i, canonical))
            score = best.get(pair) or max(v for k, v in best.items() if i in k)
            reason = (f"same call published by {calls[canonical]['source']} and {calls[i]['source']}: "
                      f"titles {score:.0f}% alike" + (", same deadline" if calls[i]["deadline"] else ""))
            out.append((calls[i]["id"], calls[canonical]["id"], round(score / 100, 3), reason))
    return out


class CatalogBuilder:
    """``run(store)`` writes the catalog of everything the store holds to ``path`` (atomically)."""

    def __init__(self, path: Path, today: date | None = None, duplicate_threshold: float = 90.0) -> None:
        self.path = path
        self.today = today or date.today()
        self.duplicate_threshold = duplicate_threshold

    def run(self, store: VectorStore) -> CatalogStats:
        return self.build(store.document_heads(_PAYLOAD_FIELDS))

    def build(self, payloads: Iterable[dict[str, Any]]) -> CatalogStats:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.part")
        partial.unlink(missing_ok=True)
        connection = sqlite3.connect(partial)
        try:
            stats = self._write(connection, payloads)
            connection.commit()
        finally:
            connection.close()
        os.replace(partial, self.path)
        return stats

    def _write(self, db: sqlite3.Connection, payloads: Iterable[dict[str, Any]]) -> CatalogStats:
        db.executescript(SCHEMA)
        stats = CatalogStats(built=datetime.now(UTC).isoformat(timespec="seconds"))
        rows: list[dict[str, Any]] = []
        mentions: list[_ActorMention] = []
        for payload in payloads:
            row = self._document(db, payload)
            rows.append(row)
            mentions.extend(_mentions(payload))
        stats.documents = len(rows)
        duplicates = find_duplicates(rows, self.duplicate_threshold)
        db.executemany("INSERT INTO duplicates VALUES (?, ?, ?, ?)", duplicates)
        db.executemany("UPDATE documents SET duplicate_of = ? WHERE id = ?", [(c, d) for d, c, _, _ in duplicates])
        stats.duplicates = len(duplicates)
        stats.actors = self._actors(db, mentions)
        db.executemany("INSERT INTO meta VALUES (?, ?)", [
            ("built", stats.built), ("today", self.today.isoformat()), ("documents", str(stats.documents)),
        ])
        return stats

    def _document(self, db: sqlite3.Connection, payload: dict[str, Any]) -> dict[str, Any]:
        meta = payload.get("metadata") or {}
        document_id, kind = str(payload["document_id"]), str(payload.get("type", ""))
        text = f"{payload.get('title', '')}\n{payload.get('text', '')}"
        status = str(payload.get("status") or CallStatus.UNKNOWN)
        deadline = payload.get("deadline")
        if status == CallStatus.OPEN and deadline and str(deadline)[:10] < self.today.isoformat():
            status = CallStatus.CLOSED  # the index was written before the deadline passed
        row = {
            "id": document_id, "type": kind, "source": str(payload.get("source", "")),
            "title": str(payload.get("title", "")), "url": payload.get("url"), "status": status,
            "deadline": deadline, "opening": meta.get("opening"), "budget": _float(payload.get("budget")),
            "amount": _float(meta.get("amount_pnrr")), "issuer": meta.get("issuer"),
            "levers": json.dumps(document_levers(kind, meta, text)),
            "submeasures": json.dumps(payload.get("submeasure_codes") or []), "duplicate_of": None,
        }
        db.execute("INSERT INTO documents VALUES (:id, :type, :source, :title, :url, :status, :deadline, :opening, "
                   ":budget, :amount, :issuer, :levers, :submeasures, :duplicate_of)", row)
        db.executemany("INSERT OR IGNORE INTO territories VALUES (?, ?)",
                       [(document_id, t) for t in _territories(payload)])
        db.executemany("INSERT OR IGNORE INTO targets VALUES (?, ?)",
                       [(document_id, t) for t in payload.get("beneficiary_types") or []])
        db.executemany("INSERT OR IGNORE INTO missions VALUES (?, ?, ?, ?, ?, ?)", [
            (document_id, m["framework"], m["code"], m.get("label", ""), float(m.get("score", 0.0)),
             m.get("source", "model"))
            for m in meta.get("missions") or [] if isinstance(m, dict) and m.get("code")
        ])
        db.executemany("INSERT INTO places VALUES (?, ?, ?, ?, ?)", [
            (document_id, p.get("region"), p.get("province"), p.get("municipality"), p.get("istat_code"))
            for p in meta.get("places") or [] if isinstance(p, dict)
        ])
        row["text"] = text
        return row

    def _actors(self, db: sqlite3.Connection, mentions: list[_ActorMention]) -> int:
        codes_by_name: dict[str, set[str]] = defaultdict(set)
        for mention in mentions:
            if mention.tax_code:
                codes_by_name[normalize_name(mention.name)].add(mention.tax_code)
        grouped: dict[str, list[_ActorMention]] = defaultdict(list)
        codes: dict[str, str | None] = {}
        for mention in mentions:
            code = mention.tax_code
            if code is None and len(known := codes_by_name.get(normalize_name(mention.name), set())) == 1:
                code = next(iter(known))  # the same name seen elsewhere with its tax code
            key = actor_id(mention.name, code)
            grouped[key].append(mention)
            codes[key] = code
        for key, group in grouped.items():
            names = [m.name.strip() for m in group]
            name = display_name(names)
            kind, basis = actor_type(name), "name"
            if kind is None:
                kind, basis = actor_type_from_tax_code(codes[key]), "tax_code"
            db.execute("INSERT INTO actors VALUES (?, ?, ?, ?, ?, ?, ?)", (
                key, name, normalize_name(name), kind, basis if kind else None, codes[key],
                json.dumps(sorted(set(names))[:10], ensure_ascii=False),
            ))
            db.executemany("INSERT OR IGNORE INTO roles VALUES (?, ?, ?, ?)",
                           [(key, m.document_id, m.role, m.amount) for m in group])
        return len(grouped)


def collapse_duplicates(catalog: Catalog, hits: list[Hit]) -> tuple[list[Hit], dict[str, list[dict[str, Any]]]]:
    """The same call published by two sources is listed once (its first, best-ranked copy); the other
    publications are linked to it: ``(kept hits, document_id -> [{id, source, score, reason}])``."""
    canonical = catalog.duplicates_of(h.document_id for h in hits)
    copies = catalog.copies_of({canonical.get(h.document_id, h.document_id) for h in hits})
    kept: list[Hit] = []
    links: dict[str, list[dict[str, Any]]] = {}
    seen: set[str] = set()
    for hit in hits:
        key = canonical.get(hit.document_id, hit.document_id)
        if key in seen:
            continue
        seen.add(key)
        kept.append(hit)
        group = [c for c in copies.get(key, []) if c["id"] != hit.document_id]
        if key != hit.document_id:
            group.append({"id": key, "source": None, "score": 1.0, "reason": "the canonical publication"})
        if group:
            links[hit.document_id] = group
    return kept, links


class CatalogMissing(RuntimeError):
    """No catalog next to the index yet: the index predates it, or nothing was ingested."""


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

    def copies_of(self, canonical_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """The other publications of each canonical call: ``canonical_id -> [{id, source, reason}]``."""
        rows = self._rows_for(
            "SELECT d.document_id, d.canonical_id, d.reason, d.score, x.source FROM duplicates d "
            "JOIN documents x ON x.id = d.document_id WHERE d.canonical_id IN ({marks})", canonical_ids,
        )
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            out[row["canonical_id"]].append(
                {"id": row["document_id"], "source": row["source"], "score": row["score"], "reason": row["reason"]}
            )
        return dict(out)

    def levers(self, document_ids: Iterable[str]) -> dict[str, list[Lever]]:
        rows = self._rows_for("SELECT id, levers FROM documents WHERE id IN ({marks})", document_ids)
        return {row["id"]: [Lever(v) for v in json.loads(row["levers"])] for row in rows}

    def actors_of(self, document_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """``document_id -> [{id, name, type, role}]`` (issuers, implementers)."""
        rows = self._rows_for(
            "SELECT r.document_id, r.role, a.id, a.name, a.type FROM roles r JOIN actors a ON a.id = r.actor_id "
            "WHERE r.document_id IN ({marks})", document_ids,
        )
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in rows:
            out[row["document_id"]].append({"id": row["id"], "name": row["name"], "type": row["type"],
                                            "role": row["role"]})
        return dict(out)
