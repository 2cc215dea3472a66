"""ObjectiveExtractor: objective statements of Italian and EU calls, with exact offsets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convergenze.core.records import Objective
from convergenze.corpora.connectors.base import SourceSpec
from convergenze.corpora.connectors.eu_topics import EuTopicsConnector
from convergenze.corpora.connectors.fields import fix_text, html_to_text
from convergenze.extractors.objectives import ObjectiveExtractor

TOPIC = "HORIZON-CL5-2026-09-D4-03"


@pytest.fixture(scope="module")
def extractor() -> ObjectiveExtractor:
    return ObjectiveExtractor()


def exact(text: str, found: list[Objective]) -> list[Objective]:
    for objective in found:
        assert text[objective.start : objective.end] == objective.text
    return found


ITALIAN_CALL = """AVVISO PUBBLICO PER IL SOSTEGNO ALLE IMPRESE

Art. 1 – Finalità ............................................ 3
Art. 2 – Beneficiari .......................................... 4

Art. 1 – Finalità

La Camera di commercio intende sostenere i progetti di sviluppo dell'economia locale. L'Avviso persegue le \
seguenti finalità:
- rafforzare la competitività delle micro e piccole imprese del territorio;
• promuovere la transizione digitale delle PMI;
a) favorire l'occupazione giovanile e femminile.

Art. 2 – Beneficiari

Possono presentare domanda le imprese iscritte al Registro delle imprese, al fine di accedere al contributo.

Art. 9 – Trattamento dei dati
I dati personali sono trattati per le finalità di gestione del procedimento, al fine di garantire la trasparenza.
"""


def test_bulleted_aims_after_finalita_with_exact_offsets(extractor: ObjectiveExtractor) -> None:
    found = exact(ITALIAN_CALL, extractor.run(ITALIAN_CALL, "it"))
    texts = [o.text for o in found]
    assert texts == [
        "La Camera di commercio intende sostenere i progetti di sviluppo dell'economia locale.",
        "rafforzare la competitività delle micro e piccole imprese del territorio",
        "promuovere la transizione digitale delle PMI",
        "favorire l'occupazione giovanile e femminile.",
    ]
    assert [o.cue for o in found] == ["intende sostenere", "Finalità", "Finalità", "Finalità"]
    assert all(o.language == "it" and o.section is None for o in found)


def test_table_of_contents_procedure_and_privacy_are_not_objectives(extractor: ObjectiveExtractor) -> None:
    texts = " ".join(o.text for o in extractor.run(ITALIAN_CALL, "it"))
    assert "....." not in texts
    assert "accedere al contributo" not in texts  # "al fine di" + a procedural verb
    assert "dati personali" not in texts


def test_italian_cue_sentences(extractor: ObjectiveExtractor) -> None:
    text = (
        "1. Obiettivi\n\nL’Avviso si propone di supportare le medie e grandi imprese che investono in Liguria.\n\n"
        "2. Soggetti beneficiari\nLe imprese devono avere sede in Liguria. Il programma mira a ridurre i divari "
        "territoriali. Il fondo ha l'obiettivo di rafforzare le filiere produttive. VISTO il decreto che mira a "
        "sostenere la ricerca;"
    )
    found = exact(text, extractor.run(text, "it"))
    assert [(o.cue, o.text) for o in found] == [
        ("Obiettivi", "L’Avviso si propone di supportare le medie e grandi imprese che investono in Liguria."),
        ("mira a", "Il programma mira a ridurre i divari territoriali."),
        ("ha l'obiettivo", "Il fondo ha l'obiettivo di rafforzare le filiere produttive."),
        ("mira a", "VISTO il decreto che mira a sostenere la ricerca"),
    ]


def test_cue_sentence_that_introduces_a_list(extractor: ObjectiveExtractor) -> None:
    text = "Premessa.\nIl bando ha l'obiettivo di:\n1) ridurre i consumi energetici;\n2) diffondere le rinnovabili.\n"
    found = exact(text, extractor.run(text, "it"))
    assert [o.text for o in found] == ["ridurre i consumi energetici", "diffondere le rinnovabili."]


def test_english_cues(extractor: ObjectiveExtractor) -> None:
    text = (
        "The call aims to strengthen the resilience of European cities. Applicants must register in the portal. "
        "The objective of this topic is to develop new climate services. In this topic the integration of the "
        "gender dimension should be addressed in relation to the objectives of the research effort."
    )
    found = exact(text, extractor.run(text, "en"))
    assert [o.text for o in found] == [
        "The call aims to strengthen the resilience of European cities.",
        "The objective of this topic is to develop new climate services.",
    ]


def test_expected_outcome_of_a_real_eu_topic(corpora_dir: Path, extractor: ObjectiveExtractor) -> None:
    topics = json.loads((corpora_dir / "eu-funding-tenders/topics.json").read_text(encoding="utf-8"))
    record = next(t for t in topics if t["topicId"] == TOPIC)
    text = fix_text(html_to_text(record["description"]))
    found = exact(text, extractor.run(text, "en"))
    outcomes = [o for o in found if o.cue == "Expected Outcome"]
    assert len(outcomes) == 4
    assert outcomes[0].text.startswith("Increased number of building information tools")
    assert outcomes[-1].text.startswith("Improved data availability and interoperability")
    assert all(o.end <= text.index("Scope:") for o in outcomes)


def test_expected_outcome_section_from_the_connector(
    corpora_dir: Path, tmp_path: Path, extractor: ObjectiveExtractor
) -> None:
    topics = json.loads((corpora_dir / "eu-funding-tenders/topics.json").read_text(encoding="utf-8"))
    path = tmp_path / "topics.json"
    path.write_text(json.dumps([t for t in topics if t["topicId"] == TOPIC]), encoding="utf-8")
    spec = SourceSpec(name="eu-topics", kind="eu_topics", files={"topics": str(path)})
    (document,) = EuTopicsConnector(spec, {"topics": path}).run().documents
    section = next(s for s in document.sections if s.heading == "Expected Outcome")
    found = exact(section.text, extractor.run(section.text, "en", section="Expected Outcome"))
    assert len(found) == 4 and all(o.section == "Expected Outcome" for o in found)


def test_repeats_are_dropped_and_the_count_is_capped() -> None:
    sentence = "Il bando mira a sostenere le imprese del territorio."
    text = (
        " ".join([sentence] * 3)
        + " "
        + " ".join(f"L'intervento {i} mira a ridurre le emissioni di {i} tonnellate." for i in range(10))
    )
    found = exact(text, ObjectiveExtractor(max_objectives=5).run(text, "it"))
    assert len(found) == 5
    assert [o.text for o in found].count(sentence) == 1


def test_callers_mistakes_are_refused(extractor: ObjectiveExtractor) -> None:
    with pytest.raises(ValueError, match="must be a str"):
        extractor.run(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 1"):
        ObjectiveExtractor(max_objectives=0)
    assert extractor.run("", "it") == []
