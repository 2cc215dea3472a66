"""The extractor on phrases of real incentive texts: each quoted from the incentivi.gov.it open-data export (its
ID_Incentivo in the test's comment), with what the portal's official fields or the text itself say."""

from __future__ import annotations

from datetime import date

import pytest

from convergenze.core.records import CallMetadata
from convergenze.extractors.call_metadata import CallMetadataExtractor
from convergenze.extractors.gazetteer import default_gazetteer

TODAY = date(2025, 7, 12)


@pytest.fixture(scope="module")
def extract() -> CallMetadataExtractor:
    return CallMetadataExtractor(today=TODAY, gazetteer=default_gazetteer())


def regions(meta: CallMetadata) -> set[tuple[str, str]]:
    return {(p.level.value, p.name) for p in meta.territory}


# --- territory from the issuer, when the text names none ------------------------------------------------------


def test_a_ministry_means_national_scope(extract: CallMetadataExtractor) -> None:
    meta = extract.run(  # 52, Nuova Sabatini
        'La misura Beni strumentali ("Nuova Sabatini") è l’agevolazione messa a disposizione dal Ministero delle '
        "Imprese e del Made in Italy con l’obiettivo di facilitare l’accesso al credito delle imprese."
    )
    assert meta.issuer == "Ministero delle Imprese e del Made in Italy"
    (place,) = meta.territory
    assert (place.level, place.name) == ("national", "Italia")
    assert place.evidence.text.startswith('La misura Beni strumentali ("Nuova Sabatini")')


def test_a_chamber_of_commerce_means_its_province(extract: CallMetadataExtractor) -> None:
    meta = extract.run("Sportello contributi per iniziative promozionali - Anno 2025 - CCIAA Cuneo")  # 3469
    assert meta.issuer == "Camera di Commercio di Cuneo"
    assert regions(meta) == {("province", "Cuneo")}
    meta = extract.run("Il bando si rivolge ad imprese iscritte nella Camera di Commercio dell'Alto Adige.")  # 1433
    assert regions(meta) == {("province", "Bolzano/Bozen")}


def test_a_regional_finance_company_means_its_region(extract: CallMetadataExtractor) -> None:
    meta = extract.run(  # 883
        "La domanda va presentata a Veneto Sviluppo per il tramite delle Banche o Società di Leasing "
        "convenzionate con la Finanziaria Regionale."
    )
    assert meta.issuer == "Veneto Sviluppo" and regions(meta) == {("region", "Veneto")}


def test_a_place_the_text_names_wins_over_the_issuer(extract: CallMetadataExtractor) -> None:
    meta = extract.run(  # 3924 (with its issuer, the region, written before)
        "Regione Autonoma Valle d'Aosta. Le domande possono essere presentate dalle imprese con sede nel Comune di "
        "Aosta."
    )
    assert ("municipality", "Aosta") in regions(meta) and ("national", "Italia") not in regions(meta)


def test_an_act_the_call_cites_is_not_its_issuer(extract: CallMetadataExtractor) -> None:
    meta = extract.run(  # 81: Invitalia runs the measure; the ministry's decree founded it
        "Smart&Start Italia - Sostegno alle startup innovative\nCos'è Smart&Start Italia è uno strumento agevolativo "
        "istituito con decreto del Ministro dello sviluppo economico 24 settembre 2014 e successive modificazioni "
        "e integrazioni."
    )
    assert meta.issuer is None and meta.territory == []


def test_an_issuer_name_stops_at_the_end_of_the_line(extract: CallMetadataExtractor) -> None:
    meta = extract.run(  # 1000
        "Agevolazioni per servizi in campo ambientale 2025 - Camera di Commercio di Torino\n\nCos'è L'iniziativa"
    )
    assert meta.issuer == "Camera di Commercio di Torino"


