"""``/match``: a project (typed, or a PDF/DOCX/TXT) and who applies -> the calls and measures ``POST /v1/match``
ranks, in the same order (the same function and response builder), each with its eligibility per criterion,
why it matched, funded projects like it; and partners to contact."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from convergenze.core.errors import ConvergenzeError
from convergenze.core.vocabulary import TextSource
from convergenze.services.responses import MatchOut
from convergenze.services.wiring import Services

from ...deps import ServicesDep
from ...inputs import MAX_TEXT_CHARS
from ...limits import rate_limited
from ...models import ConvergenceMatchRequest
from ...routes.match import run_match
from .. import forms, messages, reasons, views
from ..i18n import language
from ..templating import render, translate, web_of

router = APIRouter()
FIELDS = ("text", "actor_type", "region", "municipality", "budget_needed", "needed_by", "ineligible")
RESULTS = 10
PASSAGE_CHARS = 600  # of each passage of the pair shown side by side, around the first shared word


def request_from(fields: dict[str, str], text: str, lang: str) -> ConvergenceMatchRequest:
    """The API's request for the form's fields (empty ones are absent); raises ValidationError."""
    profile: dict[str, Any] = {k: fields[k] for k in ("actor_type", "region", "municipality", "needed_by")
                               if fields.get(k)}
    if fields.get("budget_needed"):
        profile["budget_needed"] = forms.amount(fields["budget_needed"], lang)
    body: dict[str, Any] = {"text": text, "limit": RESULTS, "profile": profile or None}
    if fields.get("ineligible"):
        body["ineligible"] = fields["ineligible"]
    return ConvergenceMatchRequest.model_validate(body)


@router.get("/match", response_class=HTMLResponse)
def match_form(request: Request, services: ServicesDep) -> HTMLResponse:
    fields = {name: request.query_params.get(name, "") for name in FIELDS}
    return _page(request, services, fields, None, None)


@router.post("/match", response_class=HTMLResponse)
async def match_page(request: Request, services: ServicesDep) -> HTMLResponse:
    posted = await forms.read_form(request, FIELDS, services.settings.api.max_upload_bytes)
    fields, lang = posted.fields, language(request)
    if posted.error:
        return _page(request, services, fields, None, translate(request, posted.error), 400)
    if posted.upload and fields["text"]:
        return _page(request, services, fields, None, translate(request, messages.TEXT_AND_FILE), 400)
    text = posted.upload.text[:MAX_TEXT_CHARS] if posted.upload else fields["text"]
    if not text.strip():
        return _page(request, services, fields, None, translate(request, messages.TEXT_EMPTY), 400)
    try:
        rate_limited("match")(request, web_of(request).session.caller(request))  # the API route's budget
        body = request_from(fields, text, lang)
        result = await run_match(request, services, body, posted.upload.kind if posted.upload else TextSource.TEXT)
    except (ValidationError, HTTPException, ConvergenzeError) as error:
        return _page(request, services, fields, None, *forms.failure(request, error))
    if posted.upload:
        fields = {**fields, "uploaded": posted.upload.kind}
    return _page(request, services, fields, result, None, text=text)


def _page(request: Request, services: Services, fields: dict[str, str], result: MatchOut | None,
          error: str | None, status_code: int = 200, text: str = "") -> HTMLResponse:
    lang, today = language(request), date.today()
    items = []
    if result is not None:
        for hit in result.data:
            stems = views.query_stems(" ".join(p.query for p in hit.why.passages) if hit.why else text)
            items.append({
                "hit": hit,
                "card": views.card(hit, stems, services.taxonomy, lang, today),
                "verdicts": [{"v": v, "reason": reasons.in_language(v.reason, lang)} for v in hit.eligibility],
                "pairs": [(views.highlight(p.query, views.query_stems(p.document), PASSAGE_CHARS),
                           views.highlight(p.document, views.query_stems(p.query), PASSAGE_CHARS), p.score)
                          for p in (hit.why.passages if hit.why else [])],
            })
    return render(request, "match.html", {
        "fields": fields,
        "error": error,
        "result": result,
        "items": items,
        "text": text,
        "partners": [{"p": p, "reason": reasons.in_language(p.reason, lang)} for p in (result.partners if result
                                                                                         else [])],
        "regions": forms.region_names(services),
        "mission_labels": views.missions_of({"missions": [m.model_dump() for m in result.missions]},
                                            services.taxonomy, lang, tuple(services.taxonomy.frameworks))
        if result else [],
    }, status_code=status_code)
