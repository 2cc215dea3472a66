"""The response models of the API and of the CLI's ``--json`` output, and the functions that build them from
the services' results: one module, so a route, a page and a command cannot answer the same question two ways."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from convergenze.core.payload import DocumentPayload
from convergenze.core.records import CallMetadata, Hit
from convergenze.core.vocabulary import (
    ActorType,
    Criterion,
    DocType,
    Eligibility,
    Lever,
    NonCallKind,
    Relation,
    TextSource,
    Verdict,
)

if TYPE_CHECKING:  # the results' modules load spaCy and the store; a command printing JSON need not wait for them
    from convergenze.matching.catalog import Actor
    from convergenze.matching.directory import MissionMap
    from convergenze.matching.overlaps import OverlapItem, OverlapResult
    from convergenze.matching.service import MatchResult
    from convergenze.services.extraction import Extraction


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
    non_call_kind: NonCallKind | None = Field(
        default=None,
        description="Set when the document's own text says it is not a funding call: what it is instead (a "
                    "recruitment competition, a circular, webinar slides, an amendment, a ranking, a tender). "
                    "Search shows it labelled; match and overlaps never offer it.")

    @classmethod
    def from_hit(cls, hit: Hit) -> HitOut:
        payload = hit.payload
        return cls(
            non_call_kind=DocumentPayload.from_payload(payload).non_call_kind,
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


class ExtractOut(BaseModel):
    """What a call says about itself, read without storing it (``POST /v1/extract``, ``convergenze extract``)."""

    language: str | None = Field(description="The text's language (ISO 639-1), when it could be told.")
    is_funding_call: bool = Field(description="False for acts that are not calls: a circular, a ranking, a tender.")
    extracted: CallMetadata = Field(
        description="The same object a document's metadata.extracted holds: dates (value ISO), amounts (value in "
                    "euro), beneficiaries (actor_type, wording), territory (name, level), support_forms (form), "
                    "firm_sizes (size), issuer, programmes, status; every value with its evidence {text, start, end} "
                    "(offsets into the text sent).")
    missions: list[MissionOut] = Field(description="Missions of every framework, as documents have them.")
    objectives: list[ObjectiveOut] = Field(description="Objective statements, offsets into the text sent.")
    source: TextSource = TextSource.TEXT


class TaxonomyEntryOut(BaseModel):
    framework: str
    code: str
    label: str
    label_en: str
    documents: int


class TaxonomyOut(BaseModel):
    data: list[TaxonomyEntryOut]
    count: int


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


class PublicationOut(BaseModel):
    """Another source's publication of the same call."""

    id: str
    source: str | None
    score: float
    reason: str


class PartnerOut(BaseModel):
    id: str
    name: str
    actor_type: ActorType | None
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
    also_published_as: list[PublicationOut]


class MatchOut(BaseModel):
    data: list[MatchHitOut]
    count: int
    missions: list[MissionOut] = Field(description="The description's own missions (all frameworks).")
    objectives: list[str] = Field(description="Objective statements found in the description.")
    partners: list[PartnerOut]
    profile: dict[str, Any]
    source: TextSource = TextSource.TEXT


class OverlapItemOut(HitOut):
    relation: Relation
    reason: str
    criteria: dict[str, str]
    evidence: dict[str, Any]
    also_published_as: list[PublicationOut]


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
    type: DocType
    title: str
    role: str
    amount: float | None
    status: str


class ActorOut(BaseModel):
    id: str
    name: str
    type: ActorType | None
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


class GapOut(BaseModel):
    kind: str
    mission: str
    label: str
    territory: str
    reason: str
    projects: int | None = None
    funded_amount: float | None = None
    open_calls: int | None = None


class MissionMapOut(BaseModel):
    framework: str
    region: str | None
    data: list[MissionMapRow]
    count: int
    gaps: list[GapOut]


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
            also_published_as=[PublicationOut.model_validate(p, from_attributes=True) for p in item.also_published_as],
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
        also_published_as=[PublicationOut.model_validate(p, from_attributes=True) for p in item.also_published_as],
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


def extract_out(result: Extraction, source: TextSource = TextSource.TEXT) -> ExtractOut:
    return ExtractOut(
        language=result.language,
        is_funding_call=result.metadata.is_funding_call,
        extracted=result.metadata,
        missions=[MissionOut(**dataclasses.asdict(m)) for m in result.missions],
        objectives=[ObjectiveOut(**dataclasses.asdict(o)) for o in result.objectives],
        source=source,
    )


def hits_out(hits: list[Hit]) -> HitList:
    data = [HitOut.from_hit(h) for h in hits]
    return HitList(data=data, count=len(data))


def document_out(document_id: str, chunks: list[dict[str, Any]]) -> DocumentOut:
    """A document from its chunks' payloads (the first carries the document's own fields)."""
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


def actors_out(actors: list[Actor], total: int, limit: int, offset: int) -> ActorList:
    return ActorList(data=[ActorOut.model_validate(a, from_attributes=True) for a in actors], count=total,
                     limit=limit, offset=offset)


def mission_map_out(found: MissionMap, region: str | None) -> MissionMapOut:
    rows = [MissionMapRow.model_validate(row, from_attributes=True) for row in found.rows]
    return MissionMapOut(framework=found.framework, region=region, data=rows, count=len(rows),
                         gaps=[GapOut.model_validate(gap, from_attributes=True) for gap in found.gaps])