# --- who applies ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        (  # 1190: the chamber is where the applicant is registered
            "Bando rivolto alle micro, piccole, medie e grandi imprese che hanno la/e sede/i operativa/e oggetto "
            "dell’intervento iscritte e attive al Registro imprese nella circoscrizione territoriale della Camera di "
            "commercio di Milano Monza Brianza Lodi.",
            {"company"},
        ),
        (  # 1211: the banks are the channel
            "Misura finalizzata a favorire l’accesso al credito delle imprese aderenti ai Consorzi garanzia fidi "
            "mediante la concessione di garanzie fideiussorie finalizzate all’ottenimento di nuovi finanziamenti da "
            "parte di banche convenzionate con i Consorzi stessi.",
            {"company"},
        ),
        (  # 893: the association is what the professional belongs to
            "Possono beneficiare: - Professionisti non ordinistici che siano aderenti ad associazioni inserite nel "
            "registro regionale.",
            {"company"},
        ),
        (  # 3587: the towns are where the firms are
            "Bando di concessione dei contributi imprese dell'Unione dei Comuni della Bassa Romagna.",
            {"company"},
        ),
        (  # 1770: women entrepreneurs are firms
            "L'iniziativa si rivolge a donne imprenditrici, lavoratrici autonome e libere professioniste.",
            {"company"},
        ),
    ],
)
def test_places_channels_and_qualifiers_are_not_applicants(
    extract: CallMetadataExtractor, phrase: str, expected: set[str]
) -> None:
    assert {b.actor_type.value for b in extract.run(phrase).beneficiaries} == expected


def test_the_persons_hired_are_not_the_applicants(extract: CallMetadataExtractor) -> None:
    meta = extract.run("Il contributo è destinato alle imprese per l'assunzione di giovani 18-35 anni.")  # after 400
    assert {b.actor_type.value for b in meta.beneficiaries} == {"company"}


# --- dates --------------------------------------------------------------------------------------------------------


def test_a_window_with_times_of_day(extract: CallMetadataExtractor) -> None:
    meta = extract.run(  # 3891
        "Le domande devono essere presentate dalle ore 9:00 del 31/03/2025 alle ore 12.00 30/06/2025, salvo "
        "chiusura anticipata per esaurimento risorse."
    )
    assert meta.opening and meta.opening.value == "2025-03-31T09:00"
    assert meta.deadline and meta.deadline.value == "2025-06-30T12:00"
    assert meta.rolling and meta.rolling_evidence is not None


def test_a_regulations_validity_is_not_a_deadline(extract: CallMetadataExtractor) -> None:
    meta = extract.run("Procedura a sportello (Regime in esenzione - Regolamento (UE) n. 651/2014 valido fino al "
                       "31/12/2026)")  # 2320
    assert meta.deadline is None and meta.rolling
    assert [s.form.value for s in meta.support_forms] == []  # the GBER's "esenzione" is no tax relief


def test_the_initial_term_is_the_opening(extract: CallMetadataExtractor) -> None:
    meta = extract.run(  # 2807
        "Il termine iniziale per la presentazione delle domande nell’ambito del presente sportello agevolativo è "
        "fissato alle ore 12.00 del giorno 11 novembre 2024."
    )
    assert meta.opening and meta.opening.value == "2024-11-11T12:00" and meta.deadline is None


def test_costs_in_another_clause_do_not_veto_the_window(extract: CallMetadataExtractor) -> None:
    meta = extract.run(  # 2262
        "Fanno eccezione le domande di aiuto, per i costi sostenuti o da sostenere per l’anno 2024, da presentarsi "
        "a partire dal 1° settembre al 30 settembre 2024."
    )
    assert (meta.opening.value, meta.deadline.value) == ("2024-09-01", "2024-09-30")  # type: ignore[union-attr]
    meta = extract.run(  # 80
        "Dall’8 settembre 2022, le startup già beneficiarie delle agevolazioni previste dal CAPO II che hanno "
        "ultimato il piano delle attività ammesso possono presentare le domande."
    )
    assert meta.opening and meta.opening.value == "2022-09-08"


