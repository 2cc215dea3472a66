"""Delivering alert hits, off the ingestion's path: webhook POSTs and e-mails with a short timeout, several hosts
in parallel, one host's deliveries one after another behind a breaker, and a time budget after which the caller
stops waiting (what is left stays due for the next pass).

* a webhook gets ``timeout`` seconds (5) and no redirect; the SSRF policy is checked again at delivery;
* a host that failed ``breaker`` times in a row (3) is skipped for the rest of the pass;
* a failed delivery is due again after ``backoff × 2^attempts`` seconds (60 s, 2 min, 4 min... at most 6 h), up
  to ``max_attempts``: on the next ingestion, or the next run of the delivery flow (``deliver_flow``).
"""

from __future__ import annotations

import json
import logging
import smtplib
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from convergenze.core.settings import AlertSettings, FetchSettings, Settings
from convergenze.corpora.http import FetchError, FetchPolicy, HttpFetcher
from convergenze.corpora.netguard import NetPolicy
from convergenze.corpora.state import StateStore

from .alerts import DELIVERY_HEADER, SIGNATURE_HEADER, AlertRun, AlertStore, sign
from .runtime import IngestionLock

logger = logging.getLogger(__name__)
MAX_BACKOFF = 6 * 3600.0


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int = 25
    sender: str = "convergenze@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 5.0


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    timeout: float = 5.0
    workers: int = 8
    budget: float = 30.0  # seconds the caller waits for a pass; the rest goes on the next one
    breaker: int = 3
    backoff: float = 60.0
    max_attempts: int = 5

    @classmethod
    def from_settings(cls, alerts: AlertSettings) -> DeliveryPolicy:
        return cls(timeout=alerts.delivery_timeout, budget=alerts.delivery_budget, max_attempts=alerts.max_attempts)


def webhook_fetcher(policy: DeliveryPolicy, net: NetPolicy) -> HttpFetcher:
    """The client webhooks go through: the short timeout, no retries inside a pass (later passes retry)."""
    return HttpFetcher(FetchPolicy(timeout=policy.timeout, retries=0, min_interval=0.0, net=net))


def smtp_config(alerts: AlertSettings, timeout: float) -> SmtpConfig | None:
    if not alerts.smtp_host:
        return None
    return SmtpConfig(alerts.smtp_host, alerts.smtp_port, alerts.smtp_from, alerts.smtp_user, alerts.smtp_password,
                      alerts.smtp_starttls, timeout)


