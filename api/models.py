"""Request and response models, with the limits the API enforces."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any, Literal

from fastapi import HTTPException
from pydantic import BaseModel, ConfigDict, Field

from convergenze.core.records import Hit, SearchFilters
from convergenze.core.vocabulary import (
    ActorType,
    CallStatus,
    Criterion,
    DocType,
    Eligibility,
    IneligiblePolicy,
    Lever,
    Relation,
    SearchMode,
    TextSource,
    Verdict,
)
from convergenze.matching.overlaps import OverlapItem, OverlapResult
from convergenze.matching.service import MatchResult

from .errors import BAD_BUDGET_RANGE, BAD_DEADLINE_RANGE

_MATCH_TYPES = (DocType.CALL, DocType.MEASURE)


def check_ranges(
    deadline_from: date | None, deadline_to: date | None, budget_min: float | None, budget_max: float | None
) -> None:
    if deadline_from and deadline_to and deadline_from > deadline_to:
        raise HTTPException(status_code=400, detail=BAD_DEADLINE_RANGE)
    if budget_min is not None and budget_max is not None and budget_min > budget_max:
        raise HTTPException(status_code=400, detail=BAD_BUDGET_RANGE)


class HitOut(BaseModel):
    id: str
    type: str
    title: str
    score: float
    snippet: str
    source: str
    url: str | None = None
    language: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_hit(cls, hit: Hit) -> HitOut:
        payload = hit.payload
        return cls(
            id=hit.document_id,
            type=payload.get("type", ""),
            title=payload.get("title", ""),
            score=hit.score,
            snippet=hit.snippet,
            source=payload.get("source", ""),
            url=payload.get("url"),
            language=payload.get("language"),
            metadata=payload.get("metadata") or {},
        )


class HitList(BaseModel):
    data: list[HitOut]
    count: int


class MatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20_000, description="The project description, Italian or English.")
    limit: int = Field(default=10, ge=1, le=100)
    types: list[DocType] = Field(default_factory=lambda: list(_MATCH_TYPES), max_length=5)
    region: str | None = Field(default=None, max_length=60)
    status: CallStatus | None = None
    mission: str | None = Field(default=None, max_length=40)
    programme: str | None = Field(default=None, max_length=80)
    beneficiary_type: ActorType | None = None
    deadline_from: date | None = None
    deadline_to: date | None = None
    budget_min: float | None = Field(default=None, ge=0)
    budget_max: float | None = Field(default=None, ge=0)
    mode: SearchMode = SearchMode.HYBRID

    def filters(self) -> SearchFilters:
        check_ranges(self.deadline_from, self.deadline_to, self.budget_min, self.budget_max)
        return SearchFilters(
            types=tuple(self.types),
            region=self.region,
            status=self.status,
            mission=self.mission,
            programme=self.programme,
            beneficiary_type=self.beneficiary_type,
            deadline_from=self.deadline_from,
            deadline_to=self.deadline_to,
            budget_min=self.budget_min,
            budget_max=self.budget_max,
        )


class Health(BaseModel):
    status: Literal["ok"]
    documents: int
    points: int
    backend: str


class Passage(BaseModel):
    position: int
    heading: str | None = None
    text: str


class MissionOut(BaseModel):
    framework: str
    code: str
    label: str
    score: float
    evidence: list[str]
    source: str


class ObjectiveOut(BaseModel):
    text: str
    start: int
    end: int
    language: str | None = None
    cue: str
    section: str | None = None


class DocumentOut(BaseModel):
    id: str
    type: str
    title: str
    source: str
    url: str | None = None
    language: str | None = None
    missions: list[MissionOut] = Field(default_factory=list)
    objectives: list[ObjectiveOut] = Field(default_factory=list)
    metadata: dict[str, Any]
    passages: list[Passage]


class TaxonomyEntryOut(BaseModel):
    framework: str
    code: str
    label: str
    label_en: str
    documents: int


class TaxonomyOut(BaseModel):
    data: list[TaxonomyEntryOut]
    count: int


class ErrorOut(BaseModel):
    detail: str


# --- Convergence (issue 4) ---



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


class VerdictOut(BaseModel):
    criterion: Criterion
    verdict: Verdict
    reason: str
    evidence: list[str]


class PassagePairOut(BaseModel):
    query: str
    document: str
    score: float


class WhyOut(BaseModel):
    missions: list[dict[str, Any]]
    objectives: list[PassagePairOut]
    passages: list[PassagePairOut]


class FundedProjectOut(BaseModel):
    id: str
    title: str
    score: float
    implementing_body: str | None
    places: list[str]
    amount: float | None
    submeasure: str | None


class PartnerOut(BaseModel):
    id: str
    name: str
    actor_type: str | None
    reason: str
    regions: list[str]
    projects: int
    amount: float
    documents: list[str]


class MatchHitOut(HitOut):
    eligible: Eligibility
    eligibility: list[VerdictOut]
    why: WhyOut | None = None
    similar_projects: list[FundedProjectOut]
    also_published_as: list[dict[str, Any]]


class MatchOut(BaseModel):
    data: list[MatchHitOut]
    count: int
    missions: list[MissionOut] = Field(description="The description's own missions (all frameworks).")
    objectives: list[str] = Field(description="Objective statements found in the description.")
    partners: list[PartnerOut]
    profile: dict[str, Any]
    source: TextSource = TextSource.TEXT


class OverlapRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", max_length=20_000, description="The programme description.")
    region: str | None = Field(default=None, max_length=60)
    municipality: str | None = Field(default=None, max_length=80, description="Narrows the territory to a town.")
    actor_type: ActorType | None = None
    limit: int = Field(default=20, ge=1, le=100)
    types: list[DocType] = Field(default_factory=lambda: list(DocType), max_length=5)


class OverlapItemOut(HitOut):
    relation: Relation
    reason: str
    criteria: dict[str, str]
    evidence: dict[str, Any]
    also_published_as: list[dict[str, Any]]


class OverlapOut(BaseModel):
    overlaps: list[OverlapItemOut]
    complements: list[OverlapItemOut]
    count: int
    missions: list[dict[str, Any]]
    levers: list[Lever]
    targets: list[ActorType]
    partners: list[PartnerOut]
    source: TextSource = TextSource.TEXT


class ActorDocumentOut(BaseModel):
    id: str
    type: str
    title: str
    role: str
    amount: float | None
    status: str


class ActorOut(BaseModel):
    id: str
    name: str
    type: str | None
    type_basis: str | None
    tax_code: str | None
    names: list[str]
    projects: int
    amount: float
    issued: int
    regions: list[str]
    documents: list[ActorDocumentOut]


class ActorList(BaseModel):
    data: list[ActorOut]
    count: int
    limit: int
    offset: int


class MissionMapRow(BaseModel):
    mission: str
    label: str
    territory: str
    actor_type: str
    documents: int
    calls: int
    open_calls: int
    open_budget: float
    projects: int
    funded_amount: float


class MissionMapOut(BaseModel):
    framework: str
    region: str | None
    data: list[MissionMapRow]
    count: int
    gaps: list[dict[str, Any]]


# --- From the convergence results to the response models (the API and the CLI's --json print the same) ---


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def match_out(result: MatchResult, source: TextSource = TextSource.TEXT) -> MatchOut:
    data = [
        MatchHitOut(
            **HitOut.from_hit(item.hit).model_dump(),
            eligible=item.eligible,
            eligibility=[VerdictOut(**dataclasses.asdict(v)) for v in item.eligibility],
            why=WhyOut(**dataclasses.asdict(item.why)) if item.why else None,
            similar_projects=[FundedProjectOut(**dataclasses.asdict(p)) for p in item.similar_projects],
            also_published_as=item.also_published_as,
        )
        for item in result.items
    ]
    return MatchOut(
        data=data,
        count=len(data),
        missions=[MissionOut(**dataclasses.asdict(m)) for m in result.missions],
        objectives=result.objectives,
        partners=[PartnerOut(**dataclasses.asdict(p)) for p in result.partners],
        profile={k: _plain(v) for k, v in dataclasses.asdict(result.profile).items()},
        source=source,
    )


def _overlap_item(item: OverlapItem) -> OverlapItemOut:
    return OverlapItemOut(
        **HitOut.from_hit(item.hit).model_dump() | {"score": item.score},
        relation=item.relation,
        reason=item.reason,
        criteria=item.criteria,
        evidence=item.evidence,
        also_published_as=item.also_published_as,
    )


def overlap_out(result: OverlapResult, source: TextSource = TextSource.TEXT) -> OverlapOut:
    return OverlapOut(
        overlaps=[_overlap_item(i) for i in result.overlaps],
        complements=[_overlap_item(i) for i in result.complements],
        count=len(result.overlaps) + len(result.complements),
        missions=result.missions,
        levers=result.levers,
        targets=result.targets,
        partners=[PartnerOut(**dataclasses.asdict(p)) for p in result.partners],
        source=source,
    )
