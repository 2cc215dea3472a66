from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request

from convergenze.core.vocabulary import TextSource
from convergenze.services.responses import OverlapOut, overlap_out
from convergenze.services.wiring import Services

from ..deps import ServicesDep
from ..errors import TEXT_EMPTY
from ..inputs import read_body, upload_openapi
from ..limits import LIMIT_RESPONSES, rate_limited, run_model
from ..models import ErrorOut, OverlapRequest

router = APIRouter(prefix="/v1", tags=["overlaps"])


@router.post(
    "/overlaps",
    response_model=OverlapOut,
    dependencies=[Depends(rate_limited("overlaps"))],
    openapi_extra=upload_openapi(OverlapRequest),
    responses={**LIMIT_RESPONSES, 400: {"model": ErrorOut}, 413: {"model": ErrorOut}, 415: {"model": ErrorOut}},
)
async def overlaps(services: ServicesDep, request: Request) -> OverlapOut:
    """Existing initiatives a programme overlaps (same mission, territory, target and lever: a risk of
    duplication) or completes (same mission, another lever, actor type or a neighbouring territory)."""
    body, source = await read_body(request, OverlapRequest, services.settings.api.max_upload_bytes)
    return await run_overlaps(request, services, body, source)


async def run_overlaps(request: Request, services: Services, body: OverlapRequest,
                       source: TextSource = TextSource.TEXT) -> OverlapOut:
    """The search behind ``POST /v1/overlaps`` and the overlaps page; raises HTTPException or a named error."""
    if not body.text.strip():
        raise HTTPException(status_code=400, detail=TEXT_EMPTY)
    result = await run_model(
        request, services.convergence.overlaps, body.text, body.region, body.actor_type, body.limit,
        tuple(body.types), None, body.municipality,
    )
    return overlap_out(result, source)
