"""What a page shows of a document, read from its payload once: the result card of search, match, overlaps,
calendar and home, and the highlighted snippet."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from markupsafe import Markup, escape

from convergenze.core.payload import DocumentPayload, budget_of
from convergenze.core.records import Hit, SearchFilters
from convergenze.extractors.taxonomy import Taxonomy
from convergenze.index.store.base import VectorStore
from convergenze.matching.catalog import NATIONAL, UNSPECIFIED
from convergenze.matching.catalog_build import territories
from convergenze.services.responses import HitOut

from .i18n import as_date

_WORD = re.compile(r"\w+", re.UNICODE)
# Words too common in calls to be worth highlighting, even when typed.
_COMMON = frozenset(
    "alla alle allo anche bando bandi come con dal dalla dall dei del dell della delle dello degli gli nel nell "
    "nella nelle nello per sono sul sull sulla una uno che the and for with from that this into".split()
)
SNIPPET_CHARS = 320
ALL_REGIONS = 20


def _fold(text: str) -> str:
    """Case and accents folded: 'Attività' and 'attivita' compare equal."""
    return "".join(c for c in unicodedata.normalize("NFD", text.casefold()) if not unicodedata.combining(c))


def query_stems(query: str) -> tuple[str, ...]:
    """The query's words cut to a stem ('imprese' -> 'impre'), so 'impresa' and 'imprese' both light up."""
    stems = []
    for word in _WORD.findall(query):
        folded = _fold(word)
        if len(folded) < 3 or folded in _COMMON or folded.isdigit():
            continue
        stems.append(folded if len(folded) <= 4 else folded[: max(4, len(folded) - 2)])
    return tuple(dict.fromkeys(stems))


def highlight(text: str, stems: tuple[str, ...], limit: int | None = SNIPPET_CHARS) -> Markup:
    """``text`` escaped, its words that start with a stem in ``<mark>``; cut to about ``limit`` characters
    around the first of them."""
    if limit is not None and len(text) > limit:
        first = next((m.start() for m in _WORD.finditer(text) if _fold(m.group()).startswith(stems or ("\0",))),
                     0)
        start = max(0, first - limit // 3)
        start = text.rfind(" ", 0, start) + 1 if start else 0
        end = text.find(" ", start + limit)
        text = ("… " if start else "") + text[start: end if end > 0 else None].strip() + (" …" if end > 0 else "")
    out, last = [], 0
    for match in _WORD.finditer(text):
        if stems and _fold(match.group()).startswith(stems):
            out += [escape(text[last: match.start()]), Markup("<mark>"), escape(match.group()), Markup("</mark>")]
            last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


@dataclass(slots=True)
class Mission:
    framework: str
    code: str
    label: str
    evidence: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Card:
    """A document as a result card shows it."""

    id: str
    type: str
    title: str
    url: str | None
    source: str
    status: str
    deadline: str | None
    days_left: int | None
    budget: float | None
    issuer: str | None
    territory: list[str]
    missions: list[Mission]
    programmes: list[str]
    snippet: Markup
    non_call_kind: str | None = None


def missions_of(metadata: dict[str, Any], taxonomy: Taxonomy, lang: str,
                frameworks: tuple[str, ...] = ("convergenze", "pnrr")) -> list[Mission]:
    """The document's missions in ``frameworks`` (strongest first), labelled in ``lang``."""
    found = [m for m in metadata.get("missions") or [] if isinstance(m, dict) and m.get("framework") in frameworks]
    found.sort(key=lambda m: (frameworks.index(m["framework"]), -float(m.get("score") or 0)))
    return [Mission(m["framework"], str(m.get("code")), _label(taxonomy, m, lang),
                    [str(e) for e in m.get("evidence") or []]) for m in found]


def _label(taxonomy: Taxonomy, mission: dict[str, Any], lang: str) -> str:
    framework, code = mission["framework"], str(mission.get("code"))
    if taxonomy.has(framework, code):
        return taxonomy.label(framework, code, lang)
    return str(mission.get("label") or code)


def card(item: HitOut, stems: tuple[str, ...], taxonomy: Taxonomy, lang: str, today: date) -> Card:
    """The card of a result as the API returns it (``HitOut`` and its subclasses: one reading for every page)."""
    meta = item.metadata
    day = as_date(meta.get("deadline"))
    programmes = meta.get("programme") or []
    document = DocumentPayload.from_payload({"document_id": item.id, "type": item.type, "source": item.source,
                                             "region": meta.get("region"), "metadata": meta})
    # every region listed one by one is the whole country
    places = [NATIONAL] if len(set(document.region)) >= ALL_REGIONS else territories(document)
    return Card(
        id=item.id,
        type=item.type,
        title=item.title,
        url=item.url,
        source=item.source,
        status=str(meta.get("status") or "unknown"),
        deadline=str(meta["deadline"]) if meta.get("deadline") else None,
        days_left=(day - today).days if day else None,
        budget=budget_of(meta),
        issuer=document.issuer or document.administration or document.implementing_body,
        territory=[p for p in places if p != UNSPECIFIED],
        missions=[m for m in missions_of(meta, taxonomy, lang) if m.framework == "convergenze" or len(m.code) == 2],
        programmes=[str(p) for p in (programmes if isinstance(programmes, list) else [programmes])],
        snippet=highlight(item.snippet, stems),
        non_call_kind=item.non_call_kind,
    )


def hit_out(payload: dict[str, Any]) -> HitOut:
    """A stored head chunk's payload (a listing without a query: calendar, home) as a result."""
    return HitOut.from_hit(Hit(str(payload.get("document_id")), 0.0, str(payload.get("text") or ""), payload))


LISTING_FIELDS = ("document_id", "type", "title", "url", "source", "language", "status", "deadline", "metadata")
UPCOMING = ("open", "forthcoming")


def upcoming(store: VectorStore, filters: SearchFilters, today: date) -> list[HitOut]:
    """Open and forthcoming calls whose deadline is today or later, soonest first (the calendar, the home)."""
    narrowed = dataclasses.replace(filters, types=("call",), deadline_from=max(today, filters.deadline_from or today))
    # A recruitment competition has a deadline too, but it is no call to put in a funding calendar.
    heads = [p for p in store.document_heads(LISTING_FIELDS, narrowed)
             if p.get("status") in UPCOMING and DocumentPayload.from_payload(p).non_call_kind is None]
    heads.sort(key=lambda p: (str(p.get("deadline")), str(p.get("title"))))
    return [hit_out(p) for p in heads]
