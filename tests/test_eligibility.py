"""Eligibility verdicts per criterion, with the call's wording as evidence, and profile checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from convergenze.core.formatting import euro
from convergenze.core.payload import DocumentPayload
from convergenze.core.records import CriterionVerdict, Profile
from convergenze.extractors.gazetteer import default_gazetteer
from convergenze.matching.eligibility import EligibilityChecker
from convergenze.matching.profiles import ProfileError, check_profile

TODAY = date(2026, 11, 24)


def _ev(text: str) -> dict[str, Any]:
    return {"text": text, "start": 0, "end": len(text)}


CALL: dict[str, Any] = {
    "type": "call", "source": "lazio-innova", "status": "open", "deadline": "2027-03-15T12:00",
    "region": ["Lazio"], "beneficiary_types": ["company"], "budget": 5_000_000.0,
    "metadata": {"opening": "2026-10-01", "extracted": {
        "deadline": {"value": "2027-03-15T12:00", "kind": "deadline",
                     "evidence": _ev("entro le ore 12:00 del 15 marzo 2027")},
        "territory": [{"name": "Lazio", "level": "region", "istat_code": "12",
                       "evidence": _ev("imprese con sede operativa nel Lazio")}],
        "beneficiaries": [{"actor_type": "company", "wording": "PMI", "evidence": _ev("Possono partecipare le PMI")}],
        "max_per_project": {"value": 150_000.0, "kind": "max_per_project",
                            "evidence": _ev("contributo massimo di € 150.000,00")},
        "min_per_project": {"value": 20_000.0, "kind": "min_per_project",
                            "evidence": _ev("spese non inferiori a € 20.000,00")},
    }},
}


def _verdicts(payload: dict[str, Any], profile: Profile) -> dict[str, CriterionVerdict]:
    return {v.criterion: v for v in EligibilityChecker(TODAY).run(DocumentPayload.from_payload(payload), profile)}


def test_a_fitting_profile_passes_every_criterion_with_the_calls_words() -> None:
    verdicts = _verdicts(CALL, Profile(actor_type="company", region="Lazio", budget_needed=100_000))
    assert {c: v.verdict for c, v in verdicts.items()} == {
        "status": "ok", "territory": "ok", "beneficiary": "ok", "budget": "ok"}
    assert verdicts["status"].evidence == ["entro le ore 12:00 del 15 marzo 2027"]
    assert verdicts["status"].reason == "Open until 15/03/2027."
    assert verdicts["territory"].evidence == ["imprese con sede operativa nel Lazio"]
    assert verdicts["beneficiary"].evidence == ["Possono partecipare le PMI"]
    assert EligibilityChecker.overall(list(verdicts.values())) == "eligible"


def test_each_criterion_can_exclude() -> None:
    verdicts = _verdicts(CALL, Profile(actor_type="foundation", region="Puglia", budget_needed=400_000))
    assert verdicts["territory"].verdict == verdicts["beneficiary"].verdict == verdicts["budget"].verdict == "no"
    assert verdicts["territory"].reason == "The call is for Lazio, not Puglia."
    assert verdicts["budget"].reason == (
        "It funds at most € 150.000,00 per project; you need € 400.000,00.")
    small = _verdicts(CALL, Profile(budget_needed=5_000))["budget"]
    assert small.verdict == "no" and "at least € 20.000,00" in small.reason
    assert EligibilityChecker.overall(list(verdicts.values())) == "ineligible"


def test_a_passed_deadline_closes_the_call_whatever_its_stored_status() -> None:
    late = {**CALL, "deadline": "2026-11-01"}
    assert _verdicts(late, Profile())["status"].verdict == "no"


def test_a_withdrawn_notice_is_not_open() -> None:
    gone = {**CALL, "status": "withdrawn"}
    assert _verdicts(gone, Profile())["status"].verdict == "no"


def test_funds_needed_before_the_call_opens_is_a_no() -> None:
    later = {**CALL, "status": "forthcoming", "metadata": {**CALL["metadata"], "opening": "2027-02-01"}}
    verdict = _verdicts(later, Profile(needed_by=date(2027, 1, 10)))["status"]
    assert verdict.verdict == "no" and "01/02/2027" in verdict.reason


def test_what_neither_side_says_is_unknown_not_ok() -> None:
    bare = {"type": "call", "source": "bandi-pdf", "status": "unknown", "metadata": {}}
    verdicts = _verdicts(bare, Profile(actor_type="company", region="Lazio", budget_needed=10_000))
    assert {v.verdict for v in verdicts.values()} == {"unknown"}
    assert EligibilityChecker.overall(list(verdicts.values())) == "possible"


def test_national_and_eu_calls_cover_every_region() -> None:
    national = {**CALL, "region": [], "metadata": {"national": True}}
    assert _verdicts(national, Profile(region="Sardegna"))["territory"].verdict == "ok"
    eu = {**CALL, "region": [], "source": "eu-funding-tenders", "metadata": {}}
    assert _verdicts(eu, Profile(region="Sardegna"))["territory"].verdict == "ok"


def test_a_measure_is_not_a_call() -> None:
    verdict = _verdicts({"type": "measure", "source": "pnrr-measures", "metadata": {}}, Profile())["status"]
    assert verdict.verdict == "unknown" and "not a call" in verdict.reason


def test_euro_in_italian_notation() -> None:
    assert euro(1_500_000) == "€ 1.500.000,00"
    assert euro(999.5) == "€ 999,50"


def test_profile_places_become_canonical_and_fill_the_region() -> None:
    gazetteer = default_gazetteer()
    profile = check_profile(Profile(region="emilia romagna"), gazetteer, TODAY)
    assert profile.region == "Emilia-Romagna"
    town = check_profile(Profile(municipality="Viterbo"), gazetteer, TODAY)
    assert (town.municipality, town.region) == ("Viterbo", "Lazio")


@pytest.mark.parametrize(
    ("profile", "code"),
    [
        (Profile(region="Atlantide"), "unknown_region"),
        (Profile(municipality="Paperopoli"), "unknown_municipality"),
        (Profile(region="Lazio", municipality="Milano"), "municipality_not_in_region"),
        (Profile(needed_by=date(2020, 1, 1)), "needed_by_in_past"),
        (Profile(actor_type="alien"), "unknown_actor_type"),
    ],
)
def test_bad_profiles_are_refused_with_a_reason(profile: Profile, code: str) -> None:
    with pytest.raises(ProfileError) as caught:
        check_profile(profile, default_gazetteer(), TODAY)
    assert caught.value.code == code


def test_a_budget_must_be_positive() -> None:
    with pytest.raises(ValueError, match="budget_needed"):
        Profile(budget_needed=0)


def test_an_incentives_official_fields_are_the_facts_quoted(corpora_dir: Path, tmp_path: Path) -> None:
    """3627 (CCIAA di Sondrio): the portal's closing date, region, towns, subject types and grant limits."""
    from convergenze.core.payload import document_payload
    from convergenze.corpora.registry import SourceResolver, build_connector, load_sources, select_sources

    (spec,) = select_sources(load_sources(), ["incentivi-gov"])
    spec = replace(spec, files={"export": spec.files["export"]})
    files = SourceResolver(corpora_dir, tmp_path, allow_download=False).resolve(spec)
    document = next(d for d in build_connector(spec, files, today=date(2025, 7, 12)).run().documents
                    if d.id == "incentivi:3627")
    payload = DocumentPayload.from_payload(document_payload(document))
    checker = EligibilityChecker(date(2025, 7, 12))
    verdicts = {v.criterion: v for v in checker.run(payload, Profile(
        actor_type="company", region="Lombardia", municipality="Sondrio", budget_needed=10_000))}
    assert verdicts["status"].reason == "Open until 10/12/2025."
    assert verdicts["status"].evidence[0] == "Data chiusura: 10/12/2025"
    assert verdicts["territory"].verdict == "ok" and verdicts["territory"].evidence[0].startswith("Comuni: ")
    assert verdicts["beneficiary"].evidence == ["Tipologia soggetto: Impresa"]
    assert verdicts["budget"].verdict == "no"
    assert verdicts["budget"].reason == "It funds at most € 8.400,00 per project; you need € 10.000,00."
    assert verdicts["budget"].evidence[:2] == ["Agevolazione concedibile max: € 8.400,00",
                                               "Agevolazione concedibile min: € 2.100,00"]
    elsewhere = checker.run(payload, Profile(region="Lombardia", municipality="Bergamo"))[1]
    assert elsewhere.verdict == "no" and "not Bergamo" in elsewhere.reason
