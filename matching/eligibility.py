"""Eligibility of a call for a profile, criterion by criterion: ``ok``, ``no`` or ``unknown``, with the call's
own wording as evidence. A verdict is only ``no`` when the call says something that excludes the profile;
missing information is ``unknown``, never a silent pass or a silent fail. A fact the source publishes in a field of
its own (incentivi.gov.it's closing date, regions, grant ceiling) wins over what the extractor read in the text,
and is quoted as the source names it ("Agevolazione concedibile max: € 200.000,00")."""

from __future__ import annotations

from datetime import date
from typing import Any

from convergenze.core.formatting import euro, italian_date
from convergenze.core.payload import DocumentPayload
from convergenze.core.records import Amount, CallMetadata, CriterionVerdict, DateValue, Evidence, Profile
from convergenze.core.vocabulary import ActorType, CallStatus, Criterion, DocType, Eligibility, Verdict

from .catalog import EUROPE, NATIONAL

STATUS, TERRITORY, BENEFICIARY, BUDGET = Criterion.STATUS, Criterion.TERRITORY, Criterion.BENEFICIARY, Criterion.BUDGET
OK, NO, UNKNOWN = Verdict.OK, Verdict.NO, Verdict.UNKNOWN

_NOT_CALLS = {
    DocType.MEASURE: "A PNRR measure is not a call: it is implemented through its calls, which have their own dates.",
    DocType.PROJECT: "A funded project is a precedent, not a call.",
    DocType.PROGRAMME: "A programme is not a call: its calls have their own dates.",
    DocType.POLICY: "A policy document is not a call.",
}


def actor_label(value: str) -> str:
    """'foundation' -> 'foundations'; a value outside the vocabulary is shown as it is."""
    try:
        return ActorType(value).label
    except ValueError:
        return value


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _quotes(*found: Evidence | None) -> list[str]:
    """The call's own sentences, once each, at most three."""
    texts = [e.text.strip() for e in found if e is not None and e.text.strip()]
    return list(dict.fromkeys(texts))[:3]


def _official(document: DocumentPayload, *keys: str) -> list[str]:
    """The source's own fields, quoted as it names them, for the keys it published."""
    return [quote for quote in (document.official(key) for key in keys) if quote]


def _of(value: DateValue | Amount | None) -> Evidence | None:
    return value.evidence if value is not None else None


