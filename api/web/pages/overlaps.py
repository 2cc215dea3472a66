"""``/overlaps``: a foundation's programme (typed or a file) -> the initiatives it overlaps (a risk of
duplication) and those it completes (a coalition), with the reasons, the four criteria and the partners:
``POST /v1/overlaps``'s function and response builder."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from convergenze.core.errors import ConvergenzeError
from convergenze.core.vocabulary import TextSource
from convergenze.services.responses import OverlapOut
from convergenze.services.wiring import Services

from ...deps import ServicesDep
from ...inputs import MAX_TEXT_CHARS
from ...limits import rate_limited
from ...models import OverlapRequest
from ...routes.overlaps import run_overlaps
from .. import forms, messages, reasons, views
from ..i18n import language
from ..templating import render, translate, web_of

router = APIRouter()
FIELDS = ("text", "region", "municipality", "actor_type")
RESULTS = 10


@router.get("/overlaps", response_class=HTMLResponse)
def overlaps_form(request: Request, services: ServicesDep) -> HTMLResponse:
    return _page(request, services, {name: request.query_params.get(name, "") for name in FIELDS}, None, None)


@router.post("/overlaps", response_class=HTMLResponse)
async def overlaps_page(request: Request, services: ServicesDep) -> HTMLResponse:
    posted = await forms.read_form(request, FIELDS, services.settings.api.max_upload_bytes)
    fields = posted.fields
    if posted.error:
        return _page(request, services, fields, None, translate(request, posted.error), 400)
    if posted.upload and fields["text"]:
        return _page(request, services, fields, None, translate(request, messages.TEXT_AND_FILE), 400)
    text = posted.upload.text[:MAX_TEXT_CHARS] if posted.upload else fields["text"]
    if not text.strip():
        return _page(request, services, fields, None, translate(request, messages.PROGRAMME_EMPTY), 400)
    body: dict[str, Any] = {"text": text, "limit": RESULTS, **{k: fields[k] for k in FIELDS[1:] if fields[k]}}
    try:
        rate_limited("overlaps")(request, web_of(request).session.caller(request))  # the API route's budget
        result = await run_overlaps(request, services, OverlapRequest.model_validate(body),
                                    posted.upload.kind if posted.upload else TextSource.TEXT)
    except (ValidationError, HTTPException, ConvergenzeError) as error:
        return _page(request, services, fields, None, *forms.failure(request, error))
    return _page(request, services, fields, result, None)


def _page(request: Request, services: Services, fields: dict[str, str], result: OverlapOut | None,
          error: str | None, status_code: int = 200) -> HTMLResponse:
    lang, today = language(request), date.today()
    groups = []
    if result is not None:
        for key, items in (("overlap", result.overlaps), ("complement", result.complements)):
            groups.append((key, [{"item": i, "card": views.card(i, (), services.taxonomy, lang, today)}
                                 for i in items]))
    return render(request, "overlaps.html", {
        "fields": fields,
        "error": error,
        "result": result,
        "groups": groups,
        "partners": [{"p": p, "reason": reasons.in_language(p.reason, lang)} for p in (result.partners if result
                                                                                         else [])],
        "regions": forms.region_names(services),
        "mission_labels": views.missions_of({"missions": result.missions}, services.taxonomy, lang)
        if result else [],
    }, status_code=status_code)
