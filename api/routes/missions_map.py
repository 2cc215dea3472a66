from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from convergenze.core.vocabulary import ExportFormat, MissionFramework
from convergenze.services.responses import MissionMapOut, mission_map_out

from ..deps import ServicesDep
from ..inputs import canonical_region
from ..models import ErrorOut

router = APIRouter(prefix="/v1", tags=["missions"])


@router.get(
    "/missions/map",
    response_model=MissionMapOut,
    responses={200: {"content": {"text/csv": {}}}, 400: {"model": ErrorOut}, 503: {"model": ErrorOut}},
)
async def missions_map(
    services: ServicesDep,
    framework: MissionFramework = MissionFramework.CONVERGENZE,
    region: Annotated[str | None, Query(max_length=60)] = None,
    format: ExportFormat = ExportFormat.JSON,  # noqa: A002 - the public name
) -> MissionMapOut | Response:
    """Documents, open calls, funded projects and amounts by mission x territory x actor type, with gaps:
    missions with funded projects but no open call in a region, open calls with no local implementer."""
    place = canonical_region(region, services.gazetteer)
    found = await run_in_threadpool(services.convergence.mission_map, framework, place)
    if format == ExportFormat.CSV:
        buffer = io.StringIO()
        found.write_csv(buffer)
        name = f"missions-{framework}{'-' + place if place else ''}.csv"
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return mission_map_out(found, place)
