"""The ingestion flow, run for real (Prefect ephemeral mode, Qdrant Edge) on a small mirror of real data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from convergenze.core.settings import DataSettings, QdrantSettings
from convergenze.core.vocabulary import EmbedBackend
from convergenze.index.store.factory import open_store
from tests.conftest import use_environment

pytestmark = pytest.mark.slow


def by_source(report: dict) -> dict[str, dict]:
    return {s["source"]: s for s in report["sources"]}


def test_every_source_is_read_and_indexed(ingested: dict) -> None:
    sources = by_source(ingested["report"])
    assert set(sources) == {
        "pnrr-measures",
        "pnrr-calls",
        "pnrr-projects",
        "pnc-programmes",
        "eu-funding-tenders",
        "emilia-romagna",
        "lazio-innova",
        "incentivi-gov",
        "bandi-pdf",
    }
    assert all(s["error"] is None for s in sources.values())
    assert sources["pnrr-measures"]["indexed"] == 6
    assert sources["pnrr-calls"]["indexed"] == 40
    assert sources["eu-funding-tenders"]["indexed"] == 8
    assert sources["lazio-innova"]["indexed"] == 6
    assert 0 < sources["pnrr-projects"]["indexed"] == sources["pnrr-projects"]["read"] <= 60
    assert sources["bandi-pdf"]["indexed"] == 2
    assert ingested["report"]["documents"] == sum(s["indexed"] for s in sources.values())
    assert ingested["report"]["points"] >= ingested["report"]["documents"]


def test_bad_inputs_are_skipped_with_their_reason(ingested: dict) -> None:
    sources = by_source(ingested["report"])
    pdf_reasons = {s["ref"]: s["reason"] for s in sources["bandi-pdf"]["skipped"]}
    assert set(pdf_reasons) == {"truncated_bando.pdf", "empty_bando.pdf", "not_really.pdf"}
    assert all(reason.startswith("bad PDF: ") for reason in pdf_reasons.values())
    assert "empty" in pdf_reasons["empty_bando.pdf"]
    assert "not a PDF" in pdf_reasons["not_really.pdf"]
    assert [s["reason"] for s in sources["pnrr-calls"]["skipped"]] == [
        "malformed record: no serial number or no title"
    ]
    assert [s["reason"] for s in sources["eu-funding-tenders"]["skipped"]] == [
        "malformed record: no topicId or no title"
    ]


def test_report_is_saved(ingested: dict) -> None:
    reports = Path(ingested["data_dir"]) / "reports"
    assert (reports / "latest.json").exists()
    assert len(list(reports.glob("ingest-*.json"))) >= 1


def test_reingesting_is_idempotent_and_a_changed_record_replaces_its_points(
    ingested: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from convergenze.pipelines.ingest import ingest_flow

    # Work on a copy: the session's index stays as other tests expect it.
    data_dir, mirror = tmp_path / "data", tmp_path / "mirror"
    shutil.copytree(ingested["data_dir"], data_dir)
    shutil.copytree(ingested["mirror"], mirror)
    use_environment(monkeypatch, data_dir, mirror, ingested["models_dir"])
    sources = ["pnrr-calls", "emilia-romagna"]

    again = ingest_flow(sources=sources, today="2026-11-24", progress=False)
    assert [(s["indexed"], s["unchanged"]) for s in again["sources"]] == [(0, 40), (0, 18)]
    assert (again["documents"], again["points"]) == (
        ingested["report"]["documents"],
        ingested["report"]["points"],
    )

    calls_file = mirror / "italia-domani/PNRR_Bandi_e_Avvisi.csv"
    calls = pd.read_csv(calls_file, sep=";", encoding="utf-8-sig", dtype=str)
    serial = calls.loc[0, "Numero seriale "]
    calls.loc[0, "Titolo Bando o Avviso"] = "Avviso pubblico per la riqualificazione dei borghi storici"
    calls.to_csv(calls_file, sep=";", index=False, encoding="utf-8-sig")
    changed = ingest_flow(sources=["pnrr-calls"], today="2026-11-24", progress=False)
    assert (changed["sources"][0]["indexed"], changed["sources"][0]["unchanged"]) == (1, 39)
    assert changed["documents"] == ingested["report"]["documents"]

    store = open_store(QdrantSettings(), DataSettings(), write=False)
    try:
        chunks = store.get_document_chunks(f"pnrr-call:{serial}")
        assert chunks and all("borghi storici" in c["title"] for c in chunks)
        assert store.count_points() == changed["points"]
    finally:
        store.close()


def test_unreachable_source_is_reported_and_the_batch_goes_on(
    ingested: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from convergenze.pipelines.ingest import ingest_flow

    data_dir = tmp_path / "data"
    shutil.copytree(ingested["data_dir"], data_dir)
    empty_mirror = tmp_path / "empty-mirror"
    (empty_mirror / "regional-api-captures").mkdir(parents=True)
    shutil.copy(
        ingested["mirror"] / "regional-api-captures/emilia-romagna_plone_search_bando.json",
        empty_mirror / "regional-api-captures/",
    )
    use_environment(monkeypatch, data_dir, empty_mirror, ingested["models_dir"])
    report = ingest_flow(sources=["pnc-programmes", "emilia-romagna"], today="2026-11-24", progress=False)
    pnc, er = report["sources"]
    assert pnc["error"] and pnc["error"].startswith("unreachable source")
    assert er["error"] is None and er["unchanged"] == 18
    assert report["documents"] == ingested["report"]["documents"]  # nothing lost from the index


def test_another_backend_re_embeds_unchanged_documents(
    ingested: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """int8 and float32 vectors are close, not equal: a change of backend re-embeds, never mixes them."""
    from convergenze.index.embeddings.factory import model_name
    from convergenze.pipelines.ingest import ingest_flow

    data_dir = tmp_path / "data"
    shutil.copytree(ingested["data_dir"], data_dir)
    use_environment(monkeypatch, data_dir, ingested["mirror"], ingested["models_dir"])
    monkeypatch.setenv("CONVERGENZE_EMBED_BACKEND", "torch")
    report = ingest_flow(sources=["pnrr-measures"], today="2026-11-24", progress=False)
    assert [(s["indexed"], s["unchanged"]) for s in report["sources"]] == [(6, 0)]
    assert report["documents"] == ingested["report"]["documents"]

    store = open_store(QdrantSettings(), DataSettings(), write=False)
    try:
        hashes = store.document_hashes(embedder=model_name(EmbedBackend.TORCH))
        measures = [d for d in hashes if d.startswith("pnrr-measure:")]
        assert len(measures) == 6 and all(hashes[d] is not None for d in measures)
        assert sum(h is not None for h in hashes.values()) == 6  # the other sources keep their int8 vectors
    finally:
        store.close()
