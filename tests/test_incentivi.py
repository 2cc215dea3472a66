"""The incentivi.gov.it connector: the open-data export and the Solr index read as one source, official fields
kept as facts, malformed fields skipped with their reason, known data errors explained, changes versioned."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from convergenze.core.payload import DocumentPayload, document_payload
from convergenze.corpora.connectors.base import ConnectorResult, SourceSpec
from convergenze.corpora.connectors.incentivi import rome_day
from convergenze.corpora.registry import SourceResolver, build_connector, load_sources, select_sources
from convergenze.corpora.state import StateStore
from convergenze.pipelines.changes import ChangeDetector

TODAY = date(2025, 7, 12)
EXPORT = "incentivi-opendata/opendata-export-sample.json"


def spec() -> SourceSpec:
    (found,) = select_sources(load_sources(), ["incentivi-gov"])
    return found


def run(files: dict[str, Path], today: date = TODAY) -> ConnectorResult:
    only = spec()
    return build_connector(replace(only, files={k: only.files[k] for k in files}), files, today=today).run()


@pytest.fixture(scope="module")
def sample(corpora_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    files = SourceResolver(corpora_dir, tmp_path_factory.mktemp("cache"), allow_download=False).resolve(spec())
    result = build_connector(spec(), files, today=TODAY).run()
    return {"result": result, "by_id": {d.id: d for d in result.documents}}


def export_records(corpora_dir: Path) -> list[dict[str, Any]]:
    return json.loads((corpora_dir / EXPORT).read_text(encoding="utf-8"))


def write(path: Path, records: Any) -> dict[str, Path]:
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return {"export": path}


def test_export_and_solr_index_are_one_source(sample: dict[str, Any]) -> None:
    result = sample["result"]
    ids = [d.id for d in result.documents]
    assert len(ids) == len(set(ids)) == 213 and not result.skipped  # 200 from the export, 13 from Solr
    assert {d.metadata["provenance"] for d in result.documents} == {"export", "solr"}
    solr = sample["by_id"]["incentivi:3400"]  # the Solr capture's fields under the same keys as the export's
    assert solr.metadata["region"] == ["Campania", "Puglia"] and solr.metadata["grant_max"] == 300_000.0
    assert solr.url and solr.url.startswith("https://www.incentivi.gov.it/it/catalogo/")


def test_official_fields_are_facts_in_the_payload(sample: dict[str, Any]) -> None:
    document = sample["by_id"]["incentivi:52"]  # Beni Strumentali - Nuova Sabatini
    meta = document.metadata
    assert (meta["opening"], meta["deadline"]) == ("2021-07-02", None)
    assert (meta["cost_min"], meta["cost_max"], meta["grant_max"]) == (20_000.0, 4_000_000.0, None)
    assert meta["budget_total"] == 4_196_112_734.0
    assert meta["national"] is True and len(meta["region"]) == 20 and "Trentino-Alto Adige" in meta["region"]
    assert meta["recipients"] == ["Impresa"] and meta["beneficiary_types"] == ["company"]
    assert meta["firm_sizes"] == ["micro", "small", "medium"] and meta["support_forms"] == ["grant"]
    assert meta["topics"] == ["Digitalizzazione", "Sostegno investimenti", "Transizione ecologica"]
    payload = document_payload(document)
    assert payload["support_forms"] == ["grant"] and payload["firm_sizes"] == ["medium", "micro", "small"]
    typed = DocumentPayload.from_payload(payload)
    assert typed.official("cost_max") == "Spesa ammessa max: € 4.000.000,00"
    assert typed.official("opening") == "Data apertura: 02/07/2021"
    assert typed.official("grant_max") is None  # not published: nothing to quote
    assert [s.heading for s in document.sections] == ["Cos'è", "A chi si rivolge", "Cosa prevede",
                                                       "Note di apertura e chiusura"]
    assert document.sections[0].text.startswith("Beni Strumentali - Nuova Sabatini\nCos'è\nLa misura")
    assert document.sections[1].text.startswith("A chi si rivolge\nPossono beneficiare")
    assert "https://benistrumentali.dgiai.gov.it" in document.text  # glued list items split, URLs left alone


def test_utc_timestamps_are_read_as_rome_days(sample: dict[str, Any]) -> None:
    assert rome_day("2022-09-07T22:00:00") == "2022-09-08"  # "Dall'8 settembre 2022", says the text of 80
    assert sample["by_id"]["incentivi:80"].metadata["opening"] == "2022-09-08"
    assert sample["by_id"]["incentivi:197"].metadata["deadline"] == "2025-12-31"  # 2025-12-30T23:00:00
    assert rome_day("2026-06-30") == "2026-06-30"


def test_known_data_errors_are_left_out_and_explained(sample: dict[str, Any]) -> None:
    by_id = sample["by_id"]
    placeholder = by_id["incentivi:509"].metadata
    assert placeholder["budget_total"] is None
    assert any("placeholder" in note for note in placeholder["data_notes"])
    all_six = by_id["incentivi:1798"].metadata
    assert all_six["support_forms"] == [] and len(all_six["instrument"]) == 6
    isi = by_id["incentivi:1285"].metadata  # INAIL ISI 2023: filed as venture capital, "a fondo perduto" says the text
    assert isi["instrument"] == ["Capitale di rischio"] and isi["support_forms"] == ["grant"]
    assert any("Capitale di rischio" in note for note in isi["data_notes"])


def test_malformed_fields_are_skipped_with_their_reason(corpora_dir: Path, tmp_path: Path) -> None:
    good, broken = copy.deepcopy(export_records(corpora_dir)[:2])
    broken["Regioni"] = '["Lazio", "Umbria"'  # a cut JSON list
    broken["Dimensioni"] = '{"size": "PMI"}'
    broken["Data_chiusura"] = "31 dicembre"
    files = write(tmp_path / "export.json", [good, broken, {"Titolo": "senza id"}, "not a record"])
    result = run(files)
    kept = f"incentivi:{broken['ID_Incentivo']}"
    assert [d.id for d in result.documents] == [f"incentivi:{good['ID_Incentivo']}", kept]
    reasons = {s.ref: s.reason for s in result.skipped}
    assert reasons[f"{kept} Regioni"].startswith("malformed field Regioni: not a JSON list")
    assert reasons[f"{kept} Dimensioni"].startswith("malformed field Dimensioni: not a list of values")
    assert reasons[f"{kept} Data_chiusura"].startswith("malformed field Data_chiusura: not a date")
    assert reasons["record 2"] == "malformed record: no ID_Incentivo or no Titolo"
    assert reasons["record 3"] == "malformed record: not an object"
    meta = result.documents[1].metadata
    assert meta["region"] == [] and meta["firm_sizes"] == [] and meta["deadline"] is None
    assert len(meta["data_notes"]) == 3


def test_a_broken_export_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "export.json").write_text('[{"ID_Incentivo": 1', encoding="utf-8")
    result = run({"export": tmp_path / "export.json"})
    assert not result.documents and result.skipped[0].reason.startswith("malformed file: not valid JSON")


def test_the_record_updated_last_wins(corpora_dir: Path, tmp_path: Path) -> None:
    record = export_records(corpora_dir)[0]
    solr = {"zs_nid": str(record["ID_Incentivo"]), "zs_title": "Titolo dal Solr", "zs_body": "Testo.",
            "ds_last_update": "2030-01-01T00:00:00Z", "zs_url": "/it/catalogo/x"}
    (tmp_path / "select.json").write_text(json.dumps({"docs": [solr]}), encoding="utf-8")
    files = write(tmp_path / "export.json", [record]) | {"select": tmp_path / "select.json"}
    (newer,) = run(files).documents
    assert newer.title == "Titolo dal Solr" and newer.metadata["provenance"] == "solr"
    solr["ds_last_update"] = record["Data_ultimo_aggiornamento"]  # a tie: the export has more fields
    (tmp_path / "select.json").write_text(json.dumps({"docs": [solr]}), encoding="utf-8")
    (tied,) = run(files).documents
    assert tied.title == record["Titolo"] and tied.metadata["provenance"] == "export"


def test_a_new_closing_date_is_a_new_version_in_plain_words(corpora_dir: Path, tmp_path: Path) -> None:
    records = copy.deepcopy(export_records(corpora_dir)[:3])
    state = StateStore(tmp_path / "state.sqlite")
    detector = ChangeDetector(state, TODAY)
    first = detector.run("incentivi-gov", run(write(tmp_path / "a.json", records)).documents, complete=True)
    first.save(state)
    changed = records[1]
    changed["Data_chiusura"] = "2026-03-31T00:00:00"
    changed["Data_ultimo_aggiornamento"] = "2025-07-20T09:00:00Z"
    document_id = f"incentivi:{changed['ID_Incentivo']}"
    second = ChangeDetector(state, TODAY).run(
        "incentivi-gov", run(write(tmp_path / "b.json", records)).documents, complete=True
    )
    second.save(state)
    assert second.changed == [document_id] and not second.new and not second.withdrawn
    versions, events = state.history(document_id)
    assert [v["version"] for v in versions] == [1, 2]
    before = first.notices[1].fields["deadline"]
    expected = (f"deadline extended from {date.fromisoformat(before):%d/%m/%Y} to 31/03/2026" if before
                else "deadline set to 31/03/2026")
    assert expected in [e["message"] for e in events]
