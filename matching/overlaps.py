"""What already exists for a programme: overlaps (a risk of duplication) and complements (a coalition).

Each candidate from the index is compared with the programme on four axes:

* mission: the Convergenze missions of both (the programme's from its text, the document's as indexed);
* territory: same region (a national initiative covers every region), a neighbouring one, or elsewhere;
* target: the actor types each is for (a call's beneficiaries, a project's implementer);
* lever: funding, services, capacity building, infrastructure or research (see ``levers``).

**overlap**: same mission, same territory, and neither target nor lever differs, and the texts are close.
**complement**: same mission but another lever, another actor type, a neighbouring territory or a wider (EU)
scope. Anything else is not listed. Near-duplicates across sources are listed once, with their copies linked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from convergenze.core.errors import InvalidInput
from convergenze.core.payload import DocumentPayload
from convergenze.core.records import Hit, Partner, Profile, SearchFilters
from convergenze.core.vocabulary import ActorType, Lever, MissionFramework, Relation
from convergenze.extractors.call_parties import actors_in
from convergenze.extractors.gazetteer import Gazetteer, region_neighbours
from convergenze.index.search import SearchService

from .catalog import EUROPE, IMPLEMENTER, NATIONAL, ActorRole, Catalog, Publication, collapse_duplicates
from .eligibility import actor_label
from .explain import Explainer
from .levers import document_levers, levers_in_text

SAME, NEIGHBOUR, WIDER, OTHER, DIFFERENT, UNKNOWN = "same", "neighbour", "wider", "other", "different", "unknown"


@dataclass(slots=True)
class OverlapItem:
    hit: Hit
    relation: Relation
    score: float
    reason: str
    criteria: dict[str, str]
    evidence: dict[str, Any]
    also_published_as: list[Publication] = field(default_factory=list)


@dataclass(slots=True)
class OverlapResult:
    overlaps: list[OverlapItem]
    complements: list[OverlapItem]
    missions: list[dict[str, Any]]
    levers: list[Lever]
    targets: list[ActorType]
    partners: list[Partner]


@dataclass(slots=True)
class _Programme:
    missions: dict[str, str]  # convergenze code -> label
    regions: set[str]
    targets: set[ActorType]
    levers: list[Lever]
    municipality: str | None = None


def offered_as_calls(hits: list[Hit]) -> list[Hit]:
    """The hits a funding officer may be offered: a document whose text says it is not a funding call (a
    recruitment competition, a circular, webinar slides) can read just like the project and still is nothing
    to apply to or to build a coalition with, so match and overlaps leave it out; search labels it instead."""
    return [hit for hit in hits if DocumentPayload.from_payload(hit.payload).non_call_kind is None]


class OverlapFinder:
    def __init__(
        self,
        search: SearchService,
        catalog: Catalog,
        explainer: Explainer,
        gazetteer: Gazetteer,
        candidates: int = 60,
        min_similarity: float = 0.80,
        overlap_similarity: float = 0.86,
        same_text_similarity: float = 0.88,
    ) -> None:
        if not 0 < min_similarity <= overlap_similarity <= 1:
            raise ValueError("Need 0 < min_similarity <= overlap_similarity <= 1.")
        self.search = search
        self.catalog = catalog
        self.explainer = explainer
        self.gazetteer = gazetteer
        self.candidates = candidates
        self.min_similarity = min_similarity
        self.overlap_similarity = overlap_similarity
        # Above this cosine two texts are about the same thing: mission labels that disagree are labeller noise.
        self.same_text_similarity = same_text_similarity
        self.neighbours = region_neighbours()

    def run(
        self,
        text: str,
        profile: Profile,
        limit: int,
        types: tuple[str, ...],
        language: str | None,
        active_actors: Callable[[str, str, str | None, int], list[Partner]] | None = None,
    ) -> OverlapResult:
        if not text.strip():
            raise InvalidInput("The programme description is empty.")
        if limit < 1:
            raise ValueError("limit must be at least 1.")
        read = self.explainer.read(text, language)
        query_vector = read.query_vector
        programme = self._programme(text, read.missions, profile)
        # Dense scores are cosines (calibrated across languages): comparable across queries, so thresholds mean
        # the same for every text, Italian or English, and for documents in either language.
        hits = self.search.similar(text, SearchFilters(types=types), self.candidates, query_vector)
        hits = [h for h in offered_as_calls(hits) if h.score >= self.min_similarity]
        hits, copies = collapse_duplicates(self.catalog, hits)
        levers = self.catalog.levers(h.document_id for h in hits)
        actors = self.catalog.actors_of(h.document_id for h in hits)
        overlaps: list[OverlapItem] = []
        complements: list[OverlapItem] = []
        for hit in hits:
            item = self._judge(hit, programme, levers.get(hit.document_id), actors.get(hit.document_id, []))
            if item is None:
                continue
            item.also_published_as = copies.get(hit.document_id, [])
            (overlaps if item.relation == Relation.OVERLAP else complements).append(item)
        partners = self._partners(complements[:limit], actors)
        main = next(iter(programme.missions.items()), None)
        if active_actors and main and len(partners) < 8:
            known = {p.id for p in partners}
            partners += [p for p in active_actors(main[0], main[1], next(iter(sorted(programme.regions)), None), 8)
                         if p.id not in known][: 8 - len(partners)]
        return OverlapResult(
            overlaps=overlaps[:limit], complements=complements[:limit],
            missions=[{"framework": "convergenze", "code": c, "label": v} for c, v in programme.missions.items()],
            levers=programme.levers, targets=sorted(programme.targets), partners=partners,
        )

    def _programme(self, text: str, missions: list[Any], profile: Profile) -> _Programme:
        codes = {m.code: m.label for m in missions if m.framework == MissionFramework.CONVERGENZE}
        regions = {profile.region} if profile.region else {
            m.entry.name for m in self.gazetteer.find_places(text[:5000]) if m.entry.level == "region"}
        named = {ActorType(s.value) for s in actors_in(text, 0, len(text))}
        targets = {profile.actor_type} if profile.actor_type else named
        return _Programme(codes, regions, targets, levers_in_text(text), profile.municipality)

    def _judge(self, hit: Hit, programme: _Programme, levers: list[Lever] | None,
               actors: list[ActorRole]) -> OverlapItem | None:
        document = DocumentPayload.from_payload(hit.payload)
        theirs = {m.code: m.label or m.code for m in document.missions
                  if m.framework == MissionFramework.CONVERGENZE}
        shared = sorted(set(theirs) & set(programme.missions))
        mission = SAME if shared or hit.score >= self.same_text_similarity else (
            DIFFERENT if theirs and programme.missions else UNKNOWN)
        territory, where = self._territory(document, programme)
        targets = set(document.beneficiary_types) | {a.type for a in actors if a.role == IMPLEMENTER and a.type}
        target = UNKNOWN if not targets or not programme.targets else (
            SAME if targets & programme.targets else DIFFERENT)
        levers = levers if levers is not None else document_levers(
            document.type, document.metadata, f"{document.title}\n{hit.snippet}")
        lever = UNKNOWN if not levers or not programme.levers else (
            SAME if set(levers) & set(programme.levers) else DIFFERENT)
        criteria = {"mission": mission, "territory": territory, "target": target, "lever": lever}
        if mission == DIFFERENT or (mission == UNKNOWN and hit.score < self.overlap_similarity):
            return None
        if (territory == SAME and target != DIFFERENT and lever != DIFFERENT
                and hit.score >= self.overlap_similarity):
            relation = Relation.OVERLAP
        elif territory in (SAME, NEIGHBOUR, WIDER, UNKNOWN) and (
                lever == DIFFERENT or target == DIFFERENT or territory in (NEIGHBOUR, WIDER)
                or hit.score < self.overlap_similarity):
            relation = Relation.COMPLEMENT
        else:
            return None
        evidence = {
            "missions": [{"code": c, "label": theirs[c]} for c in shared],
            "territory": where,
            "targets": sorted(targets),
            "levers": levers,
            "passage": hit.snippet[:500],
        }
        return OverlapItem(hit, relation, round(hit.score, 4), _reason(relation, criteria, evidence, programme),
                           criteria, evidence)

    def _territory(self, document: DocumentPayload, programme: _Programme) -> tuple[str, list[str]]:
        regions = programme.regions
        theirs = set(document.region)
        towns = {p.municipality for p in document.places if p.municipality}
        if programme.municipality and towns:
            # Both name their municipalities: the same one is the same territory, another in the region is next door.
            if programme.municipality.casefold() in {t.casefold() for t in towns}:
                return SAME, [programme.municipality]
            if theirs & regions:
                return NEIGHBOUR, sorted(towns)[:3]
        if not theirs:
            if document.source == "eu-funding-tenders":
                return WIDER, [EUROPE]
            if document.national or document.source.startswith(("pnrr", "pnc")):
                return (SAME if regions else UNKNOWN), [NATIONAL]
            return UNKNOWN, []
        if not regions:
            return UNKNOWN, sorted(theirs)
        if theirs & regions:
            return SAME, sorted(theirs & regions)
        near = {n for r in regions for n in self.neighbours.get(r, frozenset())}
        if theirs & near:
            return NEIGHBOUR, sorted(theirs & near)
        return OTHER, sorted(theirs)

    def _partners(self, complements: list[OverlapItem], actors: dict[str, list[ActorRole]]) -> list[Partner]:
        out: dict[str, Partner] = {}
        for item in complements:
            for actor in actors.get(item.hit.document_id, []):
                if actor.id in out:
                    out[actor.id].documents.append(item.hit.document_id)
                    continue
                role = "Implements" if actor.role == IMPLEMENTER else "Issued"
                title = str(item.hit.payload.get("title", ""))[:100]
                out[actor.id] = Partner(
                    id=actor.id, name=actor.name, actor_type=actor.type,
                    regions=list(item.evidence["territory"]), documents=[item.hit.document_id],
                    reason=f"{role} a complementary initiative: \"{title}\"",
                )
        return list(out.values())[:8]


def _reason(relation: Relation, criteria: dict[str, str], evidence: dict[str, Any], programme: _Programme) -> str:
    missions = ", ".join(m["label"] for m in evidence["missions"]) or "a related mission"
    where = ", ".join(evidence["territory"]) or "an unstated territory"
    levers = ", ".join(Lever(v).label for v in evidence["levers"]) or "an unstated lever"
    targets = ", ".join(actor_label(t) for t in evidence["targets"]) or "unstated actors"
    if relation == Relation.OVERLAP:
        return (f"Same mission ({missions}) in the same territory ({where}), for {targets}, through {levers}: "
                "a risk of duplication.")
    parts = [f"Same mission ({missions})"]
    if criteria["lever"] == DIFFERENT:
        mine = ", ".join(Lever(v).label for v in programme.levers)
        parts.append(f"another lever ({levers}, yours: {mine})")
    if criteria["target"] == DIFFERENT:
        parts.append(f"other actors ({targets})")
    if criteria["territory"] == NEIGHBOUR:
        parts.append(f"a neighbouring territory ({where})")
    elif criteria["territory"] == WIDER:
        parts.append("a wider, European scope")
    if len(parts) == 1:
        parts.append("a different angle on the same aim")
    return ", ".join(parts) + ": a candidate for a coalition."
