"""A document's versions and change events, from the ingestion state store (``data/state/state.sqlite``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from pydantic import BaseModel

from convergenze.corpora.state import StateStore

from ..deps import ServicesDep
from ..errors import DOCUMENT_NOT_FOUND
from ..models import ErrorOut

router = APIRouter(prefix="/v1", tags=["documents"])


def get_state(services: ServicesDep) -> StateStore:
    return services.state


StateDep = Annotated[StateStore, Depends(get_state)]


class VersionOut(BaseModel):
    version: int
    recorded_at: str
    fields: dict[str, Any]


class EventOut(BaseModel):
    version: int
    kind: str
    message: str
    recorded_at: str


class HistoryOut(BaseModel):
    id: str
    version: int
    status: str
    withdrawn: bool
    versions: list[VersionOut]
    events: list[EventOut]


@router.get(
    "/documents/{document_id}/history", response_model=HistoryOut, responses={404: {"model": ErrorOut}}
)
def document_history(
    state: StateDep,
    document_id: Annotated[str, Path(max_length=200, examples=["incentivi:4321"])],
) -> HistoryOut:
    notice = state.notice(document_id)
    if notice is None:
        raise HTTPException(status_code=404, detail=DOCUMENT_NOT_FOUND)
    versions, events = state.history(document_id)
    return HistoryOut(
        id=document_id,
        version=notice.version,
        status=notice.status,
        withdrawn=notice.withdrawn,
        versions=[VersionOut(**{k: v[k] for k in ("version", "recorded_at", "fields")}) for v in versions],
        events=[EventOut(**{k: e[k] for k in ("version", "kind", "message", "recorded_at")}) for e in events],
    )
