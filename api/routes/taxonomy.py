from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from convergenze.services.responses import TaxonomyEntryOut, TaxonomyOut

from ..deps import ServicesDep

router = APIRouter(prefix="/v1", tags=["taxonomy"])


@router.get("/taxonomy", response_model=TaxonomyOut)
def taxonomy(
    services: ServicesDep,
    framework: Annotated[str | None, Query(pattern="^(convergenze|pnrr|sdg|cohesion|horizon)$")] = None,
) -> TaxonomyOut:
    """The missions of every framework, with how many indexed documents carry each."""
    counts = services.store.facet("mission_codes", None)
    tax = services.taxonomy
    data = [
        TaxonomyEntryOut(
            framework=name,
            code=entry.code,
            label=tax.label(name, entry.code, "it"),
            label_en=tax.label(name, entry.code, "en"),
            documents=counts.get(entry.code, 0),
        )
        for name in tax.frameworks
        if framework in (None, name)
        for entry in tax.entries(name)
    ]
    return TaxonomyOut(data=data, count=len(data))
