"""Connectors over the real shared snapshot: counts, ids, official codes, cleaned text."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from convergenze.corpora.connectors.base import ConnectorResult
from convergenze.corpora.registry import (
    SourceResolver,
    SourceUnavailable,
    build_connector,
    load_sources,
    select_sources,
)

TODAY = date(2026, 11, 24)


def run_source(name: str, corpora_dir: Path, tmp_path: Path) -> ConnectorResult:
    (spec,) = select_sources(load_sources(), [name])
    files = SourceResolver(corpora_dir, tmp_path, allow_download=False).resolve(spec)
    return build_connector(spec, files, today=TODAY).run()


def test_pnrr_measures_one_document_per_submeasure(corpora_dir: Path, tmp_path: Path) -> None:
    result = run_source("pnrr-measures", corpora_dir, tmp_path)
    ids = [d.id for d in result.documents]
    assert len(ids) == len(set(ids)) == 285
    doc = next(d for d in result.documents if d.id == "pnrr-measure:M1C1I1.02.00")
    assert doc.metadata["mission_code"] == "M1" and doc.metadata["component_code"] == "M1C1"
    assert doc.metadata["mission_codes"] == ["M1", "M1C1"]
    assert "Abilitazione al cloud per le PA locali" in doc.title
    assert [s.heading for s in doc.sections][:2] == ["Misura", "Milestone e target"]
    assert "Bandi e avvisi" in [s.heading for s in doc.sections]
    assert [s.reason for s in result.skipped] == ["malformed record: no 'Codice Univoco Submisura'"]


def test_pnrr_calls_keep_dates_amounts_status(corpora_dir: Path, tmp_path: Path) -> None:
    result = run_source("pnrr-calls", corpora_dir, tmp_path)
    assert len(result.documents) == 245
    doc = next(d for d in result.documents if d.id == "pnrr-call:246")
    assert doc.metadata["opening"] == "2023-02-10" and doc.metadata["deadline"] == "2023-04-28"
    assert doc.metadata["budget_pnrr"] == 373_800_000.0
    assert doc.metadata["status"] == "closed"  # "In corso" in 2023, past its deadline by 2026
    assert doc.metadata["submeasure_code"] == "M1C1I1.01.00"
    assert doc.url and doc.url.startswith("https://innovazione.gov.it/")


def test_pnrr_projects_merge_repeated_cups_and_carry_places(corpora_dir: Path, tmp_path: Path) -> None:
    result = run_source("pnrr-projects", corpora_dir, tmp_path)
    ids = [d.id for d in result.documents]
    assert len(ids) == len(set(ids)) > 42_000
    assert all(i.startswith("pnrr-project:") for i in ids)
    doc = next(d for d in result.documents if d.id == "pnrr-project:J61F22000330006")
    assert doc.metadata["implementing_body"] == "COMUNE DI TORRICELLA"
    assert doc.metadata["submeasure_codes"] == ["M1C1I1.02.00"]
    assert doc.metadata["region"] and doc.metadata["places"][0]["istat_code"]
    assert "Soggetto attuatore: COMUNE DI TORRICELLA" in doc.text
    assert any("project without title" in s.reason for s in result.skipped)
    # ~8.8k projects have no CUP type or category: their text leaves the line out rather than saying "None".
    built = [line for d in result.documents for line in d.text.splitlines()
             if line.startswith(("Tipologia", "Soggetto"))]
    assert built and not [line for line in built if "None" in line]


def test_eu_topics_repair_mojibake_and_split_sections(corpora_dir: Path, tmp_path: Path) -> None:
    result = run_source("eu-funding-tenders", corpora_dir, tmp_path)
    assert len(result.documents) == 629
    assert not [d.id for d in result.documents if "â€" in d.text or "Ã" in d.text]
    # A non-breaking space published as "Â\u00a0" at the end of a title, and subscripts ftfy leaves alone.
    assert not [d.id for d in result.documents if "Â" in d.text or "â‚" in d.text]
    titles = {d.id: d.title for d in result.documents}
    assert titles["eu-topic:DIGITAL-JU-CHIPS-2026-SKILLS-PF-SG"].endswith("Pilot Federation")
    assert "Hydrogen and CO₂ networks" in titles["eu-topic:CEF-E-2026-PCI-PMI-WORKS"]
    doc = next(d for d in result.documents if d.id == "eu-topic:ERC-2026-POC")
    assert doc.metadata["programme"] == ["Horizon Europe"] and doc.metadata["deadline"] == "2026-03-17"
    assert "Objective" in [s.heading for s in doc.sections]
    assert doc.metadata["status"] == "closed"


@pytest.mark.parametrize(
    ("name", "count", "prefix"),
    [
        ("emilia-romagna", 18, "er-bando:"),
        ("lazio-innova", 15, "lazioinnova-bando:"),
        ("incentivi-gov", 213, "incentivi:"),
    ],
)
def test_regional_captures_strip_html(
    name: str, count: int, prefix: str, corpora_dir: Path, tmp_path: Path
) -> None:
    result = run_source(name, corpora_dir, tmp_path)
    assert len(result.documents) == count and not result.skipped
    for doc in result.documents:
        assert doc.id.startswith(prefix)
        assert "<p" not in doc.text and "&#8211;" not in doc.text and "&nbsp;" not in doc.text


def test_lazio_titles_decode_entities(corpora_dir: Path, tmp_path: Path) -> None:
    titles = [d.title for d in run_source("lazio-innova", corpora_dir, tmp_path).documents]
    assert "STEP Lazio – Sostegno allo sviluppo e alla fabbricazione di tecnologie critiche" in " ".join(
        titles
    ) or any(t.startswith("STEP Lazio – ") for t in titles)


def test_incentivi_keeps_structured_fields(corpora_dir: Path, tmp_path: Path) -> None:
    doc = next(
        d for d in run_source("incentivi-gov", corpora_dir, tmp_path).documents if d.id == "incentivi:3400"
    )
    assert doc.metadata["deadline"] == "2026-06-30" and doc.metadata["region"] == ["Campania", "Puglia"]
    assert doc.metadata["budget_total"] == 2_066_866.0 and doc.metadata["grant_max"] == 300_000.0


def test_malformed_records_are_skipped_not_fatal(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror" / "regional-api-captures"
    mirror.mkdir(parents=True)
    (mirror / "lazioinnova_wp_bandi.json").write_text(
        '{"posts": [{"id": 1, "title": {"rendered": "Bando A"},'
        ' "content": {"rendered": "<p>Testo del bando</p>"}},'
        ' {"id": 2, "title": {"rendered": ""}}, "not a post", {"id": 3, "title": {"rendered": "Vuoto"},'
        ' "content": {"rendered": "<p> </p>"}}]}',
        encoding="utf-8",
    )
    result = run_source("lazio-innova", tmp_path / "mirror", tmp_path)
    assert [d.id for d in result.documents] == ["lazioinnova-bando:1"]
    assert [s.reason for s in result.skipped] == [
        "malformed record: no id or no title",
        "malformed record: no id or no title",
        "empty text: the post has no content",
    ]


def test_empty_file_is_reported(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror" / "eu-funding-tenders"
    mirror.mkdir(parents=True)
    (mirror / "topics.json").write_text("", encoding="utf-8")
    result = run_source("eu-funding-tenders", tmp_path / "mirror", tmp_path)
    assert not result.documents
    assert result.skipped[0].reason.startswith("malformed file: not valid JSON")


def test_missing_source_without_url_is_unavailable(tmp_path: Path) -> None:
    (spec,) = select_sources(load_sources(), ["pnrr-calls"])
    with pytest.raises(SourceUnavailable, match="unreachable source"):
        SourceResolver(tmp_path, tmp_path, allow_download=False).resolve(spec)


def test_unknown_source_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="Unknown source"):
        select_sources(load_sources(), ["nope"])
