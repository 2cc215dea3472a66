"""The payload every point of a document carries in Qdrant, written by ``document_payload`` and read back as a
typed ``DocumentPayload``: what filters use (indexed fields) and what results, eligibility and the catalog read.

``metadata`` keeps each source's own fields under stable English keys; the ones read across the project have
a typed property here, so consumers do not repeat ``payload.get("metadata", {}).get(...)`` and its guards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .formatting import euro, italian_date
from .records import CallMetadata, Document, MissionLabel, from_dict
from .vocabulary import CallStatus, DocType, NonCallKind

_DATE_FACTS = ("opening", "deadline")


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return sorted({str(v) for v in value if v})
    return [str(value)]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _positive(value: Any) -> float | None:
    number = _number(value)
    return number if number is not None and number > 0 else None


def budget_of(meta: Mapping[str, Any]) -> float | None:
    """The money a document is about: a call's total budget, a measure's allocation, a project's funding."""
    for key in ("budget_total", "budget_pnrr", "total_amount", "amount_pnrr", "budget_max"):
        value = _number(meta.get(key))
        if value is not None and value > 0:
            return value
    return None


# How many of a document's stated objectives a match compares with the description (the first ones): the
# ingestion embeds as many ahead of time.
EXPLAINED_OBJECTIVES = 4


def objective_texts(meta: Mapping[str, Any], limit: int = EXPLAINED_OBJECTIVES) -> list[str]:
    """The texts of the first ``limit`` objective statements stored in a document's metadata."""
    found = meta.get("objectives") or []
    return [str(o["text"]) for o in found if isinstance(o, Mapping) and o.get("text")][:limit]


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
        "support_forms": _as_list(meta.get("support_forms")),
        "firm_sizes": _as_list(meta.get("firm_sizes")),
        # PNRR sub-measure codes: a measure's own, a call's, the ones that funded a project (the join key for
        # "projects like yours were funded here").
        "submeasure_codes": _as_list(meta.get("submeasure_codes") or meta.get("submeasure_code")),
        "budget": budget_of(meta),
        "metadata": meta,
    }


