"""Regional notice APIs: Emilia-Romagna (Plone REST), Lazio Innova (WordPress REST). Each reads the API's own
response shape, captured or live. (incentivi.gov.it, export and Solr index: ``incentivi.py``.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from convergenze.core.records import Document, Section
from convergenze.core.vocabulary import CallStatus, DocType

from .base import Connector, ConnectorResult
from .fields import clean_cell, fix_text, html_to_text, parse_date, status_from_dates

_PLONE_STATES = {
    "open": CallStatus.OPEN,
    "inProgress": CallStatus.OPEN,
    "closed": CallStatus.CLOSED,
    "scheduled": CallStatus.FORTHCOMING,
}


def _load_items(path: Path, key: str, result: ConnectorResult) -> list[Any]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        result.skip(path.name, f"malformed file: not valid JSON ({error})")
        return []
    items = payload.get(key) if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        result.skip(path.name, f"malformed file: no list under {key!r}")
        return []
    return items


class EmiliaRomagnaPloneConnector(Connector):
    """``@search?portal_type=Bando&fullobjects=true`` items."""

    def run(self) -> ConnectorResult:
        result = ConnectorResult(self.name)
        for index, item in enumerate(_load_items(self.files["search"], "items", result)):
            if not isinstance(item, dict) or not clean_cell(item.get("UID")) or not clean_cell(item.get("title")):
                result.skip(f"item {index}", "malformed record: no UID or no title")
                continue
            result.documents.append(self._document(item))
        return result

    def _document(self, item: dict[str, Any]) -> Document:
        title = fix_text(str(item["title"]).strip())
        body = item.get("text") or {}
        body_text = html_to_text(body.get("data", "")) if isinstance(body, dict) else ""
        opening, deadline = parse_date(item.get("apertura_bando")), parse_date(item.get("scadenza_bando"))
        state = item.get("bando_state") or []
        official = state[0] if isinstance(state, list) and state else None
        status = status_from_dates(opening, deadline, self.today)
        if status in (CallStatus.UNKNOWN, CallStatus.OPEN) and _PLONE_STATES.get(str(official)) == CallStatus.CLOSED:
            status = CallStatus.CLOSED
        recipients = [fix_text(str(r)) for r in item.get("destinatari") or []]
        topics = [fix_text(str(m)) for m in item.get("materie") or []]
        lines = [
            title,
            clean_cell(item.get("description")),
            body_text,
            f"Destinatari: {', '.join(recipients)}" if recipients else None,
            f"Materie: {', '.join(topics)}" if topics else None,
            f"Tipologia: {item.get('tipologia_bando')}" if item.get("tipologia_bando") else None,
        ]
        return Document(
            id=f"er-bando:{item['UID']}",
            source=self.name,
            type=DocType.CALL,
            title=title,
            sections=[Section(text="\n".join(x for x in lines if x))],
            url=clean_cell(item.get("@id")),
            language="it",
            metadata={
                "issuer": clean_cell(item.get("ente_bando")) or "Regione Emilia-Romagna",
                "region": ["Emilia-Romagna"],
                "opening": opening,
                "deadline": deadline,
                "official_status": official,
                "status": status,
                "recipients": recipients,
                "topics": topics,
                "call_kind": clean_cell(item.get("tipologia_bando")),
                "published": parse_date(item.get("effective")),
            },
        )


class LazioInnovaWordPressConnector(Connector):
    """``/wp-json/wp/v2/bandi`` posts: HTML content, taxonomy classes (tematiche-, destinatari-, ...)."""

    def run(self) -> ConnectorResult:
        result = ConnectorResult(self.name)
        for index, post in enumerate(_load_items(self.files["posts"], "posts", result)):
            title = html_to_text(_rendered(post.get("title"))) if isinstance(post, dict) else ""
            if not isinstance(post, dict) or not post.get("id") or not title:
                result.skip(f"post {index}", "malformed record: no id or no title")
                continue
            content = html_to_text(_rendered(post.get("content")))
            if not content:
                result.skip(f"post {post['id']}", "empty text: the post has no content")
                continue
            result.documents.append(self._document(post, title, content))
        return result

    def _document(self, post: dict[str, Any], title: str, content: str) -> Document:
        classes = [str(c) for c in post.get("class_list") or []]
        taxonomy = {
            prefix: [c.removeprefix(prefix + "-").replace("-", " ") for c in classes if c.startswith(prefix + "-")]
            for prefix in ("tematiche", "destinatari", "tipologie")
        }
        excerpt = html_to_text(_rendered(post.get("excerpt")))
        sections = [Section(text=f"{title}\n{excerpt}".strip(), heading=None)]
        sections.append(Section(text=content))
        return Document(
            id=f"lazioinnova-bando:{post['id']}",
            source=self.name,
            type=DocType.CALL,
            title=title,
            sections=sections,
            url=clean_cell(post.get("link")),
            language="it",
            metadata={
                "issuer": "Lazio Innova - Regione Lazio",
                "region": ["Lazio"],
                "published": parse_date(str(post.get("date") or "")[:10]),
                "topics": taxonomy["tematiche"],
                "recipients": taxonomy["destinatari"],
                "instrument": taxonomy["tipologie"],
                "status": CallStatus.UNKNOWN,
            },
        )


def _rendered(value: Any) -> str:
    if isinstance(value, dict):
        return fix_text(str(value.get("rendered") or ""))
    return fix_text(str(value or ""))
