"""The web pages over real HTTP on the session's ingested index: the same answers as the JSON API, safety
headers, CSRF, messages a person can act on, the calendar feed."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import ADMIN_KEY
from tests.test_web_units import check_rfc5545

pytestmark = pytest.mark.slow

PROJECT = ("Il comune vuole trasferire in cloud i servizi digitali dell'anagrafe e dello stato civile "
           "e migliorare l'esperienza dei cittadini sul sito istituzionale.")


def _token(client: httpx.Client, path: str) -> str:
    found = re.search(r'name="csrftoken" value="([^"]+)"', client.get(path).text)
    assert found, f"no CSRF token in the form of {path}"
    return found.group(1)


def _ids(html: str) -> list[str]:
    return re.findall(r'<li class="card" data-id="([^"]+)"', html)


def test_every_response_carries_the_safety_headers(client: httpx.Client) -> None:
    for path in ("/", "/search?q=energia", "/v1/search?q=energia", "/health", "/static/app.css", "/nope"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_unknown_page_is_a_page_and_unknown_api_path_stays_json(client: httpx.Client) -> None:
    page = client.get("/nowhere")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"] and "Pagina non trovata" in page.text
    api = client.get("/v1/nowhere")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}


def test_the_match_page_lists_what_the_api_ranks_in_the_same_order(client: httpx.Client) -> None:
    api = client.post("/v1/match", json={"text": PROJECT, "limit": 10,
                                         "profile": {"actor_type": "public_administration", "region": "Lazio"}})
    assert api.status_code == 200
    with httpx.Client(base_url=str(client.base_url), timeout=120) as browser:
        browser.get("/alerts")  # cookies from the pages do not get in the way of a form that only reads
        page = browser.post("/match", files={"file": ("", b"")}, data={
            "text": PROJECT, "region": "Lazio", "actor_type": "public_administration"})
    assert page.status_code == 200
    assert _ids(page.text) == [hit["id"] for hit in api.json()["data"]]
    assert 'class="verdict-' in page.text


def test_a_state_changing_form_needs_its_token(client: httpx.Client) -> None:
    bare = httpx.post(f"{client.base_url}/alerts", data={"name": "x", "query": "energia"})
    assert bare.status_code == 403 and "Il modulo è scaduto" in bare.text
    admin = {"X-API-Key": ADMIN_KEY}
    with httpx.Client(base_url=str(client.base_url)) as browser:
        browser.get("/alerts")  # the cookie, without the form's token
        forged = browser.post("/alerts/session", data={"key": ADMIN_KEY, "csrftoken": "forged"})
        assert forged.status_code == 403
        token = _token(browser, "/alerts")
        anonymous = browser.post("/alerts", data={"name": "Energia", "query": "energia", "csrftoken": token})
        assert anonymous.status_code == 401 and "Gli avvisi sono personali" in anonymous.text
        refused = browser.post("/alerts/session", data={"key": "cvz_nope_nope", "csrftoken": token})
        assert refused.status_code == 401 and "non è valida" in refused.text
        signed = browser.post("/alerts/session", data={"key": ADMIN_KEY, "query": "energia", "csrftoken": token})
        assert signed.status_code == 303 and signed.headers["location"] == "/alerts?q=energia"
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and ADMIN_KEY.lower() not in cookie
        saved = browser.post("/alerts", data={"name": "Energia", "query": "energia", "csrftoken": token})
        assert saved.status_code == 303 and saved.headers["location"].startswith("/alerts?saved=alert-")
        alert_id = saved.headers["location"].split("=")[1]
        listed = client.get("/v1/alerts", headers=admin, params={"limit": 100}).json()["data"]
        assert any(a["id"] == alert_id for a in listed)
        page = browser.get("/alerts").text
        feed = re.search(rf'href="(/v1/alerts/{alert_id}/feed\?token=[0-9a-f]+)"', page)
        assert feed and httpx.get(f"{client.base_url}{feed.group(1)}").status_code == 200  # a feed reader's view
        assert httpx.get(f"{client.base_url}/v1/alerts/{alert_id}/feed?token=0123").status_code == 401
        browser.post("/alerts/session/delete", data={"csrftoken": token})
        assert "Energia" not in browser.get("/alerts").text  # signed out: nobody's alerts are shown
        gone = browser.post(f"/alerts/{alert_id}/delete", data={"csrftoken": token})
        assert gone.status_code == 404  # and nobody's can be deleted
        browser.post("/alerts/session", data={"key": ADMIN_KEY, "csrftoken": token})
        gone = browser.post(f"/alerts/{alert_id}/delete", data={"csrftoken": token})
        assert gone.status_code == 303
    listed = client.get("/v1/alerts", headers=admin, params={"limit": 100}).json()["data"]
    assert all(a["id"] != alert_id for a in listed)


def test_the_json_api_takes_no_csrf_token(client: httpx.Client) -> None:
    client.cookies.set("csrftoken", "a-cookie-from-the-pages")
    try:
        response = client.post("/v1/match", json={"text": PROJECT, "limit": 1})
    finally:
        client.cookies.clear()
    assert response.status_code == 200


@pytest.mark.parametrize(("path", "message"), [
    ("/search?q=+++", "La ricerca è vuota"),
    ("/search?q=energia&region=Atlantide", "Regione sconosciuta"),
    ("/search?q=energia&deadline_from=2027-05-01&deadline_to=2027-01-01", "La data «dal» viene dopo"),
    ("/search?q=energia&deadline_from=domani", "Un valore non è valido (scadenza dal)"),
    ("/search?q=+++&lang=en", "The search is empty"),
])
def test_a_bad_search_gets_a_message_on_the_page_with_the_form_kept(client: httpx.Client, path: str,
                                                                     message: str) -> None:
    response = client.get(path)
    assert response.status_code == 400 and message in response.text
    assert 'id="q"' in response.text and 'role="alert"' in response.text


def test_search_page_and_exports_show_the_api_results(client: httpx.Client) -> None:
    params = {"q": "migrazione al cloud dei servizi digitali dei comuni"}
    api = [h["id"] for h in client.get("/v1/search", params={**params, "limit": 10}).json()["data"]]
    page = client.get("/search", params=params)
    assert page.status_code == 200
    shown = re.findall(r'<h3 class="card-title"><a href="/documents/([^"]+)"', page.text)
    assert [httpx.URL(f"/{s}").path[1:] for s in shown] == api
    assert "<mark>" in page.text
    exported = client.get("/search.json", params=params).json()
    assert [h["id"] for h in exported["data"]] == api
    csv = client.get("/search.csv", params=params)
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.splitlines()[0].startswith("id,type,title")


def test_a_document_that_is_not_a_call_is_labelled_on_the_search_page(client: httpx.Client) -> None:
    params = {"q": "concorso pubblico per esami assunzione a tempo indeterminato INPS"}
    for lang, label in (("it", "Non è un bando di finanziamento"), ("en", "Not a funding call")):
        page = client.get("/search", params={**params, "lang": lang}).text
        head = page[: page.index('href="/documents/pdf%3Ainps_concorso_pubblico"')]
        assert label in head[head.rfind('<article class="card'):]  # on the competition's own card
        assert page.count(label) == 1  # only the competition is labelled, not the calls around it


def test_calendar_feed_follows_the_filters_and_rfc5545(client: httpx.Client) -> None:
    response = client.get("/calendar.ics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    events = check_rfc5545(response.content)
    page = client.get("/calendar")
    assert page.status_code == 200
    assert len(events) == len(re.findall(r'<li><strong>', page.text))
    lazio = check_rfc5545(client.get("/calendar.ics", params={"region": "Lazio"}).content)
    assert len(lazio) <= len(events)


def test_language_switch_sets_a_cookie_and_the_next_page_follows(client: httpx.Client) -> None:
    with httpx.Client(base_url=str(client.base_url)) as browser:
        english = browser.get("/search", params={"lang": "en"})
        assert '<html lang="en">' in english.text and "Keywords" in english.text
        assert browser.cookies.get("lang") == "en"
        assert '<html lang="en">' in browser.get("/calendar").text
        assert '<html lang="it">' in browser.get("/calendar", params={"lang": "it"}).text
