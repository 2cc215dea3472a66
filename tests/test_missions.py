"""MissionClassifier: official codes, the official PNRR -> SDG mapping, crosswalks, and text (cues, embeddings)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from convergenze.core.records import Document, MissionLabel, Section
from convergenze.core.settings import DataSettings, EmbeddingSettings
from convergenze.core.vocabulary import DocType
from convergenze.extractors.missions import MissionClassifier
from convergenze.extractors.taxonomy import SDG_MAPPING_FILE, Taxonomy, read_sdg_mapping

SUBMEASURE = "M1C1I1.04.06"  # mapped to a prevalent goal and a secondary one in the official file


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


@pytest.fixture(scope="module")
def mapping(corpora_dir: Path) -> dict[str, list[tuple[str, bool]]]:
    return read_sdg_mapping(corpora_dir / SDG_MAPPING_FILE)


@pytest.fixture(scope="module")
def cues_only(taxonomy: Taxonomy) -> MissionClassifier:
    return MissionClassifier(taxonomy, None, None)


@pytest.fixture(scope="module")
def official(
    taxonomy: Taxonomy, mapping: dict[str, list[tuple[str, bool]]], cues_only: MissionClassifier
) -> MissionClassifier:
    return MissionClassifier(taxonomy, None, mapping, cues=cues_only.cues)


def by_key(labels: list[MissionLabel]) -> dict[tuple[str, str], MissionLabel]:
    return {(label.framework, label.code): label for label in labels}


def measure_document(corpora_dir: Path, code: str) -> Document:
    """A PNRR measure as PnrrMeasuresConnector builds it (the metadata keys and the head section)."""
    quadro = pd.read_csv(
        corpora_dir / "italia-domani/OpenData_PNRR_QuadroFin_Programmazione_v04.csv",
        sep=";",
        encoding="utf-8-sig",
        dtype=str,
    )
    row = quadro[quadro["Codice Univoco Submisura"] == code].iloc[0]
    meta = {
        "programme": ["PNRR"],
        "mission_code": row["Missione"],
        "mission": row["Descrizione Missione"],
        "component_code": row["Componente"],
        "component": row["Descrizione Componente"],
        "measure_code": row["Codice Univoco Misura"],
        "submeasure_code": code,
        "submeasure": row["Descrizione Submisura"],
        "mission_codes": [row["Missione"], row["Componente"]],
    }
    head = (
        f"Missione {row['Missione']}: {row['Descrizione Missione']}\nComponente {row['Componente']}: "
        f"{row['Descrizione Componente']}\nMisura: {row['Descrizione Misura']}"
    )
    return Document(
        id=f"pnrr-measure:{code}",
        source="pnrr-measures",
        type=DocType.MEASURE,
        title=f"{code} {row['Descrizione Submisura']}",
        sections=[Section(head, heading="Misura")],
        language="it",
        metadata=meta,
    )


def eu_topic(
    identifier: str, call: str, cluster: str | None, title: str, text: str, programme: str = "Horizon Europe"
) -> Document:
    meta = {"topic_id": identifier, "call_identifier": call, "cluster": cluster, "programme": [programme]}
    return Document(
        id=f"eu-topic:{identifier}",
        source="eu-topics",
        type=DocType.CALL,
        title=title,
        sections=[Section(text)],
        language="en",
        metadata=meta,
    )


def text_document(text: str, language: str = "it") -> Document:
    return Document(
        id="test:text",
        source="test",
        type=DocType.CALL,
        title=text.split(".")[0],
        sections=[Section(text)],
        language=language,
    )


# --- official codes and the official mapping (no model) ------------------------------------------------------


def test_pnrr_measure_gets_official_codes_and_the_sdgs_of_the_official_mapping(
    corpora_dir: Path, official: MissionClassifier
) -> None:
    labels = by_key(official.run(measure_document(corpora_dir, SUBMEASURE)))
    for code in ("M1", "M1C1"):
        assert labels[("pnrr", code)].score == 1.0 and labels[("pnrr", code)].source == "official"
    # The expected goals read straight from the CSV, independently of read_sdg_mapping.
    rows = pd.read_csv(corpora_dir / SDG_MAPPING_FILE, sep=";", encoding="utf-8-sig", dtype=str)
    rows = rows[rows["Codice Univoco submisura"] == SUBMEASURE]
    expected = {f"SDG{goal}": flag == "si" for goal, flag in zip(rows["GOAL"], rows["PREVALENTE"], strict=True)}
    assert len(expected) == 2 and any(expected.values()) and not all(expected.values())
    sdg = {code: label for (framework, code), label in labels.items() if framework == "sdg"}
    assert set(sdg) == set(expected)
    for code, prevalent in expected.items():
        assert sdg[code].source == "mapping"
        assert sdg[code].score == (1.0 if prevalent else official.secondary_sdg_score)
    # Component crosswalk (more specific than M1's): the PA's digitalisation is the digital transition.
    assert labels[("convergenze", "digital")].source == "crosswalk"
    assert ("convergenze", "development") not in labels
    assert labels[("cohesion", "PO1")].source == "crosswalk"


def test_funded_project_inherits_the_mapping_of_its_submeasure(
    official: MissionClassifier, mapping: dict[str, list[tuple[str, bool]]]
) -> None:
    code = next(c for c in mapping if c.startswith("M2C2"))
    project = Document(
        id="pnrr-project:J12B21000000001",
        source="pnrr-projects",
        type=DocType.PROJECT,
        title="Impianto di biometano",
        sections=[Section("Realizzazione impianto")],
        language="it",
        metadata={"submeasure_code": code, "submeasure_codes": [code], "mission_codes": ["M2", "M2C2"]},
    )
    labels = by_key(official.run(project))
    assert {("sdg", goal) for goal, _ in mapping[code]} <= set(labels)
    assert labels[("pnrr", "M2C2")].source == "official"
    assert labels[("convergenze", "climate")].source == "crosswalk"


def test_horizon_cluster_from_the_call_identifier_and_its_crosswalk(cues_only: MissionClassifier) -> None:
    topic = eu_topic(
        "HORIZON-CL5-2026-09-D4-03",
        "HORIZON-CL5-2026-09",
        "CL5",
        "Whole life carbon of buildings",
        "Demonstrate digital data exchange platforms for buildings.",
    )
    labels = by_key(cues_only.run(topic))
    assert labels[("horizon", "CL5")].score == 1.0 and labels[("horizon", "CL5")].source == "official"
    assert labels[("convergenze", "climate")].source == "crosswalk"
    assert not any(f == "horizon" and c != "CL5" for f, c in labels)  # the official code wins over the text


def test_horizon_missions_from_the_topic_id_or_else_from_the_text(cues_only: MissionClassifier) -> None:
    cancer = eu_topic(
        "HORIZON-MISS-2026-02-CANCER-05",
        "HORIZON-MISS-2026-02",
        "MISS",
        "Young cancer survivors",
        "Boosting mental health.",
    )
    assert by_key(cues_only.run(cancer))[("horizon", "MISS-CANCER")].source == "official"
    both = eu_topic("HORIZON-MISS-2026-06-CLIMA-SOIL", "HORIZON-MISS-2026-06", "MISS", "Soil resilience", "Soils.")
    assert {("horizon", "MISS-ADAPTATION"), ("horizon", "MISS-SOIL")} <= set(by_key(cues_only.run(both)))
    named = eu_topic(
        "HORIZON-MISS-2027-01-X",
        "HORIZON-MISS-2027-01",
        "MISS",
        "Pilot cities",
        "Support to the Climate-Neutral and Smart Cities Mission platform.",
    )
    assert by_key(cues_only.run(named))[("horizon", "MISS-CITIES")].evidence == ["mission named in the text"]


def test_life_programme_is_climate(cues_only: MissionClassifier) -> None:
    topic = eu_topic("LIFE-2026-SAP-NAT", "LIFE-2026-SAP-NAT", None, "Nature projects", "Habitats.", "LIFE")
    climate = by_key(cues_only.run(topic))[("convergenze", "climate")]
    assert climate.score == 1.0 and climate.source == "official"


def test_without_the_mapping_file_sdgs_come_from_the_text(tmp_path: Path, corpora_dir: Path) -> None:
    classifier = MissionClassifier.from_settings(None, DataSettings(CONVERGENZE_CORPORA=str(tmp_path)))
    assert classifier.sdg_mapping == {}
    labels = classifier.run(measure_document(corpora_dir, SUBMEASURE))
    assert not any(label.source == "mapping" for label in labels)
    with_file = MissionClassifier.from_settings(None, DataSettings(CONVERGENZE_CORPORA=str(corpora_dir)))
    assert SUBMEASURE in with_file.sdg_mapping


# --- cue terms (no model) ----------------------------------------------------------------------------------------


def test_energy_retrofit_text_is_climate_with_cue_evidence(cues_only: MissionClassifier) -> None:
    text = (
        "Il bando finanzia la riqualificazione energetica degli edifici pubblici e l'installazione di impianti "
        "fotovoltaici. Le domande vanno presentate entro marzo."
    )
    climate = by_key(cues_only.run(text_document(text)))[("convergenze", "climate")]
    assert climate.source == "cues" and climate.score >= cues_only.threshold
    assert climate.evidence == [
        "Il bando finanzia la riqualificazione energetica degli edifici pubblici e "
        "l'installazione di impianti fotovoltaici."
    ]


def test_social_services_text_is_welfare(cues_only: MissionClassifier) -> None:
    labels = by_key(cues_only.classify_text("Servizi sociali per anziani e inclusione delle persone fragili.", "it"))
    assert ("convergenze", "welfare") in labels
    assert not any(f == "convergenze" and c != "welfare" for f, c in labels)


def test_small_firms_are_not_children(cues_only: MissionClassifier) -> None:
    # incentivi.gov.it 52 (Nuova Sabatini): the lemma table reads "minori" (children) as "piccolo" (small), so the
    # welfare cue fired on every "piccole e medie imprese"; it is matched on its surface form now.
    sabatini = "Possono beneficiare dell’agevolazione le micro, piccole e medie imprese (PMI)."
    assert ("convergenze", "welfare") not in by_key(cues_only.classify_text(sabatini, "it"))
    children = cues_only.cues.run([("Servizi educativi per i minori e sostegno alle famiglie.", "it")])
    assert "minori" in children[("convergenze", "welfare")].terms


def test_a_sources_own_objectives_label_through_the_taxonomy(cues_only: MissionClassifier) -> None:
    document = text_document("Contributi per investimenti in macchinari e impianti fotovoltaici delle imprese.")
    document.metadata.update(topics=["Digitalizzazione", "Sostegno investimenti", "Sostegno liquidità"],
                             topics_vocabulary="incentivi")
    labels = by_key(cues_only.run(document))
    digital, development = labels[("convergenze", "digital")], labels[("convergenze", "development")]
    assert (digital.source, digital.score) == ("crosswalk", 1.0)
    assert digital.evidence[0].startswith("objective: Digitalizzazione -> convergenze digital")
    assert (development.source, development.score) == ("crosswalk", 0.6)
    assert labels[("convergenze", "climate")].source == "cues"  # the text still speaks for the framework
    document.metadata["topics_vocabulary"] = "another-portal"
    assert ("convergenze", "digital") not in by_key(cues_only.run(document))


def test_neutral_text_gets_no_label(cues_only: MissionClassifier) -> None:
    text = "La domanda è presentata tramite PEC entro le ore 12:00 del 15 marzo, con firma digitale."
    assert cues_only.run(text_document(text)) == []


def test_callers_mistakes_are_refused_with_the_fix(
    taxonomy: Taxonomy, cues_only: MissionClassifier, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="embedder that produced them"):
        cues_only.run(text_document("Transizione ecologica."), passage_vectors=np.zeros((1, 384), np.float32))
    with pytest.raises(ValueError, match="model_frameworks"):
        MissionClassifier(taxonomy, None, None, model_frameworks=("esg",), cues=cues_only.cues)
    with pytest.raises(ValueError, match="threshold"):
        MissionClassifier(taxonomy, None, None, threshold=1.5, cues=cues_only.cues)
    with pytest.raises(ValueError, match="non-empty"):
        cues_only.classify_text("  ")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="Mappatura"):
        read_sdg_mapping(wrong)


# --- embeddings (the real model) ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def embedder(models_dir: Path):  # type: ignore[no-untyped-def]
    from convergenze.index.embeddings import create_embedder

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONVERGENZE_MODELS", str(models_dir))
        return create_embedder(EmbeddingSettings(), DataSettings())


@pytest.fixture(scope="module")
def model(taxonomy: Taxonomy, embedder, cues_only: MissionClassifier) -> MissionClassifier:  # type: ignore[no-untyped-def]
    return MissionClassifier(taxonomy, embedder, None, cues=cues_only.cues)


@pytest.mark.slow
def test_model_classifies_texts_by_mission(model: MissionClassifier) -> None:
    climate = by_key(model.classify_text("Riqualificazione energetica e fotovoltaico sui tetti delle scuole", "it"))
    assert climate[("convergenze", "climate")].score >= model.threshold
    welfare = by_key(model.classify_text("Servizi sociali per anziani e inclusione", "it"))
    assert ("convergenze", "welfare") in welfare
    neutral = model.classify_text("Le domande devono essere inviate tramite PEC entro il 15 marzo.", "it")
    assert not [label for label in neutral if label.framework == "convergenze"]


@pytest.mark.slow
def test_a_text_already_embedded_is_labelled_alike_without_embedding_it_again(
    model: MissionClassifier, embedder  # type: ignore[no-untyped-def]
) -> None:
    text = "Riqualificazione energetica e fotovoltaico sui tetti delle scuole"
    own = model.classify_text(text, "it")
    given = model.classify_text(text, "it", embedder.embed_queries([text])[0])
    assert [(m.framework, m.code, m.score) for m in given] == [(m.framework, m.code, m.score) for m in own]


@pytest.mark.slow
def test_model_reuses_the_indexers_passage_vectors(model: MissionClassifier, embedder) -> None:  # type: ignore[no-untyped-def]
    passages = [
        "Bando per la rigenerazione urbana delle periferie e il recupero dei borghi delle aree interne.",
        "Contributi per i comuni sotto i 5.000 abitanti contro lo spopolamento.",
    ]
    document = Document(
        id="test:regen",
        source="test",
        type=DocType.CALL,
        title="Rigenerazione dei borghi",
        sections=[Section(p) for p in passages],
        language="it",
    )
    vectors = embedder.embed_passages(passages)
    labels = by_key(model.run(document, passage_vectors=vectors, passage_texts=passages))
    assert ("convergenze", "territorial") in labels
    assert model.run(document, passage_vectors=vectors) != []  # without texts: evidence from cue sentences only
    with pytest.raises(ValueError, match="shape"):
        model.run(document, passage_vectors=np.zeros((2, 10), np.float32))
    with pytest.raises(ValueError, match="one per vector"):
        model.run(document, passage_vectors=vectors, passage_texts=passages[:1])
    sections = model.run_sections(document)
    assert len(sections) == 2 and any(("convergenze", "territorial") in by_key(s) for s in sections)
