"""Saved searches and match profiles ("alerts"), evaluated after each ingestion against the documents it
added or changed, and delivered (``delivery.py``) by webhook (JSON signed with HMAC-SHA256), Atom feed and,
when configured, e-mail.

Exactly-once bookkeeping, all in the state store:

* each alert keeps the id of the last change event it has looked at; a run evaluates the events after it
  (new notices and new versions) and moves the mark in the same transaction as the hits it records, so a
  crash re-evaluates and a finished evaluation is never repeated;
* a hit is unique per (alert, document, version): the same version never alerts twice;
* a delivery is unique per (hit, channel) and is marked sent once the receiver said 2xx; failed ones are
  retried on later passes, each after a longer wait (``next_at``), up to ``max_attempts``. A receiver that
  answered but whose answer was lost may see a delivery again: the ``X-Convergenze-Delivery`` header is
  the key to drop it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from convergenze.core.errors import InvalidInput
from convergenze.core.records import SearchFilters
from convergenze.corpora.state import StateStore, now_iso
from convergenze.index.search import SearchService

from .changes import VERSIONED

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    secret TEXT,
    last_event_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    owner TEXT
);
CREATE TABLE IF NOT EXISTS alert_hits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT,
    score REAL NOT NULL,
    changes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (alert_id, document_id, version)
);
CREATE TABLE IF NOT EXISTS deliveries (
    hit_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at TEXT,
    next_at TEXT,
    PRIMARY KEY (hit_id, channel)
);
"""
# Events that make a document worth telling about: it is new, or it has a new version.
ALERT_KINDS = ("new", *VERSIONED)
SIGNATURE_HEADER = "X-Convergenze-Signature"
DELIVERY_HEADER = "X-Convergenze-Delivery"


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the exact body bytes with the alert's shared secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    name: str
    query: str | None
    match_text: str | None
    filters: dict[str, Any]
    min_score: float
    webhook_url: str | None
    email: str | None
    has_secret: bool
    created_at: str
    owner: str | None = None  # the id of the API key that made it (None: made before keys existed)

    @property
    def text(self) -> str:
        return self.query or self.match_text or ""


@dataclass(slots=True)
class AlertRun:
    """What one evaluation and delivery pass did (for the ingestion report)."""

    evaluated: int = 0
    hits: int = 0
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class AlertLimitReached(InvalidInput):
    """An owner who has as many alerts as allowed."""


