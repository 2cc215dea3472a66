"""Durable per-source state in one SQLite file (WAL): HTTP validators, listing cursors, notice versions and
their change events.

A run reads it before fetching and writes it after the index has committed, so a run killed half-way
leaves it as it was before that run and the next run redoes the same work once: nothing lost, nothing
counted twice. Each method opens its own connection: the state object is cheap to pass to Prefect tasks.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS http_cache (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    body_path TEXT,
    fetched_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cursors (
    source TEXT NOT NULL,
    listing TEXT NOT NULL,
    next_page INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    PRIMARY KEY (source, listing)
);
CREATE TABLE IF NOT EXISTS notices (
    document_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    fields TEXT NOT NULL,
    status TEXT NOT NULL,
    withdrawn INTEGER NOT NULL DEFAULT 0,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notices_source ON notices (source);
CREATE TABLE IF NOT EXISTS versions (
    document_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    fields TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (document_id, version)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id TEXT NOT NULL,
    source TEXT NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_document ON events (document_id);
"""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Validators:
    """What a server said about a URL last time: send them back, a 304 means the cached body still holds."""

    etag: str | None
    last_modified: str | None
    body_path: Path | None


@dataclass(slots=True)
class NoticeState:
    document_id: str
    source: str
    version: int
    content_hash: str
    fields: dict[str, Any]
    status: str
    withdrawn: bool
    first_seen: str
    last_seen: str


@dataclass(frozen=True, slots=True)
class Event:
    document_id: str
    source: str
    version: int
    kind: str
    message: str
    recorded_at: str = field(default_factory=now_iso)


class StateStore:
    """The SQLite file under ``<CONVERGENZE_DATA>/state/``; created on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """One transaction: committed when the block succeeds, rolled back when it raises."""
        db = sqlite3.connect(self.path, timeout=30.0)
        try:
            # WAL: the API reads history and alerts while an ingestion writes.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.row_factory = sqlite3.Row
            with db:
                yield db
        finally:
            db.close()

    # ---- HTTP validators ----

    def validators(self, url: str) -> Validators | None:
        with self.connect() as db:
            row = db.execute("SELECT etag, last_modified, body_path FROM http_cache WHERE url = ?", (url,)).fetchone()
        if row is None:
            return None
        path = Path(row["body_path"]) if row["body_path"] else None
        return Validators(row["etag"], row["last_modified"], path)

    def save_validators(self, url: str, etag: str | None, last_modified: str | None, body_path: Path) -> None:
        with self.connect() as db:
            db.execute(
                "INSERT INTO http_cache (url, etag, last_modified, body_path, fetched_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(url) DO UPDATE SET etag=excluded.etag, last_modified=excluded.last_modified, "
                "body_path=excluded.body_path, fetched_at=excluded.fetched_at",
                (url, etag, last_modified, str(body_path), now_iso()),
            )

    # ---- listing cursors ----

    def cursor(self, source: str, listing: str) -> tuple[int, str] | None:
        """(next page, started at) of a listing that a previous run did not finish."""
        with self.connect() as db:
            row = db.execute(
                "SELECT next_page, started_at FROM cursors WHERE source = ? AND listing = ?", (source, listing)
            ).fetchone()
        return None if row is None else (int(row["next_page"]), str(row["started_at"]))

    def save_cursor(self, source: str, listing: str, next_page: int, started_at: str) -> None:
        with self.connect() as db:
            db.execute(
                "INSERT INTO cursors (source, listing, next_page, started_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(source, listing) DO UPDATE SET next_page=excluded.next_page, "
                "started_at=excluded.started_at",
                (source, listing, next_page, started_at),
            )

    def clear_cursor(self, source: str, listing: str) -> None:
        with self.connect() as db:
            db.execute("DELETE FROM cursors WHERE source = ? AND listing = ?", (source, listing))

    # ---- notices, versions, events ----

    def notices(self, source: str | None = None) -> dict[str, NoticeState]:
        return self._notices("source = ?", source) if source is not None else self._notices("1 = 1", None)

    def notice(self, document_id: str) -> NoticeState | None:
        return self._notices("document_id = ?", document_id).get(document_id)

    def _notices(self, where: str, value: str | None) -> dict[str, NoticeState]:
        with self.connect() as db:
            rows = db.execute(f"SELECT * FROM notices WHERE {where}", () if value is None else (value,)).fetchall()
        return {
            row["document_id"]: NoticeState(
                document_id=row["document_id"],
                source=row["source"],
                version=int(row["version"]),
                content_hash=row["content_hash"],
                fields=json.loads(row["fields"]),
                status=row["status"],
                withdrawn=bool(row["withdrawn"]),
                first_seen=row["first_seen"],
                last_seen=row["last_seen"],
            )
            for row in rows
        }

    def save(self, notices: list[NoticeState], new_versions: list[NoticeState], events: list[Event]) -> None:
        """Write a run's outcome in one transaction (called after the index committed)."""
        with self.connect() as db:
            db.executemany(
                "INSERT INTO notices (document_id, source, version, content_hash, fields, status, withdrawn, "
                "first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(document_id) DO UPDATE SET "
                "source=excluded.source, version=excluded.version, content_hash=excluded.content_hash, "
                "fields=excluded.fields, status=excluded.status, withdrawn=excluded.withdrawn, "
                "last_seen=excluded.last_seen",
                [
                    (n.document_id, n.source, n.version, n.content_hash, _dump(n.fields), n.status,
                     int(n.withdrawn), n.first_seen, n.last_seen)
                    for n in notices
                ],
            )
            db.executemany(
                "INSERT OR IGNORE INTO versions (document_id, version, content_hash, fields, recorded_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [(n.document_id, n.version, n.content_hash, _dump(n.fields), n.last_seen) for n in new_versions],
            )
            db.executemany(
                "INSERT INTO events (document_id, source, version, kind, message, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(e.document_id, e.source, e.version, e.kind, e.message, e.recorded_at) for e in events],
            )

    def history(self, document_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(versions, events) of a document, oldest first."""
        with self.connect() as db:
            versions = db.execute(
                "SELECT version, content_hash, fields, recorded_at FROM versions WHERE document_id = ? "
                "ORDER BY version",
                (document_id,),
            ).fetchall()
            events = db.execute(
                "SELECT id, version, kind, message, recorded_at FROM events WHERE document_id = ? ORDER BY id",
                (document_id,),
            ).fetchall()
        return (
            [{**dict(v), "fields": json.loads(v["fields"])} for v in versions],
            [dict(e) for e in events],
        )

    def events_since(self, after_id: int) -> list[dict[str, Any]]:
        with self.connect() as db:
            rows = db.execute("SELECT * FROM events WHERE id > ? ORDER BY id", (after_id,)).fetchall()
        return [dict(r) for r in rows]


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
