"""Convergence over real HTTP: match with a profile (verdicts, reasons, precedents, partners), uploads,
overlaps, actors and the mission map, and every bad input answered with a clear 4xx."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import docx
import httpx
import pytest

from convergenze.api import errors

pytestmark = pytest.mark.slow

PROJECT = (
    "Il Comune intende migrare al cloud i propri servizi digitali e le banche dati, abbandonando i server "
    "locali, per offrire ai cittadini servizi online più sicuri e sempre disponibili."
)
PROGRAMME = (
    "La fondazione finanzia con contributi a fondo perduto la migrazione al cloud dei servizi digitali dei "
    "piccoli comuni e forma il personale degli enti locali sulle competenze digitali."
)


def _multipart(client: httpx.Client, path: str, name: str, content: bytes, options: dict | None = None
               ) -> httpx.Response:
    data = {"request": json.dumps(options)} if options is not None else {}
    return client.post(path, files={"file": (name, content)}, data=data)


def test_ingestion_builds_the_catalog(ingested: dict) -> None:
    assert (Path(ingested["data_dir"]) / "catalog.sqlite").is_file()
    catalog = ingested["report"]["catalog"]
    assert catalog["documents"] == ingested["report"]["documents"] and catalog["actors"] > 0


def test_match_explains_each_call_and_judges_it_for_the_profile(client: httpx.Client) -> None:
    profile = {"actor_type": "public_administration", "region": "Lazio", "budget_needed": 200_000}
    response = client.post("/v1/match", json={"text": PROJECT, "limit": 5, "profile": profile})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(body["data"]) == 5
    assert body["profile"]["region"] == "Lazio" and body["source"] == "text"
    assert {m["framework"] for m in body["missions"]} >= {"convergenze"}
    ids = [hit["id"] for hit in body["data"]]
    assert "pnrr-measure:M1C1I1.02.00" in ids
    for hit in body["data"]:
        assert [v["criterion"] for v in hit["eligibility"]] == ["status", "territory", "beneficiary", "budget"]
        assert all(v["verdict"] in ("ok", "no", "unknown") and v["reason"] for v in hit["eligibility"])
        assert hit["why"]["passages"] and hit["why"]["passages"][0]["query"] in PROJECT
    measure = next(h for h in body["data"] if h["id"] == "pnrr-measure:M1C1I1.02.00")
    assert "digital" in {m["code"] for m in measure["why"]["missions"]}
    # Funded projects of the same sub-measure, with who implemented them and where.
    assert measure["similar_projects"]
    assert all(p["submeasure"] == "M1C1I1.02.00" and p["implementing_body"] for p in measure["similar_projects"])
    assert body["partners"] and all(p["reason"] for p in body["partners"])


def test_ineligible_calls_are_demoted_or_excluded(client: httpx.Client) -> None:
    request = {"text": PROJECT, "limit": 20, "types": ["call"], "profile": {"region": "Sardegna"}}
    demoted = client.post("/v1/match", json=request).json()["data"]
    verdicts = [h["eligible"] for h in demoted]
    assert "ineligible" in verdicts
    assert verdicts == sorted(verdicts, key=lambda v: v == "ineligible")  # every ineligible one comes last
    kept = client.post("/v1/match", json={**request, "ineligible": "exclude"}).json()["data"]
    assert kept and all(h["eligible"] != "ineligible" for h in kept)


SENIORS = ("La fondazione promuove l'inclusione digitale degli anziani in Basilicata: corsi di alfabetizzazione "
           "digitale, facilitatori nei comuni e accesso ai servizi pubblici online per le persone over 65.")
COMPETITION = "pdf:inps_concorso_pubblico"


def test_a_recruitment_competition_is_never_offered_as_a_call(client: httpx.Client) -> None:
    # Its text says it is a competition for jobs, which a foundation cannot apply to for funding; yet search
    # ranks it among the calls for the description, so match and overlaps see it among their candidates.
    search = client.get("/v1/search", params={"q": SENIORS, "type": ["call", "measure"], "limit": 50}).json()["data"]
    competition = next(h for h in search if h["id"] == COMPETITION)
    assert competition["non_call_kind"] == "recruitment"
    assert all(h["non_call_kind"] is None for h in search if h["source"] != "bandi-pdf")
    profile = {"actor_type": "foundation", "region": "Basilicata"}
    for ineligible in ("demote", "keep"):
        found = client.post("/v1/match", json={"text": SENIORS, "limit": 20, "profile": profile,
                                               "ineligible": ineligible}).json()["data"]
        assert found and COMPETITION not in [h["id"] for h in found]
        assert all(h["non_call_kind"] is None for h in found)
    overlaps = client.post("/v1/overlaps", json={"text": SENIORS, "region": "Basilicata", "limit": 50}).json()
    assert COMPETITION not in [i["id"] for i in overlaps["overlaps"] + overlaps["complements"]]


def test_an_italian_description_finds_an_english_eu_topic_and_the_reverse(client: httpx.Client) -> None:
    italian = ("Formazione delle forze di polizia e scambio di esperienze per proteggere l'euro dalla "
               "contraffazione di banconote e monete.")
    request = {"text": italian, "limit": 3, "types": ["call"], "ineligible": "keep"}  # the topic may be closed
    hits = client.post("/v1/match", json=request).json()["data"]
    assert "eu-topic:PERI-2026-ANTI-COUNTERFEIT" in [h["id"] for h in hits]
    english = "Moving the digital services of small municipalities to the cloud, replacing their local servers."
    hits = client.post("/v1/match", json={"text": english, "limit": 3, "types": ["measure"]}).json()["data"]
    assert "pnrr-measure:M1C1I1.02.00" in [h["id"] for h in hits]


def test_match_reads_an_uploaded_description(client: httpx.Client) -> None:
    document = docx.Document()
    document.add_paragraph(PROJECT)
    buffer = io.BytesIO()
    document.save(buffer)
    response = _multipart(client, "/v1/match", "progetto.docx", buffer.getvalue(),
                          {"limit": 3, "profile": {"municipality": "Viterbo"}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source"] == "docx" and body["profile"]["region"] == "Lazio"
    assert "pnrr-measure:M1C1I1.02.00" in [h["id"] for h in body["data"]]
    text = _multipart(client, "/v1/match", "progetto.txt", PROJECT.encode("cp1252"))
    assert text.status_code == 200 and text.json()["source"] == "txt"


@pytest.mark.parametrize(
    ("payload", "status", "detail"),
    [
        ({"text": "   "}, 400, errors.TEXT_EMPTY),
        ({"text": PROJECT, "profile": {"region": "Atlantide"}}, 400, errors.UNKNOWN_REGION),
        ({"text": PROJECT, "region": "Atlantide"}, 400, errors.UNKNOWN_REGION),
        ({"text": PROJECT, "profile": {"municipality": "Paperopoli"}}, 400, errors.UNKNOWN_MUNICIPALITY),
        ({"text": PROJECT, "profile": {"region": "Lazio", "municipality": "Milano"}}, 400,
         errors.MUNICIPALITY_NOT_IN_REGION),
        ({"text": PROJECT, "profile": {"needed_by": "2020-01-01"}}, 400, errors.NEEDED_BY_IN_PAST),
        ({"text": PROJECT, "profile": {"budget_needed": -5}}, 422, None),
        ({"text": PROJECT, "profile": {"actor_type": "alien"}}, 422, None),
        ({"text": PROJECT, "ineligible": "hide"}, 422, None),
        ({"text": PROJECT, "unknown_field": 1}, 422, None),
    ],
)
def test_match_rejects_bad_input_clearly(client: httpx.Client, payload: dict, status: int, detail: str | None
                                         ) -> None:
    response = client.post("/v1/match", json=payload)
    assert response.status_code == status
    if detail:
        assert response.json() == {"detail": detail}


@pytest.mark.parametrize(
    ("name", "content", "options", "status", "detail"),
    [
        ("progetto.pdf", bytes(range(256)) * 64, None, 422, errors.UPLOAD_UNREADABLE),
        ("foto.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, None, 415, errors.UPLOAD_UNSUPPORTED),
        ("vuoto.txt", b"", None, 422, errors.UPLOAD_EMPTY),
        ("progetto.txt", PROJECT.encode(), {"text": "also a text"}, 400, errors.TEXT_AND_FILE),
    ],
)
def test_bad_uploads_get_a_clear_4xx(client: httpx.Client, name: str, content: bytes, options: dict | None,
                                     status: int, detail: str) -> None:
    response = _multipart(client, "/v1/match", name, content, options)
    assert (response.status_code, response.json()) == (status, {"detail": detail})


def test_a_50_mb_upload_is_refused_and_the_server_keeps_answering(client: httpx.Client) -> None:
    response = _multipart(client, "/v1/match", "enorme.pdf", b"%PDF-1.7\n" + b"0" * (50 * 2**20))
    assert (response.status_code, response.json()) == (413, {"detail": errors.UPLOAD_TOO_LARGE})
    assert client.get("/health").status_code == 200


def test_a_multipart_request_without_a_file_is_refused(client: httpx.Client) -> None:
    response = client.post("/v1/match", data={"request": "{}"}, files={"other": ("a.txt", b"x")})
    assert (response.status_code, response.json()) == (400, {"detail": errors.BAD_MULTIPART})


def test_overlaps_group_existing_initiatives_with_reasons(client: httpx.Client) -> None:
    response = client.post("/v1/overlaps", json={"text": PROGRAMME, "region": "Lazio", "actor_type": "foundation"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["overlaps"]) + len(body["complements"]) > 0
    assert "digital" in {m["code"] for m in body["missions"]}
    assert set(body["levers"]) & {"funding", "capacity_building"}
    for item in body["overlaps"] + body["complements"]:
        assert item["reason"] and set(item["criteria"]) == {"mission", "territory", "target", "lever"}
        assert item["criteria"]["mission"] != "different"
    for item in body["overlaps"]:
        assert item["criteria"]["territory"] == "same" and item["criteria"]["lever"] != "different"
    ids = [i["id"] for i in body["overlaps"] + body["complements"]]
    assert len(ids) == len(set(ids))


def test_overlaps_read_an_uploaded_programme(client: httpx.Client) -> None:
    response = _multipart(client, "/v1/overlaps", "programma.txt", PROGRAMME.encode("utf-8"),
                          {"region": "Lazio", "limit": 5})
    assert response.status_code == 200, response.text
    assert response.json()["source"] == "txt" and response.json()["count"] > 0
    broken = _multipart(client, "/v1/overlaps", "programma.pdf", b"\x00\x01" * 500)
    assert (broken.status_code, broken.json()) == (422, {"detail": errors.UPLOAD_UNREADABLE})


@pytest.mark.parametrize(
    ("payload", "status", "detail"),
    [
        ({"text": ""}, 400, errors.TEXT_EMPTY),
        ({"text": PROGRAMME, "region": "Narnia"}, 400, errors.UNKNOWN_REGION),
        ({"text": PROGRAMME, "region": "Lazio", "municipality": "Milano"}, 400, errors.MUNICIPALITY_NOT_IN_REGION),
        ({"text": PROGRAMME, "limit": 0}, 422, None),
    ],
)
def test_overlaps_reject_bad_input(client: httpx.Client, payload: dict, status: int, detail: str | None) -> None:
    response = client.post("/v1/overlaps", json=payload)
    assert response.status_code == status
    if detail:
        assert response.json() == {"detail": detail}


def test_actors_list_who_works_on_a_mission_in_a_region(client: httpx.Client) -> None:
    body = client.get("/v1/actors", params={"mission": "M1", "limit": 5}).json()
    assert body["count"] >= len(body["data"]) > 0
    first = body["data"][0]
    assert first["projects"] >= 1 and first["amount"] > 0 and first["documents"]
    assert all(d["id"].startswith(("pnrr-", "eu-topic:")) or d["id"] for d in first["documents"])
    amounts = [a["amount"] for a in body["data"]]
    assert amounts == sorted(amounts, reverse=True)
    region = first["regions"][0]
    local = client.get("/v1/actors", params={"mission": "M1", "region": region}).json()
    assert first["id"] in [a["id"] for a in local["data"]]
    typed = client.get("/v1/actors", params={"type": "public_administration", "limit": 50}).json()
    assert all(a["type"] == "public_administration" for a in typed["data"])


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        ({"mission": "M99"}, 400, errors.UNKNOWN_MISSION),
        ({"region": "Atlantide"}, 400, errors.UNKNOWN_REGION),
        ({"type": "alien"}, 422, None),
        ({"limit": 0}, 422, None),
    ],
)
def test_actors_reject_bad_input(client: httpx.Client, params: dict, status: int, detail: str | None) -> None:
    response = client.get("/v1/actors", params=params)
    assert response.status_code == status
    if detail:
        assert response.json() == {"detail": detail}


def test_mission_map_in_json_and_csv(client: httpx.Client) -> None:
    body = client.get("/v1/missions/map", params={"framework": "pnrr"}).json()
    assert body["framework"] == "pnrr" and body["count"] == len(body["data"]) > 0
    assert {"M1", "M2"} <= {row["mission"] for row in body["data"]}
    assert any(row["projects"] for row in body["data"])
    assert all(g["kind"] in ("no_open_call", "no_local_implementer") and g["reason"] for g in body["gaps"])
    response = client.get("/v1/missions/map", params={"framework": "pnrr", "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == body["count"] and rows[0].keys() >= {"mission", "territory", "actor_type", "projects"}
    bad = client.get("/v1/missions/map", params={"region": "Atlantide"})
    assert (bad.status_code, bad.json()) == (400, {"detail": errors.UNKNOWN_REGION})
    assert client.get("/v1/missions/map", params={"framework": "zodiac"}).status_code == 422


def test_openapi_documents_the_convergence_routes_and_uploads(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/v1/match", "/v1/overlaps", "/v1/actors", "/v1/missions/map"} <= set(spec["paths"])
    content = spec["paths"]["/v1/match"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(content)