@dataclass(frozen=True, slots=True)
class PlaceRef:
    """A place a funded project is located in (ISTAT names)."""

    region: str | None = None
    province: str | None = None
    municipality: str | None = None
    istat_code: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentPayload:
    """A document's stored fields, typed. ``from_payload`` accepts a chunk's payload (its chunk fields are
    ignored) or a document head read with a subset of the fields (the others take their defaults)."""

    document_id: str
    type: DocType
    source: str = ""
    title: str = ""
    url: str | None = None
    language: str | None = None
    content_hash: str = ""
    region: list[str] = field(default_factory=list)
    status: CallStatus = CallStatus.UNKNOWN
    deadline: str | None = None
    programme: list[str] = field(default_factory=list)
    mission_codes: list[str] = field(default_factory=list)
    beneficiary_types: list[str] = field(default_factory=list)
    support_forms: list[str] = field(default_factory=list)
    firm_sizes: list[str] = field(default_factory=list)
    submeasure_codes: list[str] = field(default_factory=list)
    budget: float | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> DocumentPayload:
        status = payload.get("status") or CallStatus.UNKNOWN
        return cls(
            document_id=str(payload.get("document_id") or ""),
            type=DocType(payload.get("type") or DocType.CALL),
            source=str(payload.get("source") or ""),
            title=str(payload.get("title") or ""),
            url=payload.get("url"),
            language=payload.get("language"),
            content_hash=str(payload.get("content_hash") or ""),
            region=[r for r in _as_list(payload.get("region")) if r],
            status=CallStatus(status) if status in set(CallStatus) else CallStatus.UNKNOWN,
            deadline=payload.get("deadline"),
            programme=_as_list(payload.get("programme")),
            mission_codes=_as_list(payload.get("mission_codes")),
            beneficiary_types=_as_list(payload.get("beneficiary_types")),
            support_forms=_as_list(payload.get("support_forms")),
            firm_sizes=_as_list(payload.get("firm_sizes")),
            submeasure_codes=_as_list(payload.get("submeasure_codes")),
            budget=_number(payload.get("budget")),
            metadata=payload.get("metadata") or {},
        )

    # --- the source fields read across the project ---

    def _text(self, key: str) -> str | None:
        value = self.metadata.get(key)
        return str(value) if value not in (None, "") else None

    @property
    def opening(self) -> str | None:
        return self._text("opening")

    @property
    def issuer(self) -> str | None:
        return self._text("issuer")

    @property
    def issuer_tax_code(self) -> str | None:
        return self._text("issuer_tax_code")

    @property
    def administration(self) -> str | None:
        """A PNRR measure's owning administration."""
        return self._text("administration")

    @property
    def implementing_body(self) -> str | None:
        """A funded project's implementer."""
        return self._text("implementing_body")

    @property
    def implementing_body_tax_code(self) -> str | None:
        return self._text("implementing_body_tax_code")

    @property
    def amount_pnrr(self) -> float | None:
        """A funded project's PNRR funding."""
        return _number(self.metadata.get("amount_pnrr"))

    @property
    def grant_min(self) -> float | None:
        """The smallest aid the source says one applicant may get (incentivi.gov.it: Agevolazione concedibile)."""
        return _positive(self.metadata.get("grant_min"))

    @property
    def grant_max(self) -> float | None:
        return _positive(self.metadata.get("grant_max"))

    @property
    def cost_min(self) -> float | None:
        """The smallest eligible project cost the source states (incentivi.gov.it: Spesa ammessa)."""
        return _positive(self.metadata.get("cost_min"))

    @property
    def cost_max(self) -> float | None:
        return _positive(self.metadata.get("cost_max"))

    def official(self, key: str) -> str | None:
        """A fact as the source published it, in its own field's words ("Agevolazione concedibile max:
        € 200.000,00"): only for the keys the connector names in ``metadata.official_fields`` (a value the
        extractor filled in is not the source's word)."""
        label = (self.metadata.get("official_fields") or {}).get(key)
        value = self.metadata.get(key)
        if not label or value is None or value == "" or value == []:
            return None
        if key in _DATE_FACTS:
            shown = italian_date(value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            shown = euro(value)
        elif isinstance(value, list | tuple):
            shown = ", ".join(str(v) for v in value)
        else:
            shown = str(value)
        return f"{label}: {shown}"

    @property
    def rolling(self) -> bool:
        """The source says it is open until the resources run out ("a sportello")."""
        return bool(self.metadata.get("rolling"))

    @property
    def national(self) -> bool:
        return bool(self.metadata.get("national"))

    @property
    def withdrawn(self) -> bool:
        return self.status == CallStatus.WITHDRAWN or bool(self.metadata.get("withdrawn"))

    @property
    def recipients(self) -> str | None:
        """The source's own wording of who may apply, when it has one."""
        value = self.metadata.get("recipients")
        if isinstance(value, list):
            return "; ".join(str(v) for v in value if v) or None
        return self._text("recipients")

    @property
    def places(self) -> list[PlaceRef]:
        return [from_dict(PlaceRef, p) for p in self.metadata.get("places") or [] if isinstance(p, Mapping)]

    @property
    def extracted(self) -> CallMetadata | None:
        """What the extractor read in the text, with evidence (calls, programmes and policies only)."""
        found = self.metadata.get("extracted")
        return CallMetadata.from_dict(found) if isinstance(found, Mapping) else None

    @property
    def non_call_kind(self) -> NonCallKind | None:
        """What the document is when the extractor read in its text that it is not a funding call (a
        recruitment competition, a circular, webinar slides...); None for a call and for the structured records
        no text was read for. Read from the stored flags alone: a result list asks it of every hit."""
        found = self.metadata.get("extracted")
        if not isinstance(found, Mapping) or found.get("is_funding_call", True) is not False:
            return None
        kind = found.get("non_call_kind")
        # An index written before the kinds were named keeps the flag: any unnamed kind is still not a call.
        return NonCallKind(kind) if kind in set(NonCallKind) else NonCallKind.OTHER

    @property
    def missions(self) -> list[MissionLabel]:
        return [from_dict(MissionLabel, m) for m in self.metadata.get("missions") or []
                if isinstance(m, Mapping) and m.get("code")]
