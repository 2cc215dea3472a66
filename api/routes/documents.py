from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from convergenze.services.responses import DocumentOut, document_out

from ..deps import ServicesDep
from ..errors import DOCUMENT_NOT_FOUND
from ..models import ErrorOut

router = APIRouter(prefix="/v1", tags=["documents"])


@router.get("/documents/{document_id}", response_model=DocumentOut, responses={404: {"model": ErrorOut}})
def get_document(
    services: ServicesDep,
    document_id: Annotated[str, Path(max_length=200, examples=["pnrr-measure:M1C1I1.02.00"])],
) -> DocumentOut:
    chunks = services.store.get_document_chunks(document_id)
    if not chunks:
        raise HTTPException(status_code=404, detail=DOCUMENT_NOT_FOUND)
    return document_out(document_id, chunks)
