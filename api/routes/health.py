from __future__ import annotations

from fastapi import APIRouter

from ..deps import ServicesDep
from ..models import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(services: ServicesDep) -> Health:
    return Health(
        status="ok",
        documents=services.store.count_documents(),
        points=services.store.count_points(),
        backend=services.backend,
    )
