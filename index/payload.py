"""The payload stored with every point: what filters use (indexed fields) and what results show."""

from __future__ import annotations

from typing import Any

from convergenze.records import Document

# Fields with a payload index in both store backends; filters may only use these.
INDEXED_FIELDS = (
    "document_id",
    "type",
    "source",
    "language",
    "region",
    "status",
    "programme",
    "mission_codes",
    "beneficiary_types",
    "deadline",
)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return sorted({str(v) for v in value if v})
    return [str(value)]


def document_payload(document: Document) -> dict[str, Any]:
    meta = document.metadata
    return {
        "document_id": document.id,
        "type": document.type.value,
        "source": document.source,
        "title": document.title,
        "url": document.url,
        "language": document.language,
        "content_hash": document.content_hash,
        "region": _as_list(meta.get("region")),
        "status": meta.get("status") or "unknown",
        "deadline": meta.get("deadline"),
        "programme": _as_list(meta.get("programme")),
        "mission_codes": _as_list(meta.get("mission_codes")),
        "beneficiary_types": _as_list(meta.get("beneficiary_types")),
        "metadata": meta,
    }
