"""Request models, with the limits the API enforces (the response models are in convergenze.services.responses)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field

from convergenze.core.records import SearchFilters
from convergenze.core.vocabulary import (
    ActorType,
    CallStatus,
    DocType,
    FirmSize,
    IneligiblePolicy,
    SearchMode,
    SupportForm,
)

from .errors import BAD_BUDGET_RANGE, BAD_DEADLINE_RANGE

_MATCH_TYPES = (DocType.CALL, DocType.MEASURE)
# A whole call, annexes included, is read for its dates and amounts; an uploaded file's text is cut here.
MAX_EXTRACT_CHARS = 300_000


def check_ranges(
    deadline_from: date | None, deadline_to: date | None, budget_min: float | None, budget_max: float | None
) -> None:
    if deadline_from and deadline_to and deadline_from > deadline_to:
        raise HTTPException(status_code=400, detail=BAD_DEADLINE_RANGE)
    if budget_min is not None and budget_max is not None and budget_min > budget_max:
        raise HTTPException(status_code=400, detail=BAD_BUDGET_RANGE)


class FilterFields(BaseModel):
    """The filters search and match share; each request model adds its own (types, language, source)."""

    region: str | None = Field(default=None, max_length=60)
    status: CallStatus | None = None
    mission: str | None = Field(default=None, max_length=40, description="A mission code, e.g. M2 or M1C1.")
    programme: str | None = Field(default=None, max_length=80, description="e.g. PNRR, FESR, Horizon Europe.")
    beneficiary_type: ActorType | None = None
    support_form: SupportForm | None = Field(default=None, description="How the call supports: a grant, a loan...")
    firm_size: FirmSize | None = Field(default=None, description="A firm size the call admits.")
    deadline_from: date | None = Field(default=None, description="Deadline on or after (YYYY-MM-DD).")
    deadline_to: date | None = Field(default=None, description="Deadline on or before (YYYY-MM-DD).")
    budget_min: float | None = Field(default=None, ge=0)
    budget_max: float | None = Field(default=None, ge=0)

    def _filters(self, types: Sequence[DocType], language: str | None = None,
                 source: str | None = None) -> SearchFilters:
        """The filters as given (the caller makes ``region`` canonical: it needs the gazetteer)."""
        check_ranges(self.deadline_from, self.deadline_to, self.budget_min, self.budget_max)
        return SearchFilters(
            types=tuple(types),
            language=language,
            region=self.region,
            status=self.status,
            source=source,
            mission=self.mission,
            programme=self.programme,
            beneficiary_type=self.beneficiary_type,
            support_form=self.support_form,
            firm_size=self.firm_size,
            deadline_from=self.deadline_from,
            deadline_to=self.deadline_to,
            budget_min=self.budget_min,
            budget_max=self.budget_max,
        )


class SearchParams(FilterFields):
    """``GET /v1/search``'s query parameters; the web pages (search, calendar, exports) read the same ones."""

    q: str = Field(max_length=500, description="Words to search for, Italian or English.")
    limit: int = Field(default=10, ge=1, le=100)
    type: list[DocType] | None = Field(default=None, max_length=5)
    language: str | None = Field(default=None, min_length=2, max_length=2)
    source: str | None = Field(default=None, max_length=60)
    mode: SearchMode = SearchMode.HYBRID

    def filters(self) -> SearchFilters:
        return self._filters(self.type or (), self.language, self.source)


class MatchRequest(FilterFields):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20_000, description="The project description, Italian or English.")
    limit: int = Field(default=10, ge=1, le=100)
    types: list[DocType] = Field(default_factory=lambda: list(_MATCH_TYPES), max_length=5)
    mode: SearchMode = SearchMode.HYBRID

    def filters(self) -> SearchFilters:
        return self._filters(self.types)


class IngestionOut(BaseModel):
    """The last ingestion, or the one running: the index answers with what it holds while the rest goes on."""

    state: Literal["running", "finished", "failed"]
    started: str
    finished: str | None
    sources_done: int
    sources_planned: int
    current: str | None
    documents: int
    points: int


class Health(BaseModel):
    status: Literal["ok"]
    documents: int
    points: int
    backend: str
    ingestion: IngestionOut | None = None


class ErrorOut(BaseModel):
    detail: str


class ProfileIn(BaseModel):
    """Who applies. Places are checked against the ISTAT gazetteer; contradictions are refused (400)."""

    model_config = ConfigDict(extra="forbid")

    actor_type: ActorType | None = None
    region: str | None = Field(default=None, max_length=60, examples=["Lazio"])
    municipality: str | None = Field(default=None, max_length=80, examples=["Viterbo"])
    budget_needed: float | None = Field(default=None, gt=0, le=1e12, description="Euro needed for the project.")
    needed_by: date | None = Field(default=None, description="Date by which the funds are needed.")


class ConvergenceMatchRequest(MatchRequest):
    """``POST /v1/match``: a project description (or, as multipart, an uploaded file) and a profile."""

    text: str = Field(default="", max_length=20_000, description="The project description, Italian or English.")
    profile: ProfileIn | None = None
    ineligible: IneligiblePolicy = Field(
        default=IneligiblePolicy.DEMOTE,
        description="Ineligible calls: ranked below eligible ones, left out, or kept in place.",
    )
    explain: bool = Field(default=True, description="Shared missions, objectives and passages for each result.")


class OverlapRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", max_length=20_000, description="The programme description.")
    region: str | None = Field(default=None, max_length=60)
    municipality: str | None = Field(default=None, max_length=80, description="Narrows the territory to a town.")
    actor_type: ActorType | None = None
    limit: int = Field(default=20, ge=1, le=100)
    types: list[DocType] = Field(default_factory=lambda: list(DocType), max_length=5)


class ExtractRequest(BaseModel):
    """``POST /v1/extract``: the text of a call (or, as multipart, a PDF, DOCX or TXT file) to read, not store."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", max_length=MAX_EXTRACT_CHARS, description="The call's text, Italian or English.")
    today: date | None = Field(default=None, description="The day the call's status is judged on (YYYY-MM-DD); "
                               "default: the server's today.")
