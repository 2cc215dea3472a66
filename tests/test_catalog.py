"""The catalog derived from the index: actors merged across sources, near-duplicates linked, the mission map
and its gaps, the actors directory."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from convergenze.matching.catalog import ActorScope, Catalog, CatalogMissing
from convergenze.matching.catalog_build import CatalogBuilder
from convergenze.matching.directory import ActorQuery, list_actors, mission_map

DIGITAL = {"framework": "convergenze", "code": "digital", "label": "Transizione digitale", "score": 0.9}
CLIMATE = {"framework": "convergenze", "code": "climate", "label": "Transizione climatica", "score": 0.8}


def _payload(document_id: str, kind: str, source: str, title: str, **fields: Any) -> dict[str, Any]:
    meta = fields.pop("metadata", {})
    return {"document_id": document_id, "type": kind, "source": source, "title": title, "url": None,
            "status": fields.pop("status", "unknown"), "deadline": fields.pop("deadline", None),
            "budget": fields.pop("budget", None), "region": fields.pop("region", []),
            "beneficiary_types": fields.pop("beneficiary_types", []), "submeasure_codes": [],
            "text": fields.pop("text", title), "metadata": meta}


PAYLOADS = [
    _payload("er:1", "call", "emilia-romagna", "Bando per la digitalizzazione delle imprese del commercio 2026",
             status="open", deadline="2026-12-31", budget=2_000_000.0, region=["Emilia-Romagna"],
             beneficiary_types=["company"], text="Contributi a fondo perduto alle imprese " * 20,
             metadata={"missions": [DIGITAL], "issuer": "Regione Emilia-Romagna"}),
    _payload("inc:1", "call", "incentivi-gov", "Digitalizzazione delle imprese del commercio 2026 - bando",
             status="open", deadline="2026-12-31", region=["Emilia-Romagna"], metadata={"missions": [DIGITAL]}),
    _payload("inc:2", "call", "incentivi-gov", "Bando per la digitalizzazione delle imprese del commercio 2026",
             status="closed", deadline="2025-06-30", region=["Emilia-Romagna"], metadata={"missions": [DIGITAL]}),
    _payload("inc:3", "call", "incentivi-gov", "Bando per la digitalizzazione delle imprese del commercio 2026 "
             "nei comuni montani delle aree interne", deadline="2026-12-31", metadata={"missions": [DIGITAL]}),
    _payload("pnrr-project:A", "project", "pnrr-projects", "Migrazione al cloud dei servizi comunali",
             region=["Puglia"], metadata={
                 "missions": [DIGITAL], "implementing_body": "COMUNE DI BARI",
                 "implementing_body_tax_code": "80015010723", "amount_pnrr": 150_000.0,
                 "cup_nature": "ACQUISTO O REALIZZAZIONE DI SERVIZI", "cup_type": "APPLICATIVI E PIATTAFORME WEB",
                 "places": [{"region": "Puglia", "province": "Bari", "municipality": "Bari", "istat_code": "072006"}],
             }),
    _payload("pnrr-project:B", "project", "pnrr-projects", "Efficientamento energetico della scuola",
             region=["Puglia"], metadata={
                 "missions": [CLIMATE], "implementing_body": "Comune di Bari",
                 "implementing_body_tax_code": "80015010723", "amount_pnrr": 50_000.0,
                 "cup_nature": "REALIZZAZIONE DI LAVORI PUBBLICI (OPERE ED IMPIANTISTICA)"}),
    _payload("local:1", "call", "bandi-pdf", "Avviso del Comune di Bari per le associazioni",
             status="open", deadline="2026-12-01", region=["Puglia"], beneficiary_types=["third_sector"],
             metadata={"missions": [CLIMATE], "issuer": "COMUNE DI BARI"}),
    _payload("pnrr-measure:M1C1I1.02.00", "measure", "pnrr-measures", "Abilitazione al cloud per le PA locali",
             metadata={"missions": [DIGITAL], "administration": "Presidenza del Consiglio dei Ministri"}),
]


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    CatalogBuilder(tmp_path / "catalog.sqlite", today=date(2026, 11, 24)).build(PAYLOADS)
    return Catalog(tmp_path / "catalog.sqlite")


def test_the_same_call_from_two_sources_is_linked_to_the_official_one(catalog: Catalog) -> None:
    # inc:2 has another deadline; inc:3's title holds all of er:1's words but is about something narrower.
    assert catalog.duplicates_of(["er:1", "inc:1", "inc:2", "inc:3"]) == {"inc:1": "er:1"}
    (copy,) = catalog.copies_of(["er:1"])["er:1"]
    assert copy.id == "inc:1" and "same deadline" in copy.reason


def test_one_body_under_two_spellings_is_one_actor(catalog: Catalog) -> None:
    rows = catalog.query("SELECT id, name, type, tax_code FROM actors WHERE tax_code = '80015010723'")
    assert [tuple(r) for r in rows] == [("actor:cf-80015010723", "Comune di Bari", "public_administration",
                                         "80015010723")]
    roles = catalog.query("SELECT document_id, role FROM roles WHERE actor_id = 'actor:cf-80015010723' "
                          "ORDER BY document_id")
    # The call's issuer has no tax code in its source: the same name seen with one lends it.
    assert [tuple(r) for r in roles] == [("local:1", "issuer"), ("pnrr-project:A", "implementer"),
                                         ("pnrr-project:B", "implementer")]


def test_actors_directory_filters_by_mission_region_and_type(catalog: Catalog) -> None:
    found, total = list_actors(catalog, ActorQuery(mission="DIGITAL", region="Puglia"))
    assert total == 1
    (bari,) = found
    assert bari.name == "Comune di Bari" and bari.projects == 1 and bari.amount == 150_000.0
    assert [d.id for d in bari.documents] == ["pnrr-project:A"]
    assert list_actors(catalog, ActorQuery(mission="digital", region="Lazio")) == ([], 0)
    assert list_actors(catalog, ActorQuery(actor_type="foundation")) == ([], 0)
    with pytest.raises(ValueError, match="limit"):
        ActorQuery(limit=0)


def test_mission_map_counts_and_gaps(catalog: Catalog) -> None:
    found = mission_map(catalog, "convergenze")
    cells = {(r.mission, r.territory, r.actor_type): r for r in found.rows}
    er = cells[("digital", "Emilia-Romagna", "company")]
    assert (er.calls, er.open_calls, er.open_budget) == (1, 1, 2_000_000.0)  # its copy is not counted
    closed = cells[("digital", "Emilia-Romagna", "any")]  # a call that names no beneficiaries
    assert (closed.calls, closed.open_calls) == (1, 0)
    bari = cells[("digital", "Puglia", "public_administration")]
    assert (bari.projects, bari.funded_amount) == (1, 150_000.0)
    gaps = {(g.kind, g.mission, g.territory) for g in found.gaps}
    assert ("no_open_call", "digital", "Puglia") in gaps
    assert ("no_local_implementer", "digital", "Emilia-Romagna") in gaps
    assert ("no_open_call", "climate", "Puglia") not in gaps  # the Comune's own call is open
    assert all(r.territory == "Puglia" for r in mission_map(catalog, "convergenze", "Puglia").rows)


def test_an_open_call_past_its_deadline_is_closed_in_the_catalog(tmp_path: Path) -> None:
    CatalogBuilder(tmp_path / "c.sqlite", today=date(2027, 1, 15)).build(PAYLOADS)
    rows = Catalog(tmp_path / "c.sqlite").query("SELECT status FROM documents WHERE id = 'er:1'")
    assert rows[0]["status"] == "closed"


def test_a_missing_catalog_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(CatalogMissing, match="convergenze ingest"):
        Catalog(tmp_path / "none.sqlite").meta()


def test_a_rebuild_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    CatalogBuilder(path).build(PAYLOADS)
    CatalogBuilder(path).build(PAYLOADS[:2])
    assert Catalog(path).meta()["documents"] == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.sqlite"]


def test_results_list_a_republished_call_once_with_its_copies(catalog: Catalog, tmp_path: Path) -> None:
    from convergenze.core.records import Hit
    from convergenze.matching.catalog import collapse_duplicates

    hits = [Hit(i, 1.0 - n / 10, "", {}) for n, i in enumerate(["inc:1", "pnrr-project:A", "er:1", "inc:2"])]
    kept, links = collapse_duplicates(catalog, hits)
    assert [h.document_id for h in kept] == ["inc:1", "pnrr-project:A", "inc:2"]  # er:1 is inc:1's original
    assert [c.id for c in links["inc:1"]] == ["er:1"]
    assert collapse_duplicates(Catalog(tmp_path / "missing.sqlite"), hits) == (hits, {})


def test_a_rebuild_changes_the_catalogs_stamp(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    CatalogBuilder(path).build(PAYLOADS)
    before = Catalog(path).stamp()
    CatalogBuilder(path).build(PAYLOADS[:3])
    # The rebuild is a new file renamed into place: a new inode even where the clock is too coarse to tell.
    assert Catalog(path).stamp() != before
    with pytest.raises(CatalogMissing):
        Catalog(tmp_path / "none.sqlite").stamp()


def test_a_mission_looked_up_whatever_its_case_reads_the_index_not_every_row(catalog: Catalog) -> None:
    # The actors directory and match's partners ask by mission code in any case (`climate`, `M2`, `m2`).
    plan = catalog.query("EXPLAIN QUERY PLAN SELECT document_id FROM missions WHERE lower(code) = lower(?)", ["M2"])
    assert any("missions_code_folded" in row["detail"] for row in plan), [row["detail"] for row in plan]
    assert {a.name for a in catalog.actors(ActorScope(mission="digital"), 10)[0]} == {
        a.name for a in catalog.actors(ActorScope(mission="DIGITAL"), 10)[0]}
