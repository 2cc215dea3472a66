from __future__ import annotations

from fastapi import APIRouter, HTTPException

from ..deps import ServicesDep
from ..errors import TEXT_EMPTY
from ..models import ErrorOut, HitList, HitOut, MatchRequest

router = APIRouter(prefix="/v1", tags=["match"])


@router.post("/match", response_model=HitList, responses={400: {"model": ErrorOut}})
def match(services: ServicesDep, request: MatchRequest) -> HitList:
    if not request.text.strip():
        raise HTTPException(status_code=400, detail=TEXT_EMPTY)
    filters = request.filters()
    hits = services.search.match(request.text, filters, limit=request.limit, mode=request.mode)
    data = [HitOut.from_hit(h) for h in hits]
    return HitList(data=data, count=len(data))
