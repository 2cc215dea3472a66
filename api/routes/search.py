from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from convergenze.core.records import SearchFilters
from convergenze.core.vocabulary import ActorType, CallStatus, DocType, FirmSize, SearchMode, SupportForm
from convergenze.services.responses import HitList, hits_out

from ..deps import ServicesDep
from ..errors import QUERY_EMPTY
from ..inputs import canonical_region
from ..models import ErrorOut, check_ranges

router = APIRouter(prefix="/v1", tags=["search"])


@router.get("/search", response_model=HitList, responses={400: {"model": ErrorOut}})
def search(
    services: ServicesDep,
    q: Annotated[str, Query(max_length=500, description="Words to search for, Italian or English.")],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    type: Annotated[list[DocType] | None, Query(max_length=5)] = None,  # noqa: A002 - the public name
    language: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
    region: Annotated[str | None, Query(max_length=60)] = None,
    status: CallStatus | None = None,
    source: Annotated[str | None, Query(max_length=60)] = None,
    mission: Annotated[str | None, Query(max_length=40, description="A mission code, e.g. M2 or M1C1.")] = None,
    programme: Annotated[str | None, Query(max_length=80, description="e.g. PNRR, FESR, Horizon Europe.")] = None,
    beneficiary_type: ActorType | None = None,
    support_form: Annotated[SupportForm | None, Query(description="How the call supports: a grant, a loan...")] = None,
    firm_size: Annotated[FirmSize | None, Query(description="A firm size the call admits.")] = None,
    deadline_from: Annotated[date | None, Query(description="Deadline on or after (YYYY-MM-DD).")] = None,
    deadline_to: Annotated[date | None, Query(description="Deadline on or before (YYYY-MM-DD).")] = None,
    budget_min: Annotated[float | None, Query(ge=0)] = None,
    budget_max: Annotated[float | None, Query(ge=0)] = None,
    mode: SearchMode = SearchMode.HYBRID,
) -> HitList:
    if not q.strip():
        raise HTTPException(status_code=400, detail=QUERY_EMPTY)
    check_ranges(deadline_from, deadline_to, budget_min, budget_max)
    filters = SearchFilters(
        types=tuple(type or ()),
        language=language,
        region=canonical_region(region, services.gazetteer),
        status=status,
        source=source,
        mission=mission,
        programme=programme,
        beneficiary_type=beneficiary_type,
        support_form=support_form,
        firm_size=firm_size,
        deadline_from=deadline_from,
        deadline_to=deadline_to,
        budget_min=budget_min,
        budget_max=budget_max,
    )
    return hits_out(services.search.search(q, filters, limit=limit, mode=mode))
