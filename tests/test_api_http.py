"""The API over real HTTP (uvicorn on 127.0.0.1), on the session's ingested index."""

from __future__ import annotations

import httpx
import pytest

from convergenze.api import errors

pytestmark = pytest.mark.slow


def test_health_counts_documents_and_points(client: httpx.Client, ingested: dict) -> None:
    body = client.get("/health").json()
    progress = body.pop("ingestion")
    assert body == {
        "status": "ok",
        "documents": ingested["report"]["documents"],
        "points": ingested["report"]["points"],
        "backend": "qdrant-edge",
    }
    # The finished ingestion's progress: every planned source done, what it left in the index.
    planned = len(ingested["report"]["sources"])
    assert progress["state"] == "finished" and progress["current"] is None
    assert progress["sources_done"] == progress["sources_planned"] == planned
    assert (progress["documents"], progress["points"]) == (body["documents"], body["points"])


def test_search_returns_one_hit_per_document_with_snippet(client: httpx.Client) -> None:
    response = client.get("/v1/search", params={"q": "migrazione al cloud dei servizi digitali dei comuni", "limit": 5})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(body["data"]) == 5
    ids = [hit["id"] for hit in body["data"]]
    assert len(set(ids)) == len(ids)
    assert "pnrr-measure:M1C1I1.02.00" in ids
    first = body["data"][0]
    assert set(first) >= {"id", "type", "title", "score", "snippet", "source", "url", "metadata"}
    assert first["snippet"]


def test_search_filters_by_type_source_and_region(client: httpx.Client) -> None:
    calls = client.get("/v1/search", params={"q": "contributi imprese", "type": "call", "limit": 20}).json()
    assert calls["count"] > 0 and {h["type"] for h in calls["data"]} == {"call"}
    er = client.get("/v1/search", params={"q": "cooperative di comunità", "region": "Emilia-Romagna"}).json()
    assert er["count"] > 0 and all("Emilia-Romagna" in h["metadata"]["region"] for h in er["data"])
    assert er["data"][0]["source"] == "emilia-romagna"
    eu = client.get("/v1/search", params={"q": "research", "source": "eu-funding-tenders", "language": "en"}).json()
    assert eu["count"] > 0 and {h["id"].split(":")[0] for h in eu["data"]} == {"eu-topic"}


def test_match_ranks_measures_and_calls_for_a_project(client: httpx.Client) -> None:
    text = (
        "Il comune vuole trasferire in cloud i servizi digitali dell'anagrafe e dello stato civile "
        "e migliorare l'esperienza dei cittadini sul sito istituzionale."
    )
    body = client.post("/v1/match", json={"text": text, "limit": 5}).json()
    assert body["count"] == 5 and {h["type"] for h in body["data"]} <= {"measure", "call"}
    assert body["data"][0]["id"] == "pnrr-measure:M1C1I1.02.00"


def test_get_document_and_not_found(client: httpx.Client) -> None:
    doc = client.get("/v1/documents/pnrr-measure:M1C1I1.02.00").json()
    assert doc["type"] == "measure" and doc["metadata"]["mission_code"] == "M1"
    assert [p["position"] for p in doc["passages"]] == list(range(len(doc["passages"])))
    missing = client.get("/v1/documents/pnrr-measure:NOPE")
    assert missing.status_code == 404 and missing.json() == {"detail": errors.DOCUMENT_NOT_FOUND}


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"q": "   "}, 400),
        ({"q": "x" * 501}, 422),
        ({"q": "bando", "limit": 0}, 422),
        ({"q": "bando", "limit": 101}, 422),
        ({"q": "bando", "type": "nope"}, 422),
        ({}, 422),
        ({"q": "bando", "status": "maybe"}, 422),
        ({"q": "bando", "mode": "magic"}, 422),
    ],
)
def test_search_rejects_bad_requests(client: httpx.Client, params: dict, status: int) -> None:
    response = client.get("/v1/search", params=params)
    assert response.status_code == status
    if status == 400:
        assert response.json() == {"detail": errors.QUERY_EMPTY}


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"text": ""}, 400),
        ({"text": "  \n "}, 400),
        ({"text": "x" * 20_001}, 422),
        ({"text": "ok", "limit": 0}, 422),
        ({"text": "ok", "types": ["nope"]}, 422),
        ({"text": "ok", "unknown": 1}, 422),
    ],
)
def test_match_rejects_bad_requests(client: httpx.Client, payload: dict, status: int) -> None:
    response = client.post("/v1/match", json=payload)
    assert response.status_code == status
    if status == 400:
        assert response.json() == {"detail": errors.TEXT_EMPTY}