class EligibilityChecker:
    """``run(document, profile)`` -> one ``CriterionVerdict`` per criterion (status, territory, beneficiary,
    budget)."""

    def __init__(self, today: date | None = None) -> None:
        self.today = today or date.today()

    def run(self, document: DocumentPayload, profile: Profile) -> list[CriterionVerdict]:
        extracted = document.extracted or CallMetadata(is_funding_call=True)
        return [
            self._status(document, extracted, profile),
            self._territory(document, extracted, profile),
            self._beneficiary(document, extracted, profile),
            self._budget(document, extracted, profile),
        ]

    @staticmethod
    def overall(verdicts: list[CriterionVerdict]) -> Eligibility:
        """'ineligible' when a criterion excludes the profile, 'eligible' when all pass, else 'possible'."""
        kinds = {v.verdict for v in verdicts}
        if NO in kinds:
            return Eligibility.INELIGIBLE
        return Eligibility.ELIGIBLE if kinds == {OK} else Eligibility.POSSIBLE

    def _status(self, document: DocumentPayload, extracted: CallMetadata, profile: Profile) -> CriterionVerdict:
        if document.type in _NOT_CALLS:
            return CriterionVerdict(STATUS, UNKNOWN, _NOT_CALLS[document.type])
        evidence = _official(document, "deadline", "opening") or _quotes(_of(extracted.deadline)) or _quotes(
            _of(extracted.opening))
        deadline, opening = _day(document.deadline), _day(document.opening)
        status = document.status
        if deadline and deadline < self.today:
            return CriterionVerdict(STATUS, NO, f"Closed: the deadline was {italian_date(deadline)}.", evidence)
        if status == CallStatus.CLOSED:
            return CriterionVerdict(STATUS, NO, "The call is closed.", evidence)
        if document.withdrawn:
            return CriterionVerdict(STATUS, NO, "The notice is no longer listed by its source (withdrawn).", evidence)
        if profile.needed_by and opening and opening > profile.needed_by:
            return CriterionVerdict(STATUS, NO, f"It opens on {italian_date(opening)}, after the date you need the "
                                    f"funds ({italian_date(profile.needed_by)}).", evidence)
        if status == CallStatus.OPEN:
            until = f" until {italian_date(deadline)}" if deadline else (
                " until resources run out" if document.rolling or extracted.rolling else "")
            return CriterionVerdict(STATUS, OK, f"Open{until}.", evidence or _quotes(extracted.rolling_evidence))
        if status == CallStatus.FORTHCOMING:
            when = f" on {italian_date(opening)}" if opening else ""
            return CriterionVerdict(STATUS, OK, f"Not open yet: it opens{when}.", evidence)
        return CriterionVerdict(STATUS, UNKNOWN, "The call gives no dates that tell whether it is open.", evidence)

    def _territory(self, document: DocumentPayload, extracted: CallMetadata, profile: Profile) -> CriterionVerdict:
        regions = document.region
        evidence = _official(document, "region") or _quotes(*(place.evidence for place in extracted.territory))
        national = document.national or (not regions and document.source.startswith("pnrr"))
        if document.source == "eu-funding-tenders" and not regions:
            return CriterionVerdict(TERRITORY, OK, "An EU call: open to applicants from every Member State.",
                                    [f"territory: {EUROPE}"])
        if national and (not regions or document.official("region")):
            return CriterionVerdict(TERRITORY, OK, "Open to the whole national territory.",
                                    evidence or [f"territory: {NATIONAL}"])
        if not profile.region:
            where = ", ".join(regions) if regions else "not stated"
            return CriterionVerdict(TERRITORY, UNKNOWN,
                                    f"Your profile gives no region (the call's territory: {where}).", evidence)
        place = profile.municipality or profile.region
        towns = [str(t) for t in document.metadata.get("municipalities") or []]
        if profile.municipality and towns and profile.region in regions:
            if profile.municipality in towns:
                return CriterionVerdict(TERRITORY, OK, f"{profile.municipality} is one of the call's municipalities.",
                                        _official(document, "municipalities") or evidence)
            return CriterionVerdict(TERRITORY, NO, f"The call is for {len(towns)} named municipalities, not "
                                    f"{profile.municipality}.", _official(document, "municipalities") or evidence)
        if profile.region in regions:
            return CriterionVerdict(TERRITORY, OK, f"{place} is in the call's territory ({', '.join(regions)}).",
                                    evidence or [f"region: {', '.join(regions)}"])
        if regions:
            return CriterionVerdict(TERRITORY, NO, f"The call is for {', '.join(regions)}, not {profile.region}.",
                                    evidence or [f"region: {', '.join(regions)}"])
        return CriterionVerdict(TERRITORY, UNKNOWN, "The call does not say where it applies.", evidence)

    def _beneficiary(self, document: DocumentPayload, extracted: CallMetadata, profile: Profile) -> CriterionVerdict:
        types = document.beneficiary_types
        wording = [b.wording for b in extracted.beneficiaries if b.wording]
        evidence = _official(document, "recipients") or _quotes(*(b.evidence for b in extracted.beneficiaries)) or (
            [document.recipients] if document.recipients else wording)
        if not types:
            return CriterionVerdict(BENEFICIARY, UNKNOWN, "The call does not say who may apply.", evidence)
        listed = ", ".join(actor_label(t) for t in types)
        if not profile.actor_type:
            return CriterionVerdict(BENEFICIARY, UNKNOWN,
                                    f"Your profile gives no actor type (the call is for: {listed}).", evidence)
        label = actor_label(profile.actor_type)
        if profile.actor_type in types:
            return CriterionVerdict(BENEFICIARY, OK, f"Open to {label}.", evidence)
        return CriterionVerdict(BENEFICIARY, NO, f"The call is for {listed}, not {label}.", evidence)

    def _budget(self, document: DocumentPayload, extracted: CallMetadata, profile: Profile) -> CriterionVerdict:
        # The source's own grant limits are facts; the extractor's per-project amounts fill in where it has none.
        official = _official(document, "grant_max", "grant_min")
        low = document.grant_min or (extracted.min_per_project.value if extracted.min_per_project else None)
        high = document.grant_max or (extracted.max_per_project.value if extracted.max_per_project else None)
        total = document.budget
        extracted_limits = [_of(extracted.max_per_project) if not document.grant_max else None,
                            _of(extracted.min_per_project) if not document.grant_min else None]
        evidence = (official + _quotes(*extracted_limits)
                    or _quotes(_of(extracted.total_budget)) or _official(document, "budget_total"))
        need = profile.budget_needed
        if need is None:
            return CriterionVerdict(BUDGET, UNKNOWN, "Your profile gives no budget.", evidence)
        if high is not None and need > high:
            return CriterionVerdict(BUDGET, NO, f"It funds at most {euro(high)} per project; you need {euro(need)}.",
                                    evidence)
        if low is not None and need < low:
            return CriterionVerdict(BUDGET, NO, f"Projects must be at least {euro(low)}; you need {euro(need)}.",
                                    evidence)
        if high is not None or low is not None:
            bounds = " – ".join(euro(v) for v in (low, high) if v is not None)
            return CriterionVerdict(BUDGET, OK, f"{euro(need)} is within the per-project range ({bounds}).", evidence)
        if total is not None and total > 0:
            if need > total:
                return CriterionVerdict(BUDGET, NO, f"The whole call has {euro(total)}; you need {euro(need)}.",
                                        evidence or [f"budget: {euro(total)}"])
            return CriterionVerdict(BUDGET, UNKNOWN, f"The call has {euro(total)} in all but no per-project limit.",
                                    evidence or [f"budget: {euro(total)}"])
        return CriterionVerdict(BUDGET, UNKNOWN, "The call states no amounts.", evidence)
