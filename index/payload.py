"""The payload stored with every point: what filters use (indexed fields) and what results show."""

from __future__ import annotations

from typing import Any

from convergenze.core.records import Document
from convergenze.core.vocabulary import CallStatus


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return sorted({str(v) for v in value if v})
    return [str(value)]


def _budget(meta: dict[str, Any]) -> float | None:
    """The money a document is about: a call's total budget, a measure's allocation, a project's funding."""
    for key in ("budget_total", "budget_pnrr", "total_amount", "amount_pnrr", "budget_max"):
        value = meta.get(key)
        if isinstance(value, int | float) and value > 0:
            return float(value)
    return None


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
        "status": meta.get("status") or CallStatus.UNKNOWN,
        "deadline": meta.get("deadline"),
        "programme": _as_list(meta.get("programme")),
        "mission_codes": _as_list(meta.get("mission_codes")),
        "beneficiary_types": _as_list(meta.get("beneficiary_types")),
        # PNRR sub-measure codes: a measure's own, a call's, the ones that funded a project (the join key for
        # "projects like yours were funded here").
        "submeasure_codes": _as_list(meta.get("submeasure_codes") or meta.get("submeasure_code")),
        "budget": _budget(meta),
        "metadata": meta,
    }
