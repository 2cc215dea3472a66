from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from convergenze.services.responses import ExtractOut, extract_out

from ..deps import ServicesDep
from ..inputs import read_body, upload_openapi
from ..limits import LIMIT_RESPONSES, rate_limited, run_model
from ..models import MAX_EXTRACT_CHARS, ErrorOut, ExtractRequest

router = APIRouter(prefix="/v1", tags=["extract"])


@router.post(
    "/extract",
    response_model=ExtractOut,
    dependencies=[Depends(rate_limited("extract"))],
    openapi_extra=upload_openapi(ExtractRequest),
    responses={**LIMIT_RESPONSES, 400: {"model": ErrorOut}, 413: {"model": ErrorOut}, 415: {"model": ErrorOut},
               422: {"description": "Invalid options, or an upload with no readable text."}},
)
async def extract(services: ServicesDep, request: Request) -> ExtractOut:
    """What a call says about itself (JSON ``text``, or a PDF/DOCX/TXT upload as multipart ``file``), read as the
    ingestion reads documents and not stored: language, dates, amounts, beneficiaries, territory, support forms,
    firm sizes, issuer, status (on ``today``), missions and objectives, every value with the passage it came from."""
    body, source = await read_body(request, ExtractRequest, services.settings.api.max_upload_bytes, MAX_EXTRACT_CHARS)
    result = await run_model(request, services.extraction.run, body.text, body.today)
    return extract_out(result, source)
