"""The typed records that cross stage boundaries.

Every stage (connectors -> extractors -> index -> api) imports from here and from nowhere upstream, so the
pipeline has no import cycles. Dataclasses inside the pipeline; pydantic only at the API and in settings.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

# A fixed namespace: point ids must be stable across machines and runs (idempotent upserts).
POINT_NAMESPACE = uuid.UUID("6b1c5a52-2f0e-4d0c-9a57-3c7f4d0e9b11")


class DocType(StrEnum):
    CALL = "call"
    MEASURE = "measure"
    PROJECT = "project"
    PROGRAMME = "programme"
    POLICY = "policy"


def stable_hash(*parts: Any) -> str:
    """sha256 over a canonical JSON rendering of ``parts`` (dict key order does not matter)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Section:
    """A titled part of a document (a PDF page range, an EU topic's 'Scope', a milestone list)."""

    text: str
    heading: str | None = None
    language: str | None = None


@dataclass(slots=True)
class Document:
    """One source record as read by a connector: a call, a measure, a funded project, a programme.

    ``metadata`` holds the source's own structured fields under stable English keys (official codes such as
    ``mission_code``, ``submeasure_code``, ``cup``; dates as ISO strings; amounts as floats in euro).
    """

    id: str
    source: str
    type: DocType
    title: str
    sections: list[Section]
    url: str | None = None
    language: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id or ":" not in self.id:
            raise ValueError(f"Document id {self.id!r} must look like '<kind>:<key>', e.g. 'eu-topic:ERC-2026-POC'.")

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections if s.text)

    @property
    def content_hash(self) -> str:
        """Hash of everything that is indexed: a changed hash means the document's points are replaced."""
        return stable_hash(
            self.title,
            [(s.heading, s.text) for s in self.sections],
            self.url,
            self.type.value,
            self.metadata,
        )


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of a document, the unit that is embedded and stored as one Qdrant point."""

    document_id: str
    position: int
    text: str
    heading: str | None = None
    language: str | None = None

    @property
    def point_id(self) -> str:
        """UUID derived from the document, the position and the passage text: re-ingesting is an upsert."""
        digest = hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:16]
        return str(uuid.uuid5(POINT_NAMESPACE, f"{self.document_id}#{self.position}#{digest}"))


@dataclass(frozen=True, slots=True)
class SparseVector:
    indices: list[int]
    values: list[float]


@dataclass(frozen=True, slots=True)
class IndexedChunk:
    """A chunk ready for the store: its vectors and the payload that filters and results read."""

    chunk: Chunk
    dense: list[float]
    sparse: SparseVector
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Exact-match filters on payload fields; ``None`` means no constraint."""

    types: tuple[str, ...] = ()
    language: str | None = None
    region: str | None = None
    status: str | None = None
    source: str | None = None
    programme: str | None = None
    mission: str | None = None
    deadline_from: date | None = None
    deadline_to: date | None = None
    exclude_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    """One document in a result list: its best passage and the document-level payload."""

    document_id: str
    score: float
    snippet: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record that was not indexed, with the reason in plain words (kept in the ingestion report)."""

    source: str
    ref: str
    reason: str
