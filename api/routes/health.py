from __future__ import annotations

from fastapi import APIRouter

from ..deps import ServicesDep
from ..models import Health, IngestionOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
async def health(services: ServicesDep) -> Health:
    """Answered on the event loop, never behind the model's queue: counts are kept per index generation and
    the ingestion's progress is re-read only when the flow has written it since."""
    documents, points = services.counts()
    progress = services.progress()
    return Health(status="ok", documents=documents, points=points, backend=services.backend,
                  ingestion=IngestionOut.model_validate(progress, from_attributes=True) if progress else None)
