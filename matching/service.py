"""Convergence: match a project to calls (with eligibility, reasons, precedents and partners), and find what a
programme overlaps with or completes. The documented Python entry point behind the API and the CLI:

    with open_services(Settings.load()) as services:   # convergenze.services.wiring
        result = services.convergence.match("Riqualificazione energetica di una scuola...", Profile(region="Lazio"))
    for item in result.items: print(item.hit.document_id, item.eligibility, item.why)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from convergenze.core.errors import InvalidInput
from convergenze.core.formatting import euro
from convergenze.core.generations import PerGeneration
from convergenze.core.payload import DocumentPayload
from convergenze.core.records import CriterionVerdict, FundedProject, Hit, MissionLabel, Partner, Profile, SearchFilters
from convergenze.core.vocabulary import ActorType, DocType, Eligibility, IneligiblePolicy, MissionFramework, SearchMode
from convergenze.extractors.gazetteer import Gazetteer
from convergenze.index.search import SearchService
from convergenze.index.store.base import VectorStore

from .catalog import Catalog, CatalogMissing, Publication, collapse_duplicates
from .directory import ActorQuery, MissionMap, list_actors, mission_map
from .eligibility import EligibilityChecker
from .explain import Explainer, Explanation, ReadDescription
from .overlaps import OverlapFinder, OverlapResult, offered_as_calls
from .profiles import check_profile
from .supervision import ProjectVote


@dataclass(slots=True)
class MatchItem:
    hit: Hit
    eligibility: list[CriterionVerdict]
    eligible: Eligibility
    why: Explanation | None
    similar_projects: list[FundedProject]
    also_published_as: list[Publication] = field(default_factory=list)


@dataclass(slots=True)
class MatchResult:
    items: list[MatchItem]
    missions: list[MissionLabel]
    objectives: list[str]
    partners: list[Partner]
    profile: Profile


class ConvergenceService:
    def __init__(
        self,
        search: SearchService,
        catalog: Catalog,
        explainer: Explainer,
        gazetteer: Gazetteer,
        today: date | None = None,
        candidates: int = 50,
        projects_per_hit: int = 3,
        max_partners: int = 8,
        vote: ProjectVote | None = None,
    ) -> None:
        if candidates < 1 or projects_per_hit < 0 or max_partners < 0:
            raise ValueError("candidates must be positive; projects_per_hit and max_partners not negative.")
        self.search = search
        self.catalog = catalog
        self.explainer = explainer
        self.gazetteer = gazetteer
        self.eligibility = EligibilityChecker(today)
        self.candidates = candidates
        self.projects_per_hit = projects_per_hit
        self.max_partners = max_partners
        self.vote = vote  # the funded projects' vote (supervision.py); None ranks by retrieval alone
        self.overlaps_finder = OverlapFinder(search, catalog, explainer, gazetteer)
        # Aggregations over the whole catalog, kept until it is rebuilt: a mission map over 43k documents takes
        # 1.5 s, the actors most active on a mission 0.2 s, and the same few missions and regions come back.
        self._maps: PerGeneration[tuple[str, str | None], MissionMap] = PerGeneration(catalog.stamp, 64)
        self._active: PerGeneration[tuple[str, str, str | None, int], list[Partner]] = PerGeneration(
            catalog.stamp, 256)

    @property
    def store(self) -> VectorStore:
        return self.search.store

    def warm_up(self) -> None:
        """Compute what the first request would otherwise pay for (the taxonomy's prototype vectors, a few
        seconds on two cores, and the glossary), so that a server answers its first match as fast as the next ones."""
        self.explainer.read("Avvio del servizio: progetto di prova.", "it")
        self.search.glossary.translations("avvio")

    # --- match --------------------------------------------------------------------------------------------

    def match(
        self,
        text: str,
        profile: Profile | None = None,
        filters: SearchFilters | None = None,
        limit: int = 10,
        ineligible: IneligiblePolicy = IneligiblePolicy.DEMOTE,
        explain: bool = True,
        language: str | None = None,
        mode: SearchMode = SearchMode.HYBRID,
    ) -> MatchResult:
        """Calls and measures ranked by fit for a project description, each with an eligibility verdict per
        criterion, the reasons it matched, and funded projects like it under the same PNRR sub-measure."""
        ineligible = IneligiblePolicy(ineligible)
        if not text.strip():
            raise InvalidInput("The project description is empty.")
        profile = check_profile(profile or Profile(), self.gazetteer, self.eligibility.today)
        filters = filters or SearchFilters(types=(DocType.CALL, DocType.MEASURE))
        read = self.explainer.read(text, language) if explain else None
        query_vector = read.query_vector if read else self.search.embed(text)
        pool = max(limit * 3, self.candidates) if ineligible != IneligiblePolicy.KEEP else limit * 2
        hits = self.search.retrieve(text, filters, pool, mode, query_vector)
        if self.vote is not None:
            hits = self.vote.rerank(hits, query_vector)
        hits, copies = collapse_duplicates(self.catalog, offered_as_calls(hits))
        judged = [(hit, self.eligibility.run(DocumentPayload.from_payload(hit.payload), profile)) for hit in hits]
        ranked = [(hit, verdicts, EligibilityChecker.overall(verdicts)) for hit, verdicts in judged]
        if ineligible == IneligiblePolicy.EXCLUDE:
            ranked = [r for r in ranked if r[2] != Eligibility.INELIGIBLE]
        elif ineligible == IneligiblePolicy.DEMOTE:
            ranked.sort(key=lambda r: r[2] == Eligibility.INELIGIBLE)  # stable: keeps relevance order within each group
        ranked = ranked[:limit]
        explanations = self.explainer.run(read, [r[0] for r in ranked]) if read else [None] * len(ranked)
        precedents: dict[str, list[FundedProject]] = {}  # per sub-measure: hits often share one
        items = [
            MatchItem(hit, verdicts, overall, why, self._similar_projects(hit, query_vector, precedents),
                      copies.get(hit.document_id, []))
            for (hit, verdicts, overall), why in zip(ranked, explanations, strict=True)
        ]
        return MatchResult(items, read.missions if read else [], read.objectives if read else [],
                           self._partners(items, read, profile), profile)

    def _similar_projects(self, hit: Hit, query_vector: np.ndarray,
                          known: dict[str, list[FundedProject]]) -> list[FundedProject]:
        """Funded projects under the hit's PNRR sub-measure, most like the description first. ``known``: those
        already found for this description, by sub-measure."""
        if self.projects_per_hit == 0 or hit.payload.get("type") == DocType.PROJECT:
            return []
        meta = hit.payload.get("metadata") or {}
        codes = list(hit.payload.get("submeasure_codes") or []) or (
            [meta["submeasure_code"]] if meta.get("submeasure_code") else [])
        found: list[FundedProject] = []
        for code in codes[:2]:
            if code not in known:
                projects = self.store.search(query_vector.tolist(), None, SearchFilters(
                    types=(DocType.PROJECT,), submeasure=code), self.projects_per_hit, mode=SearchMode.DENSE)
                known[code] = [funded_project(p, code) for p in projects]
            found += known[code]
        found.sort(key=lambda p: -p.score)
        return found[: self.projects_per_hit]

    def _partners(self, items: list[MatchItem], read: ReadDescription | None, profile: Profile) -> list[Partner]:
        """Implementers of the precedents (near the profile's region first), then the most active actors on
        the description's main mission in that region."""
        partners: dict[str, Partner] = {}
        precedents = [p for item in items for p in item.similar_projects]
        actors = self.catalog.actors_of(p.id for p in precedents)
        region = profile.region

        def nearby_first(project: FundedProject) -> tuple[bool, float]:
            local = bool(region) and any(place.endswith(str(region)) for place in project.places)
            return (not local, -project.score)

        for project in sorted(precedents, key=nearby_first):
            for actor in actors.get(project.id, []):
                if actor.id in partners or len(partners) >= self.max_partners:
                    continue
                where = f" in {project.places[0]}" if project.places else ""
                partners[actor.id] = Partner(
                    id=actor.id, name=actor.name, actor_type=actor.type, documents=[project.id],
                    reason=f"Implemented a funded project like yours{where}: \"{project.title[:120]}\".",
                    regions=[p.split(", ")[-1] for p in project.places][:3],
                )
        own = [m for m in (read.missions if read else []) if m.framework == MissionFramework.CONVERGENZE]
        mission = own[0] if own else None
        if mission is not None and len(partners) < self.max_partners:
            for partner in self.active_actors(mission.code, mission.label, profile.region, self.max_partners):
                if partner.id not in partners and len(partners) < self.max_partners:
                    partners[partner.id] = partner
        return list(partners.values())

    def active_actors(self, mission: str, label: str, region: str | None, limit: int) -> list[Partner]:
        """Actors with the most funded work on ``mission`` (in ``region`` when given), as partner suggestions;
        kept until the catalog is rebuilt."""
        try:
            return list(self._active.get((mission, label, region, limit),
                                         lambda: self._active_actors(mission, label, region, limit)))
        except CatalogMissing:
            return []

    def _active_actors(self, mission: str, label: str, region: str | None, limit: int) -> list[Partner]:
        actors, _ = list_actors(self.catalog, ActorQuery(mission=mission, region=region, limit=limit))
        where = f" in {region}" if region else ""
        return [
            Partner(id=a.id, name=a.name, actor_type=a.type, regions=a.regions[:3], projects=a.projects,
                    amount=a.amount, documents=[d.id for d in a.documents],
                    reason=f"{a.projects} funded projects on {label}{where}"
                           + (f" ({euro(a.amount)})." if a.amount else "."))
            for a in actors if a.projects
        ]

    def mission_map(self, framework: str, region: str | None = None) -> MissionMap:
        """``directory.mission_map``, kept until the catalog is rebuilt: on the whole corpus it aggregates
        43k documents (1.5 s), and the catalog only changes once per ingestion."""
        return self._maps.get((framework, region), lambda: mission_map(self.catalog, framework, region))

    # --- overlaps -----------------------------------------------------------------------------------------

    def overlaps(
        self,
        text: str,
        region: str | None = None,
        actor_type: ActorType | None = None,
        limit: int = 20,
        types: tuple[DocType, ...] = tuple(DocType),
        language: str | None = None,
        municipality: str | None = None,
    ) -> OverlapResult:
        """Existing initiatives that overlap a programme (a risk of duplication) or complete it (a coalition)."""
        profile = check_profile(Profile(actor_type=actor_type, region=region, municipality=municipality),
                                self.gazetteer, self.eligibility.today)
        return self.overlaps_finder.run(text, profile, limit, types, language, self.active_actors)


def funded_project(hit: Hit, submeasure: str | None = None) -> FundedProject:
    meta = hit.payload.get("metadata") or {}
    places = [", ".join(x for x in (p.get("municipality"), p.get("region")) if x)
              for p in meta.get("places") or [] if isinstance(p, dict)]
    amount = meta.get("amount_pnrr")
    return FundedProject(
        id=hit.document_id, title=str(hit.payload.get("title", "")), score=round(hit.score, 4),
        implementing_body=meta.get("implementing_body"), places=[p for p in places if p][:5],
        amount=float(amount) if isinstance(amount, int | float) else None,
        submeasure=submeasure or next(iter(meta.get("submeasure_codes") or []), None),
    )