def test_a_publication_promised_by_a_date_is_no_deadline(extract: CallMetadataExtractor) -> None:
    meta = extract.run(  # 3563
        "Le date di apertura e chiusura della procedura informatica, in tutte le sue fasi, saranno pubblicate sul "
        "portale web dell’Inail, nel Calendario scadenze ISI 2024, entro il 26 febbraio 2025."
    )
    assert meta.deadline is None and meta.opening is None


def test_several_sportelli_give_the_current_window(extract: CallMetadataExtractor) -> None:
    # The first window is 3891's; the second one is made up: the sample has no incentive with two written out.
    text = ("Primo sportello: le domande devono essere presentate dalle ore 9:00 del 31/03/2025 alle ore 12.00 "
            "30/06/2025. Secondo sportello: le domande devono essere presentate dalle ore 9:00 del 01/09/2025 alle "
            "ore 12.00 31/10/2025.")
    meta = CallMetadataExtractor(today=date(2025, 7, 12)).run(text)
    assert (meta.opening.value[:10], meta.deadline.value[:10]) == ("2025-09-01", "2025-10-31")  # type: ignore[union-attr]
    assert meta.status == "forthcoming"
    meta = CallMetadataExtractor(today=date(2025, 4, 12)).run(text)
    assert (meta.opening.value[:10], meta.deadline.value[:10]) == ("2025-03-31", "2025-06-30")  # type: ignore[union-attr]


def test_unless_resources_run_out_is_rolling(extract: CallMetadataExtractor) -> None:
    assert extract.run("Salvo anticipato esaurimento delle risorse disponibili.").rolling  # 3627
    assert extract.run("La chiusura avverrà ad esaurimento risorse").rolling  # 304


# --- amounts --------------------------------------------------------------------------------------------------------


def test_what_one_firm_may_get_is_the_per_project_maximum(extract: CallMetadataExtractor) -> None:
    meta = extract.run("La somma massima di contributo erogabile per ogni singola impresa ammonta ad euro 550.000.")
    assert meta.total_budget is None and meta.max_per_project and meta.max_per_project.value == 550_000  # 864
    meta = extract.run("il contributo a fondo perduto ammonta ad euro 2.000,00 erogato in due acconti")  # 1545
    assert meta.total_budget is None and meta.max_per_project and meta.max_per_project.value == 2_000
    meta = extract.run(  # 90
        "la partecipazione diretta acquisita (Equity) deve essere di minoranza, l'intervento complessivo per "
        "singola operazione non può superare l’ammontare di 10 milioni di euro"
    )
    assert meta.total_budget is None and meta.max_per_project and meta.max_per_project.value == 10_000_000


def test_thresholds_of_the_sme_definition_are_no_ceiling(extract: CallMetadataExtractor) -> None:
    meta = extract.run(  # 2079
        "ai sensi della vigente normativa si definisce microimpresa l’impresa che ha meno di 10 occupati e un "
        "fatturato annuo oppure un totale di bilancio annuo non superiore a 2 milioni di euro"
    )
    assert meta.max_per_project is None


def test_floors_read_as_floors(extract: CallMetadataExtractor) -> None:
    meta = extract.run("È previsto un contributo a fondo perduto in regime di esenzione su una spesa minima ammessa "
                       "superiore a 100.000 euro.")  # 2320
    assert meta.max_per_project is None and meta.min_per_project and meta.min_per_project.value == 100_000
    meta = extract.run("Il Costo ammissibile minimo dell’iniziativa non può essere inferiore a € 10.000,00 (costi al "
                       "netto di IVA).")  # 3760: VAT words no longer veto the amount
    assert meta.min_per_project and meta.min_per_project.value == 10_000


