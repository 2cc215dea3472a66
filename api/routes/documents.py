from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path

from ..deps import ServicesDep
from ..errors import DOCUMENT_NOT_FOUND
from ..models import DocumentOut, ErrorOut, Passage

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


def document_out(document_id: str, chunks: list[dict[str, Any]]) -> DocumentOut:
    """A document from its chunks' payloads (``VectorStore.get_document_chunks``): the API and the page."""
    first = chunks[0]
    metadata = dict(first.get("metadata") or {})
    missions, objectives = metadata.pop("missions", []), metadata.pop("objectives", [])
    return DocumentOut(
        id=document_id,
        type=first.get("type", ""),
        title=first.get("title", ""),
        source=first.get("source", ""),
        url=first.get("url"),
        language=first.get("language"),
        missions=missions,
        objectives=objectives,
        metadata=metadata,
        passages=[
            Passage(position=c.get("position", i), heading=c.get("heading"), text=c.get("text", ""))
            for i, c in enumerate(chunks)
        ],
    )
