"""The overlap/complement judgement on its four axes, and the levers read from texts and CUP natures."""

from __future__ import annotations

from typing import Any

import pytest

from convergenze.core.records import Hit
from convergenze.matching.levers import document_levers, levers_in_text
from convergenze.matching.overlaps import OverlapFinder, _Programme, offered_as_calls

CLIMATE = {"framework": "convergenze", "code": "climate", "label": "Transizione climatica", "score": 0.9}
WELFARE = {"framework": "convergenze", "code": "welfare", "label": "Sistemi di welfare", "score": 0.9}


def _finder() -> OverlapFinder:
    return OverlapFinder(search=None, catalog=None, explainer=None, gazetteer=None)  # type: ignore[arg-type]


def _hit(score: float = 0.9, region: list[str] | None = None, missions: list[dict] | None = None,
         types: list[str] | None = None, source: str = "bandi-pdf", **meta: Any) -> Hit:
    payload = {"type": "call", "source": source, "title": "Bando", "region": region or [],
               "beneficiary_types": types or [], "metadata": {"missions": missions or [CLIMATE], **meta}}
    return Hit("pdf:x", score, "passage", payload)


PROGRAMME = _Programme({"climate": "Transizione climatica"}, {"Lazio"}, {"third_sector"}, ["funding"])


def test_same_mission_place_target_and_lever_is_an_overlap() -> None:
    item = _finder()._judge(_hit(region=["Lazio"], types=["third_sector"]), PROGRAMME, ["funding"], [])
    assert item is not None and item.relation == "overlap"
    assert item.criteria == {"mission": "same", "territory": "same", "target": "same", "lever": "same"}
    assert item.reason.startswith("Same mission (Transizione climatica) in the same territory (Lazio)")


@pytest.mark.parametrize(
    ("hit", "levers", "axis", "words"),
    [
        (_hit(region=["Lazio"], types=["third_sector"]), ["capacity_building"], "lever", "another lever"),
        (_hit(region=["Lazio"], types=["company"]), ["funding"], "target", "other actors"),
        (_hit(region=["Umbria"], types=["third_sector"]), ["funding"], "territory", "neighbouring territory"),
        (_hit(source="eu-funding-tenders"), ["funding"], "territory", "European scope"),
    ],
)
def test_another_lever_actor_or_a_neighbour_is_a_complement(hit: Hit, levers: list[str], axis: str,
                                                            words: str) -> None:
    item = _finder()._judge(hit, PROGRAMME, levers, [])
    assert item is not None and item.relation == "complement"
    assert item.criteria[axis] in ("different", "neighbour", "wider") and words in item.reason


def test_another_mission_or_a_far_region_is_not_listed() -> None:
    assert _finder()._judge(_hit(0.85, region=["Lazio"], missions=[WELFARE]), PROGRAMME, ["funding"], []) is None
    assert _finder()._judge(_hit(region=["Piemonte"]), PROGRAMME, ["funding"], []) is None


def test_nearly_identical_texts_share_their_mission_whatever_the_labels_say() -> None:
    item = _finder()._judge(_hit(0.9, region=["Lazio"], missions=[WELFARE]), PROGRAMME, ["funding"], [])
    assert item is not None and item.criteria["mission"] == "same"


def test_a_national_measure_covers_the_programmes_region() -> None:
    item = _finder()._judge(_hit(source="pnrr-measures", types=["third_sector"]), PROGRAMME, ["funding"], [])
    assert item is not None and item.criteria["territory"] == "same" and item.evidence["territory"] == ["Italia"]


def test_a_municipality_narrows_the_territory() -> None:
    town = _Programme({"climate": "x"}, {"Lazio"}, set(), ["funding"], municipality="Viterbo")
    places = [{"municipality": "Viterbo", "region": "Lazio"}]
    same = _finder()._judge(_hit(region=["Lazio"], places=places), town, ["funding"], [])
    other = _finder()._judge(_hit(region=["Lazio"], places=[{"municipality": "Rieti", "region": "Lazio"}]), town,
                             ["funding"], [])
    assert same is not None and same.relation == "overlap"
    assert other is not None and other.relation == "complement" and other.criteria["territory"] == "neighbour"


def test_a_weak_match_is_at_most_a_complement() -> None:
    item = _finder()._judge(_hit(score=0.81, region=["Lazio"], types=["third_sector"]), PROGRAMME, ["funding"], [])
    assert item is not None and item.relation == "complement"


def test_levers_from_text_and_from_the_cup() -> None:
    assert levers_in_text("Corsi di formazione e rafforzamento delle competenze digitali")[0] == "capacity_building"
    assert levers_in_text("Contributi a fondo perduto per l'efficientamento energetico degli edifici") == [
        "funding", "infrastructure"]
    assert levers_in_text("nessuna leva qui") == []
    assert document_levers("project", {"cup_nature": "REALIZZAZIONE DI LAVORI PUBBLICI (OPERE ED IMPIANTISTICA)"},
                           "") == ["infrastructure"]
    assert document_levers("project", {"cup_type": "CORSI DI FORMAZIONE"}, "") == ["capacity_building"]
    assert document_levers("call", {}, "servizi di assistenza domiciliare")[0] == "funding"


def test_what_its_text_says_is_not_a_call_is_never_offered() -> None:
    competition = _hit(extracted={"is_funding_call": False, "non_call_kind": "recruitment"})
    unnamed = _hit(extracted={"is_funding_call": False})  # an index written before the kinds were named
    call = _hit(extracted={"is_funding_call": True, "non_call_kind": None})
    measure = _hit()  # a structured record: no text was read, nothing says it is not what its source says
    assert offered_as_calls([competition, call, unnamed, measure]) == [call, measure]