def test_half_millions_and_flat_amounts(extract: CallMetadataExtractor) -> None:
    meta = extract.run("con una dotazione di 13 milioni e mezzo")  # 1557
    assert meta.total_budget and meta.total_budget.value == 13_500_000
    meta = extract.run("L'agevolazione prevede un contributo di 2500 euro.")  # 2456: no word says it is a ceiling
    assert meta.max_per_project is None and meta.total_budget is None


# --- support forms and firm sizes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "forms"),
    [
        ("Finanziamenti agevolati a tasso zero a piccole e medie imprese e professionisti vittime di mancati "
         "pagamenti.", ["loan"]),  # 56
        ("favorire l’accesso alle fonti finanziarie delle piccole e medie imprese mediante la concessione di una "
         "garanzia pubblica", ["guarantee"]),  # 148
        ("È riconosciuto un credito d’imposta in misura pari a un importo percentuale dei costi sostenuti "
         "dall’impresa per le attività di formazione.", ["tax_relief"]),  # 136
        ("Esenzione dal pagamento del Bollo Auto per le ex ONLUS iscritte al RUNTS", ["tax_relief"]),  # 2768
        ("Il Fondo effettua investimenti diretti nel capitale di rischio alle seguenti condizioni", ["equity"]),  # 90
        ("È previsto un contributo a fondo perduto concesso per un importo massimo di 70.000 euro.", ["grant"]),  # 226
        (  # 3768: a guarantee asked for an advance is a cost, not the aid
            "abbiano sostenuto costi per l’attivazione di fideiussioni bancarie ed assicurative a garanzia di "
            "anticipi concessi dalla Regione Marche", [],
        ),
        (  # 197: the grant-equivalent measures an aid, it is none
            "Per il calcolo dell’ammontare delle agevolazioni, in termini di equivalente sovvenzione lordo (ESL), si "
            "applica la metodologia di cui alla comunicazione della Commissione.", [],
        ),
    ],
)
def test_support_forms_from_the_wording(extract: CallMetadataExtractor, phrase: str, forms: list[str]) -> None:
    found = extract.run(phrase).support_forms
    assert [f.form.value for f in found] == forms
    assert all(f.evidence.text and f.evidence.text in phrase for f in found)


@pytest.mark.parametrize(
    ("phrase", "sizes"),
    [
        ("Possono beneficiare dell’agevolazione le micro, piccole e medie imprese (PMI).",
         ["micro", "small", "medium"]),  # 52
        ("Bando rivolto alle micro, piccole, medie e grandi imprese che hanno la sede operativa in Lombardia.",
         ["micro", "small", "medium", "large"]),  # 1190
        ("Sono ammesse a fruire del contributo le piccole e micro imprese volte in ambito commerciale.",
         ["micro", "small"]),  # 999
        ("Micro e Piccole imprese appartenenti al Comparto dell'Edilizia.", ["micro", "small"]),  # 1607
        ("Possono beneficiare delle agevolazioni le imprese di qualsiasi dimensione.",
         ["micro", "small", "medium", "large"]),  # 1523
        ("Possono presentare domanda le imprese del commercio.", []),  # no size said: none guessed
        ("Possono presentare domanda le PMI; non sono ammesse le grandi imprese.", ["micro", "small", "medium"]),
    ],
)
def test_firm_sizes_from_the_wording(extract: CallMetadataExtractor, phrase: str, sizes: list[str]) -> None:
    assert [s.size.value for s in extract.run(phrase).firm_sizes] == sizes


def test_every_value_carries_its_evidence(extract: CallMetadataExtractor) -> None:
    text = ("Bando rivolto alle micro, piccole e medie imprese della Regione Puglia: contributo a fondo perduto fino "
            "a 50.000 euro per ogni impresa, domande dal 10/09/2025 al 31/10/2025.")
    meta = extract.run(text)
    values = [meta.opening, meta.deadline, meta.max_per_project, *meta.territory, *meta.support_forms,
              *meta.firm_sizes, *meta.beneficiaries]
    assert all(v is not None and v.evidence.text == text[v.evidence.start : v.evidence.end] for v in values)
