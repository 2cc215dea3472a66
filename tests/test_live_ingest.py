"""The ingestion flow over a live source served from 127.0.0.1: mutated copies of the incentivi.gov.it
capture (a new notice, a changed deadline and budget, a removed one, a 500), checking what is indexed,
versioned and reported after each run, and that a run killed half-way loses and duplicates nothing."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from convergenze.api.routes import history
from convergenze.core.settings import DataSettings, QdrantSettings, Settings
from convergenze.corpora.state import StateStore
from convergenze.index.store.factory import open_store
from convergenze.pipelines.alerts import AlertStore
from convergenze.services.wiring import Services
from tests.local_server import LocalSite, Request, Response, serve

pytestmark = pytest.mark.slow


class SolrSite:
    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs = docs
        self.fail = False
        self.malformed = False
        self.site = LocalSite(routes={"/solr/select": self.route, "/hook": lambda request: Response(204)})

    def route(self, request: Request) -> Response:
        if self.fail:
            return Response(500, b"Internal Server Error")
        if self.malformed:
            return Response(200, b"<html><body>Servizio in manutenzione</body></html>")
        start, rows = int(request.query["start"]), int(request.query["rows"])
        body = {"response": {"numFound": len(self.docs), "start": start, "docs": self.docs[start : start + rows]}}
        return Response(200, json.dumps(body).encode(), {"Content-Type": "application/json"})


@pytest.fixture
def live_env(corpora_dir: Path, models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    docs = json.loads((corpora_dir / "regional-api-captures/incentivi_solr_select.json").read_text("utf-8"))["docs"]
    solr = SolrSite(copy.deepcopy(docs[:6]))
    with serve(solr.site):
        sources = {
            "sources": [
                {
                    "name": "incentivi-live",
                    "kind": "incentivi_solr",
                    "licence": "IODL 2.0",
                    "files": {"select": "incentivi/select.json"},
                    "urls": {"select": solr.site.url("/solr/select?q=*:*")},
                    "options": {"page_size": 4},
                }
            ]
        }
        (tmp_path / "sources.yaml").write_text(yaml.safe_dump(sources), encoding="utf-8")
        (tmp_path / "mirror").mkdir()
        for key, value in {
            "CONVERGENZE_SOURCES": tmp_path / "sources.yaml",
            "CONVERGENZE_DATA": tmp_path / "data",
            "CONVERGENZE_CORPORA": tmp_path / "mirror",
            "CONVERGENZE_MODELS": models_dir,
            "CONVERGENZE_HTTP_MIN_INTERVAL": 0,
            "CONVERGENZE_HTTP_RETRIES": 0,
            "CONVERGENZE_ALLOWED_PRIVATE_HOSTS": "127.0.0.1",
        }.items():
            monkeypatch.setenv(key, str(value))
        monkeypatch.delenv("QDRANT_URL", raising=False)
        yield solr


def stored_payloads() -> dict[str, dict[str, Any]]:
    store = open_store(QdrantSettings(), DataSettings(), write=False)
    try:
        ids = store.facet("document_id")
        return {i: store.get_document_chunks(i)[0] for i in ids}
    finally:
        store.close()


def history_of(document_id: str) -> dict[str, Any]:
    app = FastAPI()
    app.include_router(history.router)
    app.state.services = Services(Settings.load())  # only the state store is used: nothing else opens
    with TestClient(app) as client:
        response = client.get(f"/v1/documents/{document_id}/history")
        assert response.status_code == 200, response.text
        return response.json()


def test_new_changed_removed_and_expired_notices(live_env: SolrSite) -> None:
    from convergenze.pipelines.ingest import ingest_flow

    first = ingest_flow(today="2026-06-01", progress=False)["sources"][0]
    assert (first["new"], first["changed"], first["withdrawn"], first["indexed"]) == (6, 0, 0, 6)
    assert first["requests"] == 2 and first["error"] is None

    # Saved now, the alerts hear of what changes from here on.
    alerts = AlertStore(StateStore(DataSettings().state_dir / "state.sqlite"))
    digital, _ = alerts.save({"name": "Digitale", "query": "digitalizzazione delle imprese", "min_score": 0.83,
                              "webhook_url": live_env.site.url("/hook")}, "a-shared-secret")
    fishing, _ = alerts.save({"name": "Pesca", "query": "pesca sostenibile nel Mediterraneo", "min_score": 0.83,
                              "webhook_url": live_env.site.url("/hook")}, "a-shared-secret")

    docs = live_env.docs
    changed_id, removed_id = docs[0]["zs_nid"], docs[1]["zs_nid"]
    docs[0]["zs_field_close_date"] = "2026-09-30T00:00:00"
    docs[0]["zs_field_budget_allocation"] = "3000000"
    added = copy.deepcopy(docs[2]) | {"zs_nid": "99001", "zs_title": "Nuovo bando per la transizione digitale"}
    live_env.docs[:] = [docs[0], *docs[2:], added]

    second = ingest_flow(today="2026-06-01", progress=False)["sources"][0]
    assert (second["new"], second["changed"], second["withdrawn"]) == (1, 1, 1)
    assert (second["indexed"], second["unchanged"]) == (2, 4)

    assert {(h["document_id"], h["kind"]) for h in alerts.hits(digital.id)} == {
        (f"incentivi:{changed_id}", "changed"), ("incentivi:99001", "new")
    }
    assert alerts.hits(fishing.id) == []
    hooks = live_env.site.hits("/hook")
    assert len(hooks) == 2 and all(h.headers["x-convergenze-signature"].startswith("sha256=") for h in hooks)
    assert {json.loads(h.body)["document"]["id"] for h in hooks} == {f"incentivi:{changed_id}", "incentivi:99001"}

    payloads = stored_payloads()
    assert len(payloads) == 7  # the withdrawn notice is marked, not deleted
    assert payloads[f"incentivi:{removed_id}"]["status"] == "withdrawn"
    assert payloads[f"incentivi:{removed_id}"]["metadata"]["withdrawn"] is True
    assert payloads[f"incentivi:{changed_id}"]["deadline"].startswith("2026-09-30")
    assert payloads["incentivi:99001"]["title"] == "Nuovo bando per la transizione digitale"

    record = history_of(f"incentivi:{changed_id}")
    assert record["version"] == 2 and [v["version"] for v in record["versions"]] == [1, 2]
    assert record["versions"][0]["fields"]["deadline"] == "2026-06-30"
    messages = [e["message"] for e in record["events"]]
    assert "deadline extended from 30/06/2026 to 30/09/2026" in messages
    assert "budget changed from € 2.066.866,00 to € 3.000.000,00" in messages
    assert history_of(f"incentivi:{removed_id}")["withdrawn"] is True

    # The source is down; deadlines pass anyway: the calls due in June are closed from the state alone.
    live_env.fail = True
    third = ingest_flow(today="2026-07-15", progress=False)["sources"][0]
    assert third["error"] and "500" in third["error"]
    listed = live_env.docs
    expired = {f"incentivi:{d['zs_nid']}" for d in listed if d["zs_field_close_date"][:10] < "2026-07-15"}
    assert expired and third["closed"] == len(expired)
    payloads = stored_payloads()
    assert {i for i, p in payloads.items() if p["status"] == "closed"} >= expired
    assert payloads[f"incentivi:{changed_id}"]["status"] == "open"
    assert any(e["kind"] == "closed" for e in history_of(sorted(expired)[0])["events"])
    assert len(live_env.site.hits("/hook")) == 2  # closing is no news for these alerts; nothing sent twice


def test_a_run_killed_before_the_commit_is_redone_once(live_env: SolrSite, monkeypatch: pytest.MonkeyPatch) -> None:
    from convergenze.index.indexer import Indexer
    from convergenze.pipelines.ingest import ingest_flow

    real_run = Indexer.run

    def killed(self: Indexer, *args: Any, **kwargs: Any) -> int:
        raise KeyboardInterrupt("killed half-way")

    monkeypatch.setattr(Indexer, "run", killed)
    with pytest.raises(BaseException, match="killed half-way"):
        ingest_flow(today="2026-06-01", progress=False)
    state = StateStore(DataSettings().state_dir / "state.sqlite")
    assert state.notices() == {}  # nothing recorded for a run whose index never committed

    monkeypatch.setattr(Indexer, "run", real_run)
    report = ingest_flow(today="2026-06-01", progress=False)["sources"][0]
    assert (report["new"], report["indexed"]) == (6, 6)
    again = ingest_flow(today="2026-06-01", progress=False)["sources"][0]
    assert (again["new"], again["changed"], again["indexed"], again["unchanged"]) == (0, 0, 0, 6)
    assert len(stored_payloads()) == 6
    events = state.events_since(0)
    assert len(events) == 6 and {e["kind"] for e in events} == {"new"}

    # A maintenance page instead of the listing: skipped with its reason, and nothing is taken as withdrawn.
    live_env.malformed = True
    broken = ingest_flow(today="2026-06-01", progress=False)["sources"][0]
    assert broken["withdrawn"] == 0 and broken["read"] == 0
    assert broken["skipped"][0]["reason"].startswith("malformed page: not valid JSON")
    assert all(not n.withdrawn for n in state.notices().values())
