"""``POST /v1/extract`` over real HTTP and ``convergenze extract``: a call read and not stored, text or file."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from convergenze.api.models import MAX_EXTRACT_CHARS
from convergenze.cli.app import app

pytestmark = pytest.mark.slow

# incentivi.gov.it 3891 (its window and notes) and 52 (its beneficiaries), as a newcomer would paste them.
CALL = (
    "Bando per la concessione di contributi per reti d'impresa - Regione Piemonte\n\n"
    "Possono beneficiare dell’agevolazione le micro, piccole e medie imprese (PMI). È previsto un contributo a "
    "fondo perduto fino a un massimo di € 5.000,00 per ogni impresa.\n\n"
    "Le domande devono essere presentate dalle ore 9:00 del 31/03/2025 alle ore 12.00 30/06/2025, salvo chiusura "
    "anticipata per esaurimento risorse."
)


def test_a_text_is_read_with_evidence_and_nothing_is_stored(client: httpx.Client, ingested: dict) -> None:
    before = client.get("/health").json()["documents"]
    response = client.post("/v1/extract", json={"text": CALL, "today": "2025-05-01"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["language"] == "it" and body["is_funding_call"] is True and body["source"] == "text"
    found = body["extracted"]
    assert found["opening"]["value"] == "2025-03-31T09:00" and found["deadline"]["value"] == "2025-06-30T12:00"
    assert found["status"] == "open" and found["rolling"] is True
    assert found["max_per_project"]["value"] == 5000.0
    assert {b["actor_type"] for b in found["beneficiaries"]} == {"company"}
    assert [(p["name"], p["level"]) for p in found["territory"]] == [("Piemonte", "region")]
    assert [f["form"] for f in found["support_forms"]] == ["grant"]
    assert [s["size"] for s in found["firm_sizes"]] == ["micro", "small", "medium"]
    for value in (found["deadline"], found["max_per_project"], *found["support_forms"], *found["territory"]):
        evidence = value["evidence"]
        assert CALL[evidence["start"] : evidence["end"]] == evidence["text"]
    assert all({"framework", "code", "score", "evidence"} <= set(m) for m in body["missions"])
    assert client.get("/health").json()["documents"] == before
    # The same object a stored document keeps under metadata.extracted.
    assert set(found) >= {"dates", "amounts", "issuer", "programmes", "cup_codes", "status"}


def test_a_file_is_read_and_bad_input_is_refused(client: httpx.Client) -> None:
    upload = client.post("/v1/extract", files={"file": ("bando.txt", CALL.encode("utf-8"))},
                         data={"request": json.dumps({"today": "2025-07-12"})})
    assert upload.status_code == 200, upload.text
    assert upload.json()["source"] == "txt" and upload.json()["extracted"]["status"] == "closed"
    empty = client.post("/v1/extract", json={"text": "   "})
    assert empty.status_code == 400 and "The text is empty" in empty.json()["detail"]
    long = client.post("/v1/extract", json={"text": "x" * (MAX_EXTRACT_CHARS + 1)})
    assert long.status_code == 422
    wrong = client.post("/v1/extract", json={"text": CALL, "today": "31/12/2025"})
    assert wrong.status_code == 422
    assert "/v1/extract" in client.get("/openapi.json").json()["paths"]


def test_search_filters_on_support_forms_and_firm_sizes(client: httpx.Client) -> None:
    loans = client.get("/v1/search", params={"q": "imprese", "support_form": "guarantee", "limit": 20}).json()
    assert loans["count"] > 0 and all("guarantee" in h["metadata"]["support_forms"] for h in loans["data"])
    large = client.get("/v1/search", params={"q": "imprese", "firm_size": "large", "limit": 20}).json()
    assert all("large" in h["metadata"]["firm_sizes"] for h in large["data"])
    assert client.get("/v1/search", params={"q": "imprese", "support_form": "gift"}).status_code == 422


def test_the_command_prints_json_or_a_summary(ingested_env: dict, tmp_path: Path) -> None:
    runner = CliRunner()
    call = tmp_path / "bando.txt"
    call.write_text(CALL, encoding="utf-8")
    printed = runner.invoke(app, ["extract", str(call), "--today", "2025-05-01", "--json"])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout)["extracted"]["deadline"]["value"] == "2025-06-30T12:00"
    summary = runner.invoke(app, ["extract", "-", "--today", "2025-05-01"], input=CALL)
    assert summary.exit_code == 0, summary.output
    assert "deadline: 30/06/2025 ore 12:00" in summary.stdout
    assert "max per project: € 5.000,00" in summary.stdout
    assert "support: grant" in summary.stdout and "firm sizes: micro, small, medium" in summary.stdout
    missing = runner.invoke(app, ["extract", str(tmp_path / "nowhere.pdf")])
    assert missing.exit_code == 2 and "no such file" in missing.output
