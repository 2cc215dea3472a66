"""The web pages' building blocks, without a server: the English catalogue, Italian notation, the Italian
wording of the matching layer's reasons, highlighting, the map and the calendar feed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import icalendar
import pytest
from babel.messages.extract import extract_from_dir

from convergenze.api.web import choropleth, labels, reasons, views
from convergenze.api.web.i18n import Catalogue, format_amount, format_date, format_number
from convergenze.api.web.pages.calendar import feed
from convergenze.core.payload import DocumentPayload
from convergenze.core.records import Profile
from convergenze.core.vocabulary import (
    ActorType,
    CallStatus,
    Criterion,
    DocType,
    Eligibility,
    FirmSize,
    NonCallKind,
    SupportForm,
    Verdict,
)
from convergenze.matching.eligibility import EligibilityChecker
from convergenze.services.responses import HitOut

WEB = Path(__file__).resolve().parents[1] / "api" / "web"


def test_every_message_of_the_pages_has_an_english_translation() -> None:
    catalogue = Catalogue.load()
    messages = {
        found[2] if isinstance(found[2], str) else found[2][0]
        for found in extract_from_dir(
            str(WEB), method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
            options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
            keywords={"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)},
        )
    }
    assert len(messages) > 300
    english = catalogue.translations["en"]
    same_in_english = {"no", "ok", "E-mail", "e-mail"}
    missing = [m for m in messages if english.gettext(m) == m and m not in same_in_english]
    assert missing == []


def test_labels_cover_the_values_the_project_defines() -> None:
    assert set(labels.ACTOR_TYPES) == set(ActorType)
    assert set(labels.DOC_TYPES) == set(DocType)
    assert set(labels.STATUSES) == set(CallStatus)
    assert set(labels.CRITERIA) == set(Criterion) and set(labels.VERDICTS) == set(Verdict)
    assert set(labels.ELIGIBLE) == set(Eligibility)
    assert set(labels.SUPPORT_FORMS) == set(SupportForm) and set(labels.FIRM_SIZES) == set(FirmSize)
    assert set(labels.NON_CALL_KINDS) == set(NonCallKind)


def test_italian_and_english_notation() -> None:
    assert format_date("2026-03-15", "it") == "15 marzo 2026"
    assert format_date("2026-03-15T12:00", "it") == "15 marzo 2026, ore 12:00"
    assert format_date(date(2026, 3, 15), "en") == "15 March 2026"
    assert format_amount(1_500_000, "it") == "€ 1.500.000,00"
    assert format_amount(1_500_000, "en") == "€1,500,000.00"
    assert format_amount(None, "it") == ""
    assert format_number(12345, "it") == "12.345" and format_number(12345, "en") == "12,345"


def _payloads() -> list[dict]:
    """Calls that make the eligibility checker say each of its sentences at least once."""
    def amount(value: float, kind: str) -> dict:
        return {"value": value, "kind": kind, "evidence": {"text": f"{kind} {value}", "start": 0, "end": 5}}

    extracted = {"is_funding_call": True, "max_per_project": amount(500_000.0, "max_per_project"),
                 "min_per_project": amount(50_000.0, "min_per_project")}
    return [
        {"type": "measure"}, {"type": "project"}, {"type": "programme"}, {"type": "policy"},
        {"type": "call", "deadline": "2020-01-01", "status": "open", "region": ["Lazio"]},
        {"type": "call", "status": "closed", "region": ["Lazio", "Puglia"], "beneficiary_types": ["cooperative"]},
        {"type": "call", "status": "withdrawn", "metadata": {"extracted": extracted}},
        {"type": "call", "status": "forthcoming", "metadata": {"opening": "2030-01-01"}},
        {"type": "call", "status": "forthcoming", "budget": 100_000.0},
        {"type": "call", "status": "open", "deadline": "2030-01-01", "source": "eu-funding-tenders",
         "beneficiary_types": ["company", "foundation"], "budget": 10_000_000.0},
        {"type": "call", "status": "open", "metadata": {"rolling": True, "national": True}},
        {"type": "call", "status": "open", "budget": 2_000_000.0},
        {"type": "call", "status": "unknown", "metadata": {"extracted": extracted}},
    ]


@pytest.mark.parametrize("profile", [
    Profile(),
    Profile(actor_type=ActorType.COOPERATIVE, region="Lazio", municipality="Viterbo", budget_needed=200_000,
            needed_by=date(2029, 6, 1)),
    Profile(actor_type=ActorType.CITIZEN, region="Sicilia", budget_needed=5_000_000),
    Profile(actor_type=ActorType.COMPANY, region="Puglia", budget_needed=10_000),
])
def test_every_eligibility_reason_has_italian_wording(profile: Profile) -> None:
    checker = EligibilityChecker(today=date(2026, 12, 1))
    for payload in _payloads():
        for verdict in checker.run(DocumentPayload.from_payload({"document_id": "x:1", **payload}), profile):
            assert reasons.italian(verdict.reason) is not None, verdict.reason


def test_reasons_keep_their_values_and_translate_actor_types() -> None:
    assert reasons.italian("Closed: the deadline was 01/01/2020.") == "Chiuso: la scadenza era il 01/01/2020."
    assert reasons.italian("The call is for cooperatives, foundations, not citizens.") == (
        "Il bando è per cooperative, fondazioni, non per cittadini.")
    assert reasons.italian("The call is for Lazio, Puglia, not Sicilia.") == (
        "Il bando è per Lazio, Puglia, non per Sicilia.")
    assert reasons.in_language("Open.", "en") == "Open."
    assert reasons.in_language("A sentence nobody wrote.", "it") == "A sentence nobody wrote."


def test_highlight_marks_the_query_words_and_escapes_the_rest() -> None:
    stems = views.query_stems("Imprese e attività <b>")
    html = str(views.highlight("Contributi alle <b>impresa</b> per attivita culturali", stems, None))
    assert "<mark>impresa</mark>" in html and "<mark>attivita</mark>" in html
    assert "&lt;b&gt;" in html and "<b>" not in html.replace("<mark>", "")
    long = "parola " * 200 + "energia rinnovabile" + " parola" * 200
    cut = str(views.highlight(long, views.query_stems("energia"), 120))
    assert "<mark>energia</mark>" in cut and cut.startswith("… ") and len(cut) < 200


def test_choropleth_draws_the_twenty_regions_with_classes_not_styles() -> None:
    shapes, height = choropleth.shapes()
    assert len(shapes) == 20 and {s.code for s in shapes} == {f"{i:02d}" for i in range(1, 21)}
    assert 500 < height < 800
    values = {"12": 10.0, "03": 100.0, "19": 1.0}
    svg = choropleth.render(values, {"12": "10"}, "Titolo <x>", "nessun dato")
    assert svg.count("<path") == 20 and "style=" not in svg
    assert re.search(r'class="reg q\d" data-region="lazio"', svg)
    assert svg.count('class="reg nodata"') == 17
    assert "<title>Lazio: 10</title>" in svg and "Titolo &lt;x&gt;" in svg


def check_rfc5545(body: bytes) -> list[icalendar.Event]:
    """The feed parses and has what RFC 5545 requires: CRLF lines of at most 75 octets, PRODID and VERSION on
    the calendar, UID, DTSTAMP and DTSTART on every event."""
    lines = body.split(b"\r\n")
    assert body.endswith(b"\r\n") and all(b"\n" not in line for line in lines)
    assert all(len(line) <= 75 for line in lines)
    calendar = icalendar.Calendar.from_ical(body)
    assert calendar["VERSION"] == "2.0" and calendar.get("PRODID")
    events = list(calendar.walk("VEVENT"))
    for event in events:
        assert event.get("UID") and event.get("DTSTAMP") and event.get("DTSTART")
    return events


def test_calendar_feed_has_one_all_day_event_per_deadline_with_a_stable_uid() -> None:
    def call(i: int, deadline: str | None) -> HitOut:
        return HitOut(id=f"bando:{i}", type="call", title=f"Bando numero {i} per l'efficienza energetica " * 3,
                      score=0, snippet="", source="x", url=f"https://example.org/{i}",
                      metadata={"deadline": deadline})

    calls = [call(1, "2027-03-31"), call(2, "2027-04-15T12:00:00"), call(3, None)]
    body = feed(calls, "http://127.0.0.1:8000", "Scadenza", "Scadenze", now=datetime(2026, 12, 1, tzinfo=UTC))
    events = check_rfc5545(body)
    assert len(events) == 2
    assert events[0].decoded("DTSTART") == date(2027, 3, 31) and "VALUE=DATE" in events[0].to_ical().decode()
    assert str(events[0]["URL"]) == "https://example.org/1"
    assert str(events[0]["SUMMARY"]).startswith("Scadenza: Bando numero 1")
    again = check_rfc5545(feed(calls, "http://127.0.0.1:8000", "Scadenza", "Scadenze"))
    assert [str(e["UID"]) for e in again] == [str(e["UID"]) for e in events]


def test_a_crash_is_a_plain_page_or_json_with_the_safety_headers(tmp_path, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    from convergenze.api.main import create_app
    from convergenze.core.settings import Settings
    from convergenze.services.wiring import Services

    monkeypatch.setenv("CONVERGENZE_DATA", str(tmp_path))
    app = create_app(Services(Settings.load()))  # no lifespan: nothing is loaded

    def crash() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/crash", crash)
    app.add_api_route("/v1/crash", crash)
    client = TestClient(app, raise_server_exceptions=False)
    page, api = client.get("/crash"), client.get("/v1/crash")
    assert page.status_code == 500 and "Si è verificato un errore interno" in page.text and "a bug" not in page.text
    assert api.status_code == 500 and api.json() == {"detail": "Internal server error."}
    for response in (page, api):
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
    docs = client.get("/docs")
    assert "/static-offline-docs/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text.lower()
    assert "'unsafe-inline'" in docs.headers["content-security-policy"]
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