class Notifier:
    """Delivers the hits whose delivery is due."""

    def __init__(self, alerts: AlertStore, fetcher: HttpFetcher, smtp: SmtpConfig | None = None,
                 policy: DeliveryPolicy | None = None) -> None:
        self.alerts = alerts
        self.fetcher = fetcher
        self.smtp = smtp
        self.policy = policy or DeliveryPolicy()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, alerts: AlertStore, settings: AlertSettings, fetching: FetchSettings) -> Notifier:
        policy = DeliveryPolicy.from_settings(settings)
        return cls(alerts, webhook_fetcher(policy, NetPolicy.from_settings(fetching)),
                   smtp_config(settings, policy.timeout), policy)

    def run(self, outcome: AlertRun | None = None) -> AlertRun:
        """One pass over what is due, hosts in parallel; returns after at most ``budget`` seconds."""
        outcome = outcome or AlertRun()
        by_host: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for delivery in self.alerts.due(self.policy.max_attempts):
            by_host[self._destination(delivery)].append(delivery)
        if not by_host:
            return outcome
        stop = threading.Event()
        pool = ThreadPoolExecutor(max_workers=min(self.policy.workers, len(by_host)),
                                  thread_name_prefix="convergenze-delivery")
        futures = [pool.submit(self._host, deliveries, outcome, stop) for deliveries in by_host.values()]
        _, late = wait(futures, timeout=self.policy.budget)
        stop.set()  # hosts still running stop after their current request (at most ``timeout`` s)
        pool.shutdown(wait=False, cancel_futures=True)
        if late:
            outcome.errors.append(f"deliveries to {len(late)} hosts left for the next pass (over the "
                                  f"{self.policy.budget:g} s budget)")
        return outcome

    def _destination(self, delivery: dict[str, Any]) -> str:
        if delivery["channel"] == "email":
            return "smtp"
        return urlsplit(json.loads(delivery["alert_spec"]).get("webhook_url") or "").netloc.lower()

    def _host(self, deliveries: list[dict[str, Any]], outcome: AlertRun, stop: threading.Event) -> None:
        failures = 0
        for delivery in deliveries:
            if stop.is_set():
                return
            if failures >= self.policy.breaker:
                with self._lock:
                    outcome.errors.append(f"{self._destination(delivery)}: {failures} failures in a row, the rest "
                                          "waits for the next pass")
                return
            error = self._deliver(delivery)
            failures = failures + 1 if error else 0
            retry_in = min(self.policy.backoff * 2 ** delivery["attempts"], MAX_BACKOFF)
            self.alerts.mark(delivery["hit_id"], delivery["channel"], error, retry_in)
            with self._lock:
                if error:
                    outcome.failed += 1
                    outcome.errors.append(error)
                else:
                    outcome.sent += 1

    def _deliver(self, delivery: dict[str, Any]) -> str | None:
        body = self.payload(delivery)
        try:
            if delivery["channel"] == "webhook":
                self._webhook(delivery, body)
            else:
                self._email(delivery, body)
        except (FetchError, smtplib.SMTPException, OSError) as error:
            return f"{delivery['channel']} delivery failed: {error}"
        return None

    @staticmethod
    def payload(delivery: dict[str, Any]) -> dict[str, Any]:
        return {
            "alert": {"id": delivery["alert_id"], "name": delivery["alert_name"]},
            "event": delivery["kind"],
            "document": {
                "id": delivery["document_id"],
                "version": delivery["version"],
                "title": delivery["title"],
                "url": delivery["url"],
            },
            "changes": json.loads(delivery["changes"]),
            "score": delivery["score"],
            "detected_at": delivery["created_at"],
        }

    def _webhook(self, delivery: dict[str, Any], payload: dict[str, Any]) -> None:
        spec = json.loads(delivery["alert_spec"])
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            DELIVERY_HEADER: f"{delivery['alert_id']}:{delivery['document_id']}:{delivery['version']}",
        }
        secret = self.alerts.secret(delivery["alert_id"])
        if secret:
            headers[SIGNATURE_HEADER] = sign(secret, body)
        # No redirect: a 307 would send the body and its signature wherever the receiver points.
        self.fetcher.post(spec["webhook_url"], content=body, headers=headers, follow_redirects=False)

    def _email(self, delivery: dict[str, Any], payload: dict[str, Any]) -> None:
        if self.smtp is None:
            raise OSError("no SMTP server is configured (CONVERGENZE_SMTP_HOST)")
        spec = json.loads(delivery["alert_spec"])
        message = EmailMessage()
        message["From"] = self.smtp.sender
        message["To"] = spec["email"]
        verb = "Nuovo" if payload["event"] == "new" else "Aggiornato"
        message["Subject"] = f"[Convergenze] {verb}: {payload['document']['title']}"[:200]
        message["Message-ID"] = f"<{delivery['alert_id']}.{delivery['hit_id']}@convergenze>"
        lines = [
            f"Avviso «{payload['alert']['name']}»",
            "",
            payload["document"]["title"],
            payload["document"]["url"] or payload["document"]["id"],
            "",
            *payload["changes"],
        ]
        message.set_content("\n".join(lines))
        with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=self.smtp.timeout) as client:
            if self.smtp.starttls:
                client.starttls()
            if self.smtp.username and self.smtp.password:
                client.login(self.smtp.username, self.smtp.password)
            client.send_message(message)


@task(cache_policy=NO_CACHE)
def deliver_alerts(state: StateStore, settings: Settings, outcome: AlertRun | None = None) -> AlertRun:
    """One delivery pass (bounded by ``CONVERGENZE_ALERT_DELIVERY_BUDGET``); failures stay due with backoff."""
    notifier = Notifier.from_settings(AlertStore(state), settings.alerts, settings.fetch)
    try:
        return notifier.run(outcome)
    finally:
        notifier.fetcher.close()


@flow(name="convergenze-deliver", log_prints=True)
def deliver_flow() -> dict[str, Any]:
    """Deliveries whose backoff has passed, between ingestions (``convergenze deliver``, prefect.yaml)."""
    settings = Settings.load()
    with IngestionLock(settings.data.data_dir):  # an ingestion delivers too: never both at once
        outcome = deliver_alerts(StateStore(settings.data.state_dir / "state.sqlite"), settings)
    print(f"alerts: {outcome.sent} sent, {outcome.failed} failed")
    return asdict(outcome)