def test_openapi_documents_every_route(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/health", "/v1/search", "/v1/match", "/v1/documents/{document_id}"} <= set(paths)


def test_search_filters_on_extracted_fields(client: httpx.Client) -> None:
    m1 = client.get("/v1/search", params={"q": "servizi digitali", "mission": "M1", "limit": 20}).json()
    assert m1["count"] > 0 and all("M1" in h["metadata"]["mission_codes"] for h in m1["data"])
    third = client.get("/v1/search", params={"q": "bando", "beneficiary_type": "third_sector", "limit": 20}).json()
    assert third["count"] > 0 and all("third_sector" in h["metadata"]["beneficiary_types"] for h in third["data"])
    window = {"q": "bando", "deadline_from": "2026-01-01", "deadline_to": "2026-12-31", "limit": 30}
    dated = client.get("/v1/search", params=window).json()
    assert dated["count"] > 0 and all(
        "2026-01-01" <= h["metadata"]["deadline"][:10] <= "2026-12-31" for h in dated["data"]
    )
    big = client.get("/v1/search", params={"q": "investimenti", "budget_min": 100_000_000, "limit": 30}).json()
    assert big["count"] > 0
    budgets = [client.get(f"/v1/documents/{h['id']}").json()["metadata"] for h in big["data"]]
    assert all(
        max(
            v
            for k, v in m.items()
            if k in ("budget_total", "budget_pnrr", "total_amount", "amount_pnrr") and isinstance(v, float)
        )
        >= 100_000_000
        for m in budgets
    )


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"deadline_from": "2026-05-01", "deadline_to": "2026-01-01"}, errors.BAD_DEADLINE_RANGE),
        ({"budget_min": 10, "budget_max": 1}, errors.BAD_BUDGET_RANGE),
    ],
)
def test_contradictory_ranges_are_rejected(client: httpx.Client, params: dict, detail: str) -> None:
    response = client.get("/v1/search", params={"q": "bando", **params})
    assert response.status_code == 400 and response.json() == {"detail": detail}
    response = client.post("/v1/match", json={"text": "bando", **params})
    assert response.status_code == 400 and response.json() == {"detail": detail}


def test_document_carries_missions_objectives_and_extracted_fields(client: httpx.Client) -> None:
    measure = client.get("/v1/documents/pnrr-measure:M1C1I1.02.00").json()
    official = {(m["framework"], m["code"]): m for m in measure["missions"]}
    assert official[("pnrr", "M1")]["score"] == 1.0 and official[("pnrr", "M1")]["source"] == "official"
    assert ("convergenze", "digital") in official  # crosswalk M1C1 -> digital transition
    lazio = client.get("/v1/search", params={"q": "PMI", "source": "lazio-innova", "limit": 1}).json()["data"][0]
    doc = client.get(f"/v1/documents/{lazio['id']}").json()
    assert doc["objectives"] and all(o["end"] > o["start"] for o in doc["objectives"])
    extracted = doc["metadata"]["extracted"]
    assert extracted["is_funding_call"] is True
    assert extracted["deadline"] is None or extracted["deadline"]["evidence"]["text"]


def test_taxonomy_lists_missions_with_document_counts(client: httpx.Client) -> None:
    body = client.get("/v1/taxonomy").json()
    frameworks = {e["framework"] for e in body["data"]}
    assert frameworks == {"convergenze", "pnrr", "sdg", "cohesion", "horizon"}
    by_code = {(e["framework"], e["code"]): e for e in body["data"]}
    assert by_code[("pnrr", "M1")]["documents"] > 0 and by_code[("sdg", "SDG1")]["label_en"]
    only = client.get("/v1/taxonomy", params={"framework": "sdg"}).json()
    assert only["count"] == 17
    assert client.get("/v1/taxonomy", params={"framework": "nope"}).status_code == 422


def test_mission_filter_works_on_any_framework(client: httpx.Client) -> None:
    digital = client.get("/v1/search", params={"q": "servizi", "mission": "digital", "limit": 20}).json()
    assert digital["count"] > 0
    assert all("digital" in h["metadata"]["mission_codes"] for h in digital["data"])


def test_search_crosses_languages_and_can_stay_in_one(client: httpx.Client) -> None:
    """An Italian query reaches the English EU topic, an English one the Italian PNRR measure; each hit says its
    language; ``language`` keeps a search in one language."""
    italian = {"q": "proteggere l'euro dalla contraffazione di banconote e monete", "limit": 5}
    hits = client.get("/v1/search", params=italian).json()["data"]
    topic = next(h for h in hits if h["id"] == "eu-topic:PERI-2026-ANTI-COUNTERFEIT")
    assert topic["language"] == "en" and any(h["language"] == "it" for h in hits)
    english = {"q": "replacing large hospital equipment such as scanners", "limit": 5}
    hits = client.get("/v1/search", params=english).json()["data"]
    measure = next(h for h in hits if h["id"] == "pnrr-measure:M6C2I1.01.02")
    assert measure["language"] == "it"
    only_italian = client.get("/v1/search", params={**italian, "language": "it"}).json()["data"]
    assert only_italian and {h["language"] for h in only_italian} == {"it"}


def test_bm25_alone_crosses_languages_through_the_glossary(client: httpx.Client) -> None:
    """No English word of this query is in the Italian measure: only the glossary's translations can find it."""
    params = {"q": "hospital medical equipment", "mode": "sparse", "limit": 5, "type": "measure"}
    hits = client.get("/v1/search", params=params).json()["data"]
    assert "pnrr-measure:M6C2I1.01.02" in [h["id"] for h in hits]
