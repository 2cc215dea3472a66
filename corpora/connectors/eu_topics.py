"""EU Funding & Tenders call topics (the portal's topic records, as captured in ``topics.json``)."""

from __future__ import annotations

import json
import re
from typing import Any

from convergenze.core.records import Document, Section
from convergenze.core.vocabulary import CallStatus, DocType

from .base import Connector, ConnectorResult
from .fields import clean_cell, fix_text, html_to_text, parse_amount, parse_date, status_from_dates

# The portal concatenates headings with their text ("Objective:The ERC ..."): split them back into sections.
_HEADINGS = (
    "Expected Outcome",
    "Expected Outcomes",
    "Objective",
    "Objectives",
    "Scope",
    "Expected Impact",
    "Specific conditions",
    "Eligibility",
    "Themes and priorities",
    "Description",
)
_HEADING_RE = re.compile(r"(?:(?<=[.:!?\s])|^)(" + "|".join(re.escape(h) for h in _HEADINGS) + r")\s*:", re.MULTILINE)
_STATUS = {"open": CallStatus.OPEN, "forthcoming": CallStatus.FORTHCOMING, "closed": CallStatus.CLOSED}


class EuTopicsConnector(Connector):
    def run(self) -> ConnectorResult:
        result = ConnectorResult(self.name)
        try:
            records = json.loads(self.files["topics"].read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            result.skip(str(self.files["topics"]), f"malformed file: not valid JSON ({error})")
            return result
        if not isinstance(records, list):
            result.skip(str(self.files["topics"]), "malformed file: expected a list of topics")
            return result
        for index, record in enumerate(records):
            topic_id = clean_cell(record.get("topicId")) if isinstance(record, dict) else None
            title = _text_cell(record.get("title")) if isinstance(record, dict) else None
            if not isinstance(record, dict) or not topic_id or not title:
                result.skip(f"item {index}", "malformed record: no topicId or no title")
                continue
            result.documents.append(self._document(topic_id, title, record))
        return result

    def _document(self, topic_id: str, title: str, record: dict[str, Any]) -> Document:
        text = lambda key: html_to_text(str(record.get(key) or ""))  # noqa: E731
        sections = [Section(text=f"{title}\n{_text_cell(record.get('callTitle')) or ''}".strip())]
        sections += _split_sections(text("description"))
        if objectives := text("objectives"):
            sections.append(Section(text=objectives, heading="Objectives"))
        if conditions := text("topicConditions").lstrip('">'):
            sections.append(Section(text=conditions, heading="Conditions"))
        deadline = parse_date(record.get("deadline"))
        official = (clean_cell(record.get("callStatus")) or "").lower()
        status = _STATUS.get(official) or status_from_dates(None, deadline, self.today)
        if status == CallStatus.OPEN and deadline and deadline < self.today.isoformat():
            status = CallStatus.CLOSED  # the capture's status is as of its date; the deadline is a fact.
        programme = _text_cell(record.get("programme")) or ""
        cluster = _text_cell(record.get("cluster")) or ""
        meta = {
            "topic_id": topic_id,
            "call_identifier": clean_cell(record.get("callIdentifier")),
            "call_title": _text_cell(record.get("callTitle")),
            "programme": [p for p in (programme,) if p],
            "cluster": cluster or None,
            "action_type": clean_cell(record.get("actionType")),
            "types_of_action": _text_cell(record.get("typesOfAction")),
            "deadline": deadline,
            "deadline_model": clean_cell(record.get("deadlineModel")),
            "stage": clean_cell(record.get("stage")),
            "official_status": official or None,
            "status": status,
            "budget_min": parse_amount(record.get("budgetMin")),
            "budget_max": parse_amount(record.get("budgetMax")),
            "expected_grants": parse_amount(record.get("expectedGrants")),
            "keywords": sorted({k.strip() for k in str(record.get("keywords") or "").split(",") if k.strip()}),
            "region": [],
        }
        return Document(
            id=f"eu-topic:{topic_id}",
            source=self.name,
            type=DocType.CALL,
            title=title,
            sections=[s for s in sections if s.text],
            url=clean_cell(record.get("portalUrl")),
            metadata=meta,
        )


def _text_cell(value: Any) -> str | None:
    """A free-text field: mojibake repaired on the raw value first (see ``fix_text``), then cleaned."""
    return clean_cell(fix_text(value)) if isinstance(value, str) else clean_cell(value)


def _split_sections(text: str) -> list[Section]:
    if not text:
        return []
    parts = _HEADING_RE.split(text)
    sections = [Section(text=parts[0].strip())] if parts[0].strip() else []
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        if body.strip():
            sections.append(Section(text=body.strip(), heading=heading))
    return sections
