"""The mission taxonomy file: every framework complete, bilingual, and every crosswalk pointing somewhere real."""

from __future__ import annotations

from pathlib import Path

import pytest

from convergenze.core.vocabulary import MissionFramework
from convergenze.extractors.taxonomy import DEFAULT_TAXONOMY, Taxonomy


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


def codes(taxonomy: Taxonomy, framework: str) -> set[str]:
    return {e.code for e in taxonomy.entries(framework)}


def test_every_framework_has_its_codes(taxonomy: Taxonomy) -> None:
    assert taxonomy.frameworks == tuple(MissionFramework)
    assert codes(taxonomy, "convergenze") == {
        "living_work",
        "climate",
        "digital",
        "welfare",
        "territorial",
        "development",
    }
    pnrr = codes(taxonomy, "pnrr")
    assert {f"M{i}" for i in range(1, 7)} <= pnrr
    assert {
        "M1C1",
        "M1C2",
        "M1C3",
        "M2C1",
        "M2C2",
        "M2C3",
        "M2C4",
        "M3C1",
        "M3C2",
        "M4C1",
        "M4C2",
        "M5C1",
        "M5C2",
        "M5C3",
        "M6C1",
        "M6C2",
    } == pnrr - {f"M{i}" for i in range(1, 7)}
    assert codes(taxonomy, "sdg") == {f"SDG{i}" for i in range(1, 18)}
    assert {f"PO{i}" for i in range(1, 6)} <= codes(taxonomy, "cohesion")
    horizon = codes(taxonomy, "horizon")
    assert {f"CL{i}" for i in range(1, 7)} <= horizon
    assert len({c for c in horizon if c.startswith("MISS-")}) == 5


def test_components_have_their_mission_as_parent(taxonomy: Taxonomy) -> None:
    for entry in taxonomy.entries("pnrr"):
        assert entry.parent == (entry.code[:2] if len(entry.code) > 2 else None)


def test_labels_descriptions_and_cues_exist_in_italian_and_english(taxonomy: Taxonomy) -> None:
    for framework in taxonomy.frameworks:
        for entry in taxonomy.entries(framework):
            for lang in ("it", "en"):
                assert taxonomy.label(framework, entry.code, lang).strip()
                assert len(entry.descriptions[lang]) > 20
                assert entry.cues.get(lang), f"{framework}:{entry.code} has no {lang} cue terms"
    for entry in taxonomy.entries("convergenze"):
        assert all(10 <= len(entry.cues[lang]) <= 30 for lang in ("it", "en"))


def test_every_crosswalk_points_at_existing_codes(taxonomy: Taxonomy) -> None:
    # Loading already refuses unknown codes; check the coverage the classifier relies on.
    for code in codes(taxonomy, "pnrr") | {f"PO{i}" for i in range(1, 6)}:
        framework = "pnrr" if code.startswith("M") else "cohesion"
        targets = taxonomy.crosswalk(framework, code)
        assert targets and all(taxonomy.has(f, c) for f, c in targets), code
        assert taxonomy.rationale(framework, code)
    for code in codes(taxonomy, "horizon") | {f"SDG{i}" for i in range(1, 18)} - {"SDG16"}:
        framework = "sdg" if code.startswith("SDG") else "horizon"
        assert all(f == "convergenze" for f, _ in taxonomy.crosswalk(framework, code)), code
        assert taxonomy.crosswalk(framework, code), f"{code} reaches no Convergenze mission"
    assert taxonomy.crosswalk("pnrr", "M2") == [("convergenze", "climate"), ("cohesion", "PO2")]
    assert ("convergenze", "digital") in taxonomy.crosswalk("pnrr", "M1C1")
    assert {("convergenze", "welfare"), ("convergenze", "living_work")} <= set(taxonomy.crosswalk("pnrr", "M5"))
    assert ("convergenze", "climate") in taxonomy.crosswalk("sdg", "SDG7")
    assert ("convergenze", "climate") in taxonomy.crosswalk("sdg", "SDG13")
    assert ("convergenze", "climate") in taxonomy.crosswalk("horizon", "CL5")
    assert ("convergenze", "climate") in taxonomy.crosswalk("cohesion", "PO2")


def test_lookups_refuse_unknown_codes_with_a_fix(taxonomy: Taxonomy) -> None:
    with pytest.raises(ValueError, match="not in the taxonomy"):
        taxonomy.label("pnrr", "M9")
    with pytest.raises(ValueError, match="not one of"):
        taxonomy.entries("nato")
    with pytest.raises(ValueError, match="lang"):
        taxonomy.label("sdg", "SDG1", "fr")


def test_a_crosswalk_to_a_missing_code_is_refused(tmp_path: Path) -> None:
    broken = DEFAULT_TAXONOMY.read_text(encoding="utf-8").replace(
        'to: ["convergenze:climate", "cohesion:PO2"],', 'to: ["convergenze:climat", "cohesion:PO2"],', 1
    )
    path = tmp_path / "missions.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ValueError, match="convergenze:climat is not in the taxonomy"):
        Taxonomy.load(path)