class AlertStore:
    def __init__(self, state: StateStore) -> None:
        self.state = state
        with state.connect() as db:
            db.executescript(_SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(alerts)")}
            if "owner" not in columns:  # a state file from before alerts had owners
                db.execute("ALTER TABLE alerts ADD COLUMN owner TEXT")
            if "next_at" not in {row[1] for row in db.execute("PRAGMA table_info(deliveries)")}:
                db.execute("ALTER TABLE deliveries ADD COLUMN next_at TEXT")
            db.execute("CREATE INDEX IF NOT EXISTS alerts_owner ON alerts (owner)")

    def save(self, spec: dict[str, Any], secret: str | None, owner: str | None = None,
             max_per_owner: int | None = None) -> tuple[Alert, bool]:
        """Store an alert; its id comes from its owner and content, so saving the same alert twice returns the
        first (``created`` False). A new alert starts from now: it is told about changes after its creation.
        Past ``max_per_owner`` alerts, a new one raises ``AlertLimitReached``."""
        canonical = json.dumps(spec, sort_keys=True, ensure_ascii=False)
        alert_id = "alert-" + hashlib.sha256(f"{owner or ''}\n{canonical}".encode()).hexdigest()[:16]
        with self.state.connect() as db:
            exists = db.execute("SELECT 1 FROM alerts WHERE id = ?", (alert_id,)).fetchone()
            owned = db.execute("SELECT COUNT(*) FROM alerts WHERE owner IS ?", (owner,)).fetchone()[0]
            if not exists and max_per_owner is not None and owned >= max_per_owner:
                raise AlertLimitReached(f"at most {max_per_owner} alerts per key")
            mark = db.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
            inserted = db.execute(
                "INSERT OR IGNORE INTO alerts (id, name, spec, secret, last_event_id, created_at, owner) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (alert_id, spec["name"], canonical, secret, mark, now_iso(), owner),
            ).rowcount
        alert = self.get(alert_id)
        if alert is None:  # pragma: no cover - just inserted or already there
            raise RuntimeError(f"alert {alert_id} vanished while being saved")
        return alert, bool(inserted)

    def get(self, alert_id: str) -> Alert | None:
        with self.state.connect() as db:
            row = db.execute("SELECT * FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        return None if row is None else _alert(row)

    def all(self) -> list[Alert]:
        """Every alert, whoever owns it (for the evaluation after an ingestion)."""
        with self.state.connect() as db:
            rows = db.execute("SELECT * FROM alerts ORDER BY created_at, id").fetchall()
        return [_alert(r) for r in rows]

    def page(self, owner: str | None, limit: int, offset: int) -> tuple[list[Alert], int]:
        """One page of an owner's alerts (every owner's when ``owner`` is None) and how many there are."""
        where, args = ("", ()) if owner is None else ("WHERE owner = ?", (owner,))
        with self.state.connect() as db:
            total = db.execute(f"SELECT COUNT(*) FROM alerts {where}", args).fetchone()[0]
            rows = db.execute(f"SELECT * FROM alerts {where} ORDER BY created_at, rowid LIMIT ? OFFSET ?",
                              (*args, limit, offset)).fetchall()
        return [_alert(r) for r in rows], int(total)

    def delete(self, alert_id: str) -> bool:
        with self.state.connect() as db:
            hits = [r[0] for r in db.execute("SELECT id FROM alert_hits WHERE alert_id = ?", (alert_id,))]
            db.executemany("DELETE FROM deliveries WHERE hit_id = ?", [(h,) for h in hits])
            db.execute("DELETE FROM alert_hits WHERE alert_id = ?", (alert_id,))
            return db.execute("DELETE FROM alerts WHERE id = ?", (alert_id,)).rowcount > 0

    def hits(self, alert_id: str, limit: int = 50) -> list[dict[str, Any]]:
        with self.state.connect() as db:
            rows = db.execute(
                "SELECT * FROM alert_hits WHERE alert_id = ? ORDER BY id DESC LIMIT ?", (alert_id, limit)
            ).fetchall()
        return [{**dict(r), "changes": json.loads(r["changes"])} for r in rows]

    def deliveries(self, alert_id: str) -> list[dict[str, Any]]:
        with self.state.connect() as db:
            rows = db.execute(
                "SELECT d.*, h.document_id, h.version FROM deliveries d JOIN alert_hits h ON h.id = d.hit_id "
                "WHERE h.alert_id = ? ORDER BY d.hit_id, d.channel",
                (alert_id,),
            ).fetchall()
        return [dict(r) for r in rows]

    def secret(self, alert_id: str) -> str | None:
        with self.state.connect() as db:
            row = db.execute("SELECT secret FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        return None if row is None else row[0]

    def pending_events(self, alert: Alert) -> tuple[list[dict[str, Any]], int]:
        """Change events after the alert's mark, and the id to move the mark to."""
        with self.state.connect() as db:
            mark = db.execute("SELECT last_event_id FROM alerts WHERE id = ?", (alert.id,)).fetchone()[0]
            rows = db.execute("SELECT * FROM events WHERE id > ? ORDER BY id", (mark,)).fetchall()
        events = [dict(r) for r in rows]
        return events, (events[-1]["id"] if events else mark)

    def record(self, alert: Alert, hits: list[dict[str, Any]], mark: int) -> int:
        """Store hits (once per document version) with their deliveries, and move the mark: one transaction."""
        channels = [c for c, on in (("webhook", alert.webhook_url), ("email", alert.email)) if on]
        created = 0
        with self.state.connect() as db:
            for hit in hits:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO alert_hits (alert_id, document_id, version, kind, title, url, score, "
                    "changes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (alert.id, hit["document_id"], hit["version"], hit["kind"], hit["title"], hit["url"],
                     hit["score"], json.dumps(hit["changes"], ensure_ascii=False), now_iso()),
                )
                if cursor.rowcount:
                    created += 1
                    db.executemany(
                        "INSERT OR IGNORE INTO deliveries (hit_id, channel, status) VALUES (?, ?, 'pending')",
                        [(cursor.lastrowid, c) for c in channels],
                    )
            db.execute("UPDATE alerts SET last_event_id = ? WHERE id = ?", (mark, alert.id))
        return created

    def due(self, max_attempts: int) -> list[dict[str, Any]]:
        """Deliveries not sent yet, with attempts left, whose backoff has passed."""
        with self.state.connect() as db:
            rows = db.execute(
                "SELECT d.hit_id, d.channel, d.attempts, h.*, a.name AS alert_name, a.spec AS alert_spec "
                "FROM deliveries d JOIN alert_hits h ON h.id = d.hit_id JOIN alerts a ON a.id = h.alert_id "
                "WHERE d.status != 'sent' AND d.attempts < ? AND (d.next_at IS NULL OR d.next_at <= ?) "
                "ORDER BY d.hit_id, d.channel",
                (max_attempts, now_iso()),
            ).fetchall()
        return [dict(r) for r in rows]

    def mark(self, hit_id: int, channel: str, error: str | None, retry_in: float = 0.0) -> None:
        """A delivery's outcome; a failed one is due again ``retry_in`` seconds from now."""
        next_at = (datetime.now(UTC) + timedelta(seconds=retry_in)).isoformat(timespec="seconds") if error else None
        with self.state.connect() as db:
            db.execute(
                "UPDATE deliveries SET attempts = attempts + 1, status = ?, last_error = ?, sent_at = ?, next_at = ? "
                "WHERE hit_id = ? AND channel = ?",
                ("failed" if error else "sent", error, None if error else now_iso(), next_at, hit_id, channel),
            )


def _alert(row: Any) -> Alert:
    spec = json.loads(row["spec"])
    return Alert(
        id=row["id"],
        name=row["name"],
        query=spec.get("query"),
        match_text=spec.get("match_text"),
        filters=dict(spec.get("filters") or {}),
        min_score=float(spec.get("min_score", 0.0)),
        webhook_url=spec.get("webhook_url"),
        email=spec.get("email"),
        has_secret=bool(row["secret"]),
        created_at=row["created_at"],
        owner=row["owner"],
    )


class AlertEvaluator:
    """Scores the new and changed documents of the events an alert has not seen against its text, with the
    dense retriever restricted to those documents and to the alert's filters; keeps those at ``min_score``
    or above (cosine similarity of the query to the document's best passage, calibrated across languages by
    ``SearchService.similar``)."""

    def __init__(self, alerts: AlertStore, search: SearchService) -> None:
        self.alerts = alerts
        self.search = search

    def run(self) -> AlertRun:
        outcome = AlertRun()
        for alert in self.alerts.all():
            events, mark = self.alerts.pending_events(alert)
            candidates: dict[tuple[str, int], list[dict[str, Any]]] = {}
            for event in events:
                if event["kind"] in ALERT_KINDS:
                    candidates.setdefault((event["document_id"], event["version"]), []).append(event)
            hits = self._score(alert, candidates) if candidates else []
            outcome.evaluated += len(candidates)
            outcome.hits += self.alerts.record(alert, hits, mark)
        return outcome

    def _score(self, alert: Alert, candidates: dict[tuple[str, int], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        latest = {doc: version for doc, version in sorted(candidates)}
        filters = SearchFilters(
            types=tuple(alert.filters.get("types") or ()),
            region=alert.filters.get("region"),
            status=alert.filters.get("status"),
            source=alert.filters.get("source"),
            programme=alert.filters.get("programme"),
            mission=alert.filters.get("mission"),
            beneficiary_type=alert.filters.get("beneficiary_type"),
            language=alert.filters.get("language"),
            document_ids=tuple(sorted(latest)),
        )
        found = self.search.similar(alert.text, filters, limit=len(latest))
        hits = []
        for hit in found:
            if hit.score < alert.min_score:
                continue
            version = latest[hit.document_id]
            events = candidates[(hit.document_id, version)]
            hits.append(
                {
                    "document_id": hit.document_id,
                    "version": version,
                    "kind": "new" if any(e["kind"] == "new" for e in events) else "changed",
                    "title": str(hit.payload.get("title") or hit.document_id),
                    "url": hit.payload.get("url"),
                    "score": round(float(hit.score), 4),
                    "changes": [e["message"] for e in events],
                }
            )
        return hits
