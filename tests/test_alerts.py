"""Alerts: the /v1/alerts API, signed webhook deliveries (retried, never twice), the Atom feed, e-mail."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from convergenze.api.limits import RateLimits
from convergenze.api.routes import alerts as alert_routes
from convergenze.api.routes import history as history_routes
from convergenze.core.settings import Settings
from convergenze.core.vocabulary import Role
from convergenze.corpora.http import FetchPolicy, HttpFetcher
from convergenze.corpora.netguard import NetPolicy
from convergenze.corpora.state import Event, StateStore
from convergenze.pipelines.alerts import AlertStore
from convergenze.pipelines.delivery import DeliveryPolicy, Notifier, SmtpConfig
from convergenze.services.wiring import Services
from tests.local_server import LOCAL, LocalSite, Request, Response, serve

SECRET = "s3cret-shared-key"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StateStore:
    monkeypatch.setenv("CONVERGENZE_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("CONVERGENZE_ALLOWED_PRIVATE_HOSTS", "127.0.0.1")
    return StateStore(tmp_path / "data" / "state" / "state.sqlite")


@pytest.fixture
def client(state: StateStore) -> Iterator[TestClient]:
    app = FastAPI()
    app.include_router(history_routes.router)
    app.include_router(alert_routes.router)
    services = Services(Settings.load())  # only the state store is used: nothing else opens
    app.state.services = services
    app.state.rate_limits = RateLimits(services.settings.security)
    _, key = services.access.create("tests", Role.EDITOR)
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as test_client:
        yield test_client


def test_saving_listing_reading_and_deleting_alerts(client: TestClient) -> None:
    body = {"name": "Digitale PMI", "query": "digitalizzazione PMI", "filters": {"types": ["call"]},
            "webhook_url": "http://127.0.0.1:9/hook", "secret": SECRET}
    created = client.post("/v1/alerts", json=body)
    assert created.status_code == 201
    alert = created.json()
    assert alert["id"].startswith("alert-") and alert["has_secret"] and "secret" not in alert
    assert alert["filters"] == {"types": ["call"]} and alert["min_score"] == 0.83
    again = client.post("/v1/alerts", json=body)
    assert again.status_code == 200 and again.json()["id"] == alert["id"]  # the id comes from the content
    assert client.get("/v1/alerts").json()["count"] == 1
    detail = client.get(f"/v1/alerts/{alert['id']}").json()
    assert detail["hits"] == [] and detail["feed_url"].startswith(f"/v1/alerts/{alert['id']}/feed?token=")
    assert client.delete(f"/v1/alerts/{alert['id']}").status_code == 204
    missing = client.get(f"/v1/alerts/{alert['id']}")
    assert missing.status_code == 404 and missing.json() == {"detail": "Alert not found."}


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"name": "x", "query": "a", "match_text": "b"}, 400,
         "Give either query (a saved search) or match_text (a match profile), not both."),
        ({"name": "x"}, 400, "Give either query (a saved search) or match_text (a match profile), not both."),
        ({"name": "x", "query": "a", "webhook_url": "http://127.0.0.1:9/h"}, 400,
         "A webhook_url needs a secret: deliveries are signed with it."),
        ({"name": "x", "query": "a", "email": "not-an-address"}, 422, None),
        ({"name": "x", "query": "a", "colour": "red"}, 422, None),
    ],
)
def test_bad_alerts_are_refused(client: TestClient, body: dict, status: int, detail: str | None) -> None:
    response = client.post("/v1/alerts", json=body)
    assert response.status_code == status
    if detail:
        assert response.json() == {"detail": detail}


def seed_hit(state: StateStore, alerts: AlertStore, alert_id: str, document_id: str, version: int = 1) -> None:
    alert = alerts.get(alert_id)
    assert alert is not None
    message = "deadline extended from 15/03/2026 to 30/04/2026"
    state.save([], [], [Event(document_id, "src", version, "deadline", message)])
    events, mark = alerts.pending_events(alert)
    hit = {"document_id": document_id, "version": version, "kind": "changed", "title": "Bando uno",
           "url": "https://example.org/bando-uno", "score": 0.9, "changes": [e["message"] for e in events]}
    alerts.record(alert, [hit], mark)


def webhook_site(answers: list[int]) -> LocalSite:
    replies = iter(answers)
    return LocalSite(routes={"/hook": lambda request: Response(next(replies, 200), b"ok")})


def fetcher(timeout: float = 5.0, net: NetPolicy = LOCAL) -> HttpFetcher:
    return HttpFetcher(FetchPolicy(min_interval=0.0, retries=0, backoff=0.0, timeout=timeout, net=net))


NOW = DeliveryPolicy(backoff=0.0)  # a failed delivery is due again at once (the default waits a minute)


def test_webhooks_are_signed_retried_and_never_sent_twice(client: TestClient, state: StateStore) -> None:
    site = webhook_site([500, 503, 200])
    with serve(site):
        alert = client.post("/v1/alerts", json={"name": "Bandi", "query": "bandi", "secret": SECRET,
                                                "webhook_url": site.url("/hook")}).json()
        alerts = AlertStore(state)
        seed_hit(state, alerts, alert["id"], "incentivi:1")
        seed_hit(state, alerts, alert["id"], "incentivi:1")  # the same version again: no second hit
        first = Notifier(alerts, fetcher(), policy=NOW).run()  # 500: failed for now
        assert (first.sent, first.failed) == (0, 1)
        assert Notifier(alerts, fetcher(), policy=NOW).run().failed == 1  # the next pass: 503
        second = Notifier(alerts, fetcher(), policy=NOW).run()  # then 200
        assert (second.sent, second.failed) == (1, 0)
        third = Notifier(alerts, fetcher(), policy=NOW).run()
        assert (third.sent, third.failed) == (0, 0)
    posts = site.hits("/hook")
    assert len(posts) == 3
    delivered: Request = posts[-1]
    expected = "sha256=" + hmac.new(SECRET.encode(), delivered.body, hashlib.sha256).hexdigest()
    assert delivered.headers["x-convergenze-signature"] == expected
    assert delivered.headers["x-convergenze-delivery"] == f"{alert['id']}:incentivi:1:1"
    payload = json.loads(delivered.body)
    assert payload["document"] == {"id": "incentivi:1", "version": 1, "title": "Bando uno",
                                   "url": "https://example.org/bando-uno"}
    assert payload["changes"] == ["deadline extended from 15/03/2026 to 30/04/2026"]
    (delivery,) = client.get(f"/v1/alerts/{alert['id']}").json()["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("sent", 3)


def test_the_feed_is_atom_with_one_entry_per_hit(client: TestClient, state: StateStore) -> None:
    alert = client.post("/v1/alerts", json={"name": "Bandi", "query": "bandi"}).json()
    seed_hit(state, AlertStore(state), alert["id"], "incentivi:1")
    seed_hit(state, AlertStore(state), alert["id"], "incentivi:1", version=2)
    response = client.get(f"/v1/alerts/{alert['id']}/feed")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring(response.content)
    entries = feed.findall("a:entry", ns)
    assert [e.findtext("a:id", namespaces=ns) for e in entries] == [
        f"urn:convergenze:{alert['id']}:incentivi:1:v2",
        f"urn:convergenze:{alert['id']}:incentivi:1:v1",
    ]
    assert entries[0].findtext("a:summary", namespaces=ns) == "deadline extended from 15/03/2026 to 30/04/2026"
    assert entries[0].find("a:link", ns).get("href") == "https://example.org/bando-uno"  # type: ignore[union-attr]
    assert client.get("/v1/alerts/alert-0000000000000000/feed").status_code == 404


def test_email_through_smtp_when_configured(client: TestClient, state: StateStore) -> None:
    from aiosmtpd.controller import Controller

    received: list[bytes] = []

    class Handler:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
            received.append(envelope.content)  # type: ignore[attr-defined]
            return "250 OK"

    with socket.socket() as probe:  # a free port: the controller checks its server by connecting to it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        alert = client.post("/v1/alerts", json={"name": "Bandi", "query": "bandi",
                                                "email": "ufficio@example.org"}).json()
        alerts = AlertStore(state)
        seed_hit(state, alerts, alert["id"], "incentivi:7")
        unconfigured = Notifier(alerts, fetcher(), None, NOW).run()
        assert unconfigured.failed == 1 and "CONVERGENZE_SMTP_HOST" in unconfigured.errors[0]
        sent = Notifier(alerts, fetcher(), SmtpConfig("127.0.0.1", port, "avvisi@convergenze.test")).run()
        assert sent.sent == 1
        assert Notifier(alerts, fetcher(), SmtpConfig("127.0.0.1", port)).run().sent == 0
    finally:
        controller.stop()
    (message,) = received
    assert b"To: ufficio@example.org" in message and b"Aggiornato: Bando uno" in message


def test_a_failed_delivery_waits_for_its_backoff(client: TestClient, state: StateStore) -> None:
    site = webhook_site([500, 200])
    with serve(site):
        alert = client.post("/v1/alerts", json={"name": "Bandi", "query": "bandi", "secret": SECRET,
                                                "webhook_url": site.url("/hook")}).json()
        alerts = AlertStore(state)
        seed_hit(state, alerts, alert["id"], "incentivi:2")
        assert Notifier(alerts, fetcher()).run().failed == 1
        assert Notifier(alerts, fetcher()).run().failed == 0 and alerts.due(5) == []  # due in a minute
    assert len(site.hits("/hook")) == 1


def test_a_slow_webhook_costs_a_pass_its_budget_not_more(client: TestClient, state: StateStore) -> None:
    slow = LocalSite(routes={"/hook": lambda request: Response(200, b"ok", delay=3.0)})
    with serve(slow):
        alert = client.post("/v1/alerts", json={"name": "Bandi", "query": "bandi", "secret": SECRET,
                                                "webhook_url": slow.url("/hook")}).json()
        alerts = AlertStore(state)
        seed_hit(state, alerts, alert["id"], "incentivi:3")
        started = time.monotonic()
        timed_out = Notifier(alerts, fetcher(timeout=0.5), policy=NOW).run()
        assert timed_out.failed == 1 and "timed out" in timed_out.errors[0]
        assert time.monotonic() - started < 2.5
        started = time.monotonic()
        cut = Notifier(alerts, fetcher(timeout=10), policy=DeliveryPolicy(budget=0.5, backoff=0.0)).run()
        assert time.monotonic() - started < 1.5 and "left for the next pass" in cut.errors[-1]


def test_a_failing_host_trips_the_breaker(client: TestClient, state: StateStore) -> None:
    site = webhook_site([500] * 10)
    with serve(site):
        alert = client.post("/v1/alerts", json={"name": "Bandi", "query": "bandi", "secret": SECRET,
                                                "webhook_url": site.url("/hook")}).json()
        alerts = AlertStore(state)
        for number in range(6):
            seed_hit(state, alerts, alert["id"], f"incentivi:{10 + number}")
        outcome = Notifier(alerts, fetcher(), policy=NOW).run()
    assert outcome.failed == 3 and len(site.hits("/hook")) == 3
    assert "3 failures in a row" in outcome.errors[-1]


def test_a_webhook_to_a_forbidden_address_is_refused_again_at_delivery(client: TestClient, state: StateStore) -> None:
    """An alert made while 127.0.0.1 was allowed: with the allowance gone, the delivery never connects."""
    site = webhook_site([200])
    with serve(site):
        alert = client.post("/v1/alerts", json={"name": "Bandi", "query": "bandi", "secret": SECRET,
                                                "webhook_url": site.url("/hook")}).json()
        alerts = AlertStore(state)
        seed_hit(state, alerts, alert["id"], "incentivi:4")
        outcome = Notifier(alerts, fetcher(net=NetPolicy()), policy=NOW).run()
    assert outcome.failed == 1 and "loopback address: not allowed" in outcome.errors[0]
    assert site.requests == []
