"""``/documents/{id}``: the call card: what the call says about itself (each value with the words it came from),
its dates on a timeline, its versions and change events, similar calls and, for PNRR, the funded projects of
the same measure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from convergenze.core.records import Chunk, FundedProject, SearchFilters
from convergenze.core.vocabulary import DocType, SearchMode
from convergenze.matching.service import funded_project
from convergenze.services.responses import DocumentOut, HitOut, document_out
from convergenze.services.wiring import Services

from ...deps import ServicesDep
from .. import messages, views
from ..i18n import N_, as_date, language
from ..templating import render, translate

router = APIRouter()
SIMILAR = 5
DATE_KINDS = {"opening": N_("Apertura"), "deadline": N_("Scadenza"), "other": N_("Altra data")}


@dataclass(slots=True)
class Moment:
    day: str
    kind: str
    evidence: str
    past: bool


def timeline(metadata: dict[str, Any], today: date) -> list[Moment]:
    """The call's dates in order: its opening and deadline, and every other date it mentions with the words
    around it (extracted evidence), each once."""
    extracted = metadata.get("extracted") or {}
    found: dict[tuple[str, str], Moment] = {}
    for item in extracted.get("dates") or []:
        if isinstance(item, dict) and as_date(item.get("value")):
            key = (str(item["value"])[:10], str(item.get("kind")))
            found.setdefault(key, Moment(str(item["value"]), str(item.get("kind") or "other"),
                                         str((item.get("evidence") or {}).get("text") or ""), False))
    for kind in ("opening", "deadline"):
        value = metadata.get(kind)
        if as_date(value) and (str(value)[:10], kind) not in found:
            found[(str(value)[:10], kind)] = Moment(str(value), kind, "", False)
    moments = sorted(found.values(), key=lambda m: m.day)
    for moment in moments:
        day = as_date(moment.day)
        moment.past = bool(day and day < today)
    return moments


def _head_vector(services: Services, document_id: str, chunks: list[dict[str, Any]]) -> list[float] | None:
    """The stored vector of the document's first passage (its point id comes from the passage itself)."""
    head = chunks[0]
    point = Chunk(document_id, int(head.get("position", 0)), str(head.get("text", ""))).point_id
    return services.store.dense_vectors([point]).get(point)


def _related(services: Services, document: DocumentOut, vector: list[float] | None
             ) -> tuple[list[HitOut], list[FundedProject]]:
    if vector is None:
        return [], []
    # Across languages, as overlaps compare: an Italian call's EU counterparts are among its similar calls.
    similar = services.search.similar(document.title, SearchFilters(types=(DocType.CALL,),
                                      exclude_ids=(document.id,)), SIMILAR, np.asarray(vector, dtype=np.float32))
    codes = [str(c) for c in document.metadata.get("submeasure_codes") or []] or (
        [str(document.metadata["submeasure_code"])] if document.metadata.get("submeasure_code") else [])
    projects: list[FundedProject] = []
    if document.type != "project":
        for code in codes[:3]:
            found = services.store.search(vector, None, SearchFilters(types=(DocType.PROJECT,), submeasure=code),
                                          SIMILAR, mode=SearchMode.DENSE)
            projects += [funded_project(hit, code) for hit in found]
    projects.sort(key=lambda p: -(p.amount or 0))
    return [HitOut.from_hit(h) for h in similar], projects[: SIMILAR * 2]


@router.get("/documents/{document_id:path}", response_class=HTMLResponse)
async def document_page(request: Request, services: ServicesDep, document_id: str) -> HTMLResponse:
    chunks = await run_in_threadpool(services.store.get_document_chunks, document_id[:200])
    if not chunks:
        return render(request, "error.html", {"message": translate(request, messages.DOCUMENT_NOT_FOUND)}, 404)
    document = document_out(document_id, chunks)
    lang, today = language(request), date.today()
    vector = await run_in_threadpool(_head_vector, services, document_id, chunks)
    similar, projects = await run_in_threadpool(_related, services, document, vector)
    notice = services.state.notice(document_id)
    versions, events = services.state.history(document_id) if notice else ([], [])
    meta = document.metadata
    item = HitOut(id=document.id, type=document.type, title=document.title, score=0.0, snippet="",
                  source=document.source, url=document.url, language=document.language,
                  metadata={**meta, "missions": [m.model_dump() for m in document.missions]})
    return render(request, "document.html", {
        "doc": document,
        "card": views.card(item, (), services.taxonomy, lang, today),
        "extracted": meta.get("extracted") or {},
        "timeline": timeline(meta, today),
        "missions": views.missions_of(item.metadata, services.taxonomy, lang, tuple(services.taxonomy.frameworks)),
        "notice": notice,
        "versions": versions,
        "events": events,
        "similar": [views.card(h, (), services.taxonomy, lang, today) for h in similar],
        "projects": projects,
        "date_kinds": DATE_KINDS,
    })
