"""Builds the catalog (``catalog.py``) from the index: one row per document with its territories, missions,
targets, places and levers; actors normalized and merged across spellings and tax codes; the same call
published by two sources linked to one canonical copy. Written to a temporary file and renamed into place.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from convergenze.core.payload import DocumentPayload
from convergenze.core.vocabulary import CallStatus, DocType
from convergenze.index.store.base import VectorStore

from .actors import actor_id, actor_type, actor_type_from_tax_code, clean_tax_code, display_name, normalize_name
from .catalog import EUROPE, IMPLEMENTER, NATIONAL, SCHEMA, UNSPECIFIED
from .levers import document_levers

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


def territories(document: DocumentPayload) -> list[str]:
    """Where a document applies: its regions, else "Italia" for national sources, "EU" for EU calls, else
    "non indicato"."""
    if document.region:
        return sorted(set(document.region))
    if document.national or document.source in _NATIONAL_SOURCES:
        return [NATIONAL]
    if document.source in _EU_SOURCES:
        return [EUROPE]
    return [UNSPECIFIED]


def _mentions(document: DocumentPayload) -> Iterator[_ActorMention]:
    kind, document_id = document.type, document.document_id
    if kind == DocType.PROJECT and document.implementing_body:
        yield _ActorMention(document.implementing_body, clean_tax_code(document.implementing_body_tax_code),
                            document_id, IMPLEMENTER, document.amount_pnrr)
    if kind in (DocType.CALL, DocType.PROGRAMME, DocType.POLICY) and document.issuer:
        yield _ActorMention(document.issuer, clean_tax_code(document.issuer_tax_code), document_id, "issuer",
                            document.budget)
    if kind == DocType.MEASURE and document.administration:
        yield _ActorMention(document.administration, None, document_id, "administration", document.budget)


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
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.get(i, i) != i:
            i = parent[i]
        return i

    best: dict[tuple[int, int], float] = {}
    for i, j, score in _alike_across_sources(calls, keys, threshold):
        a, b = calls[i], calls[j]
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


def _alike_across_sources(
    calls: list[dict[str, Any]], keys: list[str], threshold: float
) -> Iterator[tuple[int, int, float]]:
    """Pairs ``(i, j, score)``, ``i < j``, of titles from two different sources at least ``threshold`` alike. Each
    source is compared with the sources after it only (a national catalogue of thousands of incentives is one
    source: its square, millions of pairs, is never computed), and only the pairs above the cut are visited."""
    by_source: dict[str, list[int]] = defaultdict(list)
    for index, call in enumerate(calls):
        by_source[str(call["source"])].append(index)
    sources = sorted(by_source)
    for position, source in enumerate(sources):
        mine, others = by_source[source], [i for s in sources[position + 1 :] for i in by_source[s]]
        if not others:
            continue
        scores = process.cdist([keys[i] for i in mine], [keys[j] for j in others], scorer=fuzz.token_set_ratio,
                               score_cutoff=threshold, workers=1)
        for x, y in zip(*np.nonzero(scores >= threshold), strict=True):
            i, j = mine[int(x)], others[int(y)]
            yield min(i, j), max(i, j), float(scores[x][y])


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
            document = DocumentPayload.from_payload(payload)
            rows.append(self._document(db, document, str(payload.get("text") or "")))
            mentions.extend(_mentions(document))
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

    def _document(self, db: sqlite3.Connection, document: DocumentPayload, head_text: str) -> dict[str, Any]:
        """Writes the document's rows; returns what near-duplicate detection compares."""
        document_id, meta = document.document_id, document.metadata
        text = f"{document.title}\n{head_text}"
        status, deadline = document.status, document.deadline
        if status == CallStatus.OPEN and deadline and str(deadline)[:10] < self.today.isoformat():
            status = CallStatus.CLOSED  # the index was written before the deadline passed
        row = {
            "id": document_id, "type": document.type, "source": document.source, "title": document.title,
            "url": document.url, "status": status, "deadline": deadline, "opening": document.opening,
            "budget": document.budget, "amount": document.amount_pnrr, "issuer": document.issuer,
            "levers": json.dumps(document_levers(document.type, meta, text)),
            "submeasures": json.dumps(document.submeasure_codes), "duplicate_of": None,
        }
        db.execute("INSERT INTO documents VALUES (:id, :type, :source, :title, :url, :status, :deadline, :opening, "
                   ":budget, :amount, :issuer, :levers, :submeasures, :duplicate_of)", row)
        db.executemany("INSERT OR IGNORE INTO territories VALUES (?, ?)",
                       [(document_id, t) for t in territories(document)])
        db.executemany("INSERT OR IGNORE INTO targets VALUES (?, ?)",
                       [(document_id, t) for t in document.beneficiary_types])
        db.executemany("INSERT OR IGNORE INTO missions VALUES (?, ?, ?, ?, ?, ?)", [
            (document_id, m.framework, m.code, m.label, m.score, m.source) for m in document.missions
        ])
        db.executemany("INSERT INTO places VALUES (?, ?, ?, ?, ?)", [
            (document_id, p.region, p.province, p.municipality, p.istat_code) for p in document.places
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
