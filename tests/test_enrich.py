"""The enrichment stage: structured fields win, extraction fills the gaps with evidence, places are canonical."""

from __future__ import annotations

from datetime import date

from convergenze.core.records import Document, Section
from convergenze.core.vocabulary import DocType
from convergenze.extractors.enrich import Enricher

TODAY = date(2026, 11, 24)


def test_extraction_fills_the_gaps_of_a_free_text_call() -> None:
    text = (
        "Avviso pubblico per il sostegno alle cooperative sociali della Regione Lazio. "
        "Possono presentare domanda le cooperative sociali e le imprese sociali con sede operativa nel Lazio. "
        "La dotazione finanziaria complessiva è pari a € 1.500.000,00. "
        "Le domande devono essere presentate entro le ore 12:00 del 15 marzo 2027."
    )
    doc = Document(
        id="t:call",
        source="t",
        type=DocType.CALL,
        title="Avviso cooperative sociali",
        sections=[Section(text=text)],
        metadata={"status": "unknown"},
    )
    meta = Enricher(today=TODAY).run(doc).metadata
    assert meta["deadline"] == "2027-03-15T12:00"
    assert meta["status"] == "open"
    assert meta["budget_total"] == 1_500_000.0
    assert "cooperative" in meta["beneficiary_types"] or "third_sector" in meta["beneficiary_types"]
    assert meta["region"] == ["Lazio"]
    deadline = meta["extracted"]["deadline"]
    full = f"{doc.title}\n\n{doc.text}"
    assert full[deadline["evidence"]["start"] : deadline["evidence"]["end"]] == deadline["evidence"]["text"]


def test_structured_fields_are_kept_and_the_extraction_sits_beside_them() -> None:
    doc = Document(
        id="t:s",
        source="t",
        type=DocType.CALL,
        title="Bando",
        sections=[
            Section(text="Le domande vanno presentate entro il 30 aprile 2026. Dotazione: 5 milioni di euro.")
        ],
        metadata={"deadline": "2026-05-31", "status": "closed", "budget_total": 4_000_000.0},
    )
    meta = Enricher(today=TODAY).run(doc).metadata
    assert (meta["deadline"], meta["budget_total"]) == ("2026-05-31", 4_000_000.0)
    assert meta["extracted"]["deadline"]["value"] == "2026-04-30"
    assert meta["extracted"]["total_budget"]["value"] == 5_000_000.0


def test_regions_are_canonical_and_national_is_a_flag() -> None:
    doc = Document(
        id="pnrr-project:X",
        source="t",
        type=DocType.PROJECT,
        title="Progetto",
        sections=[Section(text="Scuola")],
        metadata={"region": ["EMILIA-ROMAGNA", "VALLE D'AOSTA", "AMBITO NAZIONALE"]},
    )
    meta = Enricher(today=TODAY).run(doc).metadata
    assert meta["region"] == ["Emilia-Romagna", "Valle d'Aosta"] and meta["national"] is True
    assert "extracted" not in meta  # projects are structured records, not call texts


def test_recipients_map_onto_actor_types() -> None:
    doc = Document(
        id="er-bando:1",
        source="t",
        type=DocType.CALL,
        title="Bando per la pace",
        sections=[Section(text="Bando per la promozione di una cultura della pace.")],
        metadata={"recipients": ["Enti del Terzo settore", "Enti pubblici"], "status": "open"},
    )
    meta = Enricher(today=TODAY).run(doc).metadata
    assert meta["beneficiary_types"] == ["public_body", "third_sector"]
