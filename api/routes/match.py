from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Depends, HTTPException, Request

from convergenze.core.records import Profile
from convergenze.core.vocabulary import TextSource
from convergenze.services.responses import MatchOut, match_out
from convergenze.services.wiring import Services

from ..deps import ServicesDep
from ..errors import TEXT_EMPTY
from ..inputs import canonical_region, read_body, upload_openapi
from ..limits import LIMIT_RESPONSES, rate_limited, run_model
from ..models import ConvergenceMatchRequest, ErrorOut

router = APIRouter(prefix="/v1", tags=["match"])


@router.post(
    "/match",
    response_model=MatchOut,
    dependencies=[Depends(rate_limited("match"))],
    openapi_extra=upload_openapi(ConvergenceMatchRequest),
    responses={**LIMIT_RESPONSES, 400: {"model": ErrorOut}, 413: {"model": ErrorOut}, 415: {"model": ErrorOut},
               422: {"description": "Invalid options, or an upload with no readable text."}},
)
async def match(services: ServicesDep, request: Request) -> MatchOut:
    """Calls and measures that fit a project description (JSON ``text``, or a PDF/DOCX/TXT upload as
    multipart ``file``), each with an eligibility verdict per criterion for the ``profile``, why it matched
    (shared missions, objectives, passages), and funded projects like it; plus partners to contact."""
    body, source = await read_body(request, ConvergenceMatchRequest, services.settings.api.max_upload_bytes)
    return await run_match(request, services, body, source)


async def run_match(request: Request, services: Services, body: ConvergenceMatchRequest,
                    source: TextSource = TextSource.TEXT) -> MatchOut:
    """The match behind ``POST /v1/match`` and the match page; raises HTTPException or a named error."""
    if not body.text.strip():
        raise HTTPException(status_code=400, detail=TEXT_EMPTY)
    profile_in = body.profile
    profile = Profile(**profile_in.model_dump()) if profile_in else Profile()
    filters = dataclasses.replace(body.filters(), region=canonical_region(body.region, services.gazetteer))
    result = await run_model(
        request, services.convergence.match, body.text, profile, filters, body.limit, body.ineligible,
        body.explain, None, body.mode,
    )
    return match_out(result, source)
