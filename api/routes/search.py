from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from convergenze.services.responses import HitList, hits_out

from ..deps import ServicesDep
from ..errors import QUERY_EMPTY
from ..inputs import canonical_region
from ..limits import run_search
from ..models import ErrorOut, SearchParams

router = APIRouter(prefix="/v1", tags=["search"])


@router.get("/search", response_model=HitList, responses={400: {"model": ErrorOut}})
async def search(services: ServicesDep, params: Annotated[SearchParams, Query()]) -> HitList:
    if not params.q.strip():
        raise HTTPException(status_code=400, detail=QUERY_EMPTY)
    filters = dataclasses.replace(params.filters(), region=canonical_region(params.region, services.gazetteer))
    hits = await run_search(services, params.q, filters, params.limit, params.mode)
    return hits_out(hits)
