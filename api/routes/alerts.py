"""Saved searches and match profiles: ``/v1/alerts``. Each ingestion run evaluates its new and changed
documents against them (pipelines/alerts.py); hits go to the alert's webhook, e-mail and Atom feed.

An alert belongs to the API key that made it (an editor's or more): only that key, or an admin's, lists, reads,
deletes it or reads its feed; to anyone else it does not exist (404), so its webhook URL, secret, e-mail and
delivery errors are never shown to them. The feed also opens with the token in its ``feed_url`` (a feed
reader sends no key); the token opens that feed and nothing else. A webhook URL must pass the SSRF policy
when the alert is made."""

from __future__ import annotations

from typing import Annotated, Any
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from convergenze.core.vocabulary import Role
from convergenze.corpora.netguard import BlockedDestination, NetPolicy
from convergenze.pipelines.alerts import Alert, AlertLimitReached, AlertStore
from convergenze.services.access import AccessStore
from convergenze.services.wiring import Services

from ..deps import ServicesDep
from ..errors import (
    ALERT_LIMIT,
    ALERT_NEEDS_ONE_TEXT,
    ALERT_NOT_FOUND,
    ALERT_WEBHOOK_NEEDS_SECRET,
    WEBHOOK_REFUSED,
)
from ..limits import rate_limited
from ..models import ErrorOut
from ..security import AUTH_RESPONSES, Caller, CallerDep, Editor, audit, require

router = APIRouter(prefix="/v1", tags=["alerts"], responses=AUTH_RESPONSES)
AlertId = Annotated[str, Path(max_length=40, pattern=r"^alert-[0-9a-f]{16}$", examples=["alert-0123456789abcdef"])]
ATOM = "http://www.w3.org/2005/Atom"
# A 422 is either FastAPI's list of invalid fields or a refused webhook_url (a fixed sentence).
_INVALID_OR_REFUSED: dict[str, Any] = {
    "description": "Invalid fields, or a webhook_url the server may not call.",
    "content": {"application/json": {"schema": {"anyOf": [
        {"$ref": "#/components/schemas/HTTPValidationError"}, {"$ref": "#/components/schemas/ErrorOut"}]}}},
}


class AlertFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    types: list[str] = Field(default_factory=list, max_length=5, examples=[["call"]])
    region: str | None = Field(default=None, max_length=100)
    status: str | None = Field(default=None, max_length=30)
    source: str | None = Field(default=None, max_length=100)
    programme: str | None = Field(default=None, max_length=100)
    mission: str | None = Field(default=None, max_length=30)
    beneficiary_type: str | None = Field(default=None, max_length=50)
    language: str | None = Field(default=None, max_length=5)


class AlertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["Digitalizzazione PMI nel Lazio"])
    query: str | None = Field(default=None, min_length=1, max_length=500, examples=["digitalizzazione PMI"])
    match_text: str | None = Field(default=None, min_length=1, max_length=20_000)
    filters: AlertFilters = Field(default_factory=AlertFilters)
    min_score: float | None = Field(default=None, ge=0, le=1)
    webhook_url: HttpUrl | None = None
    secret: str | None = Field(default=None, min_length=8, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AlertOut(BaseModel):
    id: str
    name: str
    query: str | None
    match_text: str | None
    filters: dict[str, Any]
    min_score: float
    webhook_url: str | None
    email: str | None
    has_secret: bool
    created_at: str
    feed_url: str


class AlertHitOut(BaseModel):
    document_id: str
    version: int
    kind: str
    title: str
    url: str | None
    score: float
    changes: list[str]
    created_at: str


class AlertDetailOut(AlertOut):
    hits: list[AlertHitOut]
    deliveries: list[dict[str, Any]]


class AlertListOut(BaseModel):
    data: list[AlertOut]
    count: int
    total: int
    limit: int
    offset: int


def _out(alert: Alert, access: AccessStore) -> dict[str, Any]:
    return {
        "id": alert.id, "name": alert.name, "query": alert.query, "match_text": alert.match_text,
        "filters": alert.filters, "min_score": alert.min_score, "webhook_url": alert.webhook_url,
        "email": alert.email, "has_secret": alert.has_secret, "created_at": alert.created_at,
        "feed_url": feed_url(alert.id, access),
    }


def feed_url(alert_id: str, access: AccessStore) -> str:
    return f"/v1/alerts/{alert_id}/feed?token={access.feed_token(alert_id)}"


def _found(store: AlertStore, alert_id: str, caller: Caller) -> Alert:
    """The caller's alert (any alert for an admin); someone else's is as missing as one that never was."""
    alert = store.get(alert_id)
    if alert is None or not (caller.is_admin or alert.owner == caller.id):
        raise HTTPException(status_code=404, detail=ALERT_NOT_FOUND)
    return alert


def save_alert(services: Services, caller: Caller, body: AlertIn) -> tuple[Alert, bool]:
    """Store ``caller``'s alert (the API and the alerts page) and log it; raises HTTPException for an
    inconsistent one, a refused webhook or an owner past the limit."""
    if (body.query is None) == (body.match_text is None):
        raise HTTPException(status_code=400, detail=ALERT_NEEDS_ONE_TEXT)
    if body.webhook_url is not None and not body.secret:
        raise HTTPException(status_code=400, detail=ALERT_WEBHOOK_NEEDS_SECRET)
    if body.webhook_url is not None:
        try:
            NetPolicy.from_settings(services.settings.fetch).check_url(str(body.webhook_url))
        except BlockedDestination as error:
            raise HTTPException(status_code=422, detail=WEBHOOK_REFUSED.format(reason=error)) from error
    spec = body.model_dump(mode="json", exclude={"secret"}, exclude_none=True)
    spec["filters"] = body.filters.model_dump(exclude_none=True, exclude_defaults=True)
    spec["min_score"] = body.min_score if body.min_score is not None else services.settings.alerts.min_score
    try:
        alert, created = AlertStore(services.state).save(spec, body.secret, caller.id,
                                                         services.settings.security.max_alerts_per_owner)
    except AlertLimitReached as error:
        raise HTTPException(status_code=400, detail=ALERT_LIMIT) from error
    audit(services, caller, "alert.create", alert.id, 201 if created else 200)
    return alert, created


@router.post(
    "/alerts", response_model=AlertOut, status_code=201, dependencies=[Depends(rate_limited("alerts"))],
    responses={400: {"model": ErrorOut}, 422: _INVALID_OR_REFUSED, 429: {"model": ErrorOut}},
)
def create_alert(services: ServicesDep, caller: Editor, body: AlertIn, response: Response) -> AlertOut:
    alert, created = save_alert(services, caller, body)
    # The same alert again is a 200: its id comes from its owner and content.
    response.status_code = 201 if created else 200
    return AlertOut(**_out(alert, services.access))


@router.get("/alerts", response_model=AlertListOut)
def list_alerts(
    services: ServicesDep,
    caller: Editor,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> AlertListOut:
    """The caller's alerts (an admin sees everyone's), oldest first, a page at a time."""
    found, total = AlertStore(services.state).page(None if caller.is_admin else caller.id, limit, offset)
    alerts = [AlertOut(**_out(a, services.access)) for a in found]
    return AlertListOut(data=alerts, count=len(alerts), total=total, limit=limit, offset=offset)


@router.get("/alerts/{alert_id}", response_model=AlertDetailOut, responses={404: {"model": ErrorOut}})
def get_alert(services: ServicesDep, caller: Editor, alert_id: AlertId) -> AlertDetailOut:
    store = AlertStore(services.state)
    alert = _found(store, alert_id, caller)
    return AlertDetailOut(
        **_out(alert, services.access),
        hits=[AlertHitOut(**{k: h[k] for k in AlertHitOut.model_fields}) for h in store.hits(alert_id)],
        deliveries=[
            {k: d[k] for k in ("document_id", "version", "channel", "status", "attempts", "last_error", "sent_at")}
            for d in store.deliveries(alert_id)
        ],
    )


@router.delete("/alerts/{alert_id}", status_code=204, responses={404: {"model": ErrorOut}})
def delete_alert(services: ServicesDep, caller: Editor, alert_id: AlertId) -> Response:
    store = AlertStore(services.state)
    _found(store, alert_id, caller)
    if not store.delete(alert_id):
        raise HTTPException(status_code=404, detail=ALERT_NOT_FOUND)
    audit(services, caller, "alert.delete", alert_id, 204)
    return Response(status_code=204)


@router.get(
    "/alerts/{alert_id}/feed",
    responses={200: {"content": {"application/atom+xml": {}}}, 404: {"model": ErrorOut}},
    response_class=Response,
)
def alert_feed(
    services: ServicesDep,
    caller: CallerDep,
    alert_id: AlertId,
    token: Annotated[str | None, Query(max_length=64, description="The token of the alert's feed_url.")] = None,
) -> Response:
    """The alert's hits as an Atom feed, newest first (the last 50): with the ``token`` of its ``feed_url`` (what
    a feed reader has), or the owner's or an admin's key."""
    store = AlertStore(services.state)
    if token is not None and services.access.feed_token_ok(alert_id, token):
        alert = store.get(alert_id)
        if alert is None:
            raise HTTPException(status_code=404, detail=ALERT_NOT_FOUND)
    else:
        alert = _found(store, alert_id, require(Role.EDITOR)(caller))
    hits = store.hits(alert_id)
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"urn:convergenze:{alert.id}"
    ET.SubElement(feed, f"{{{ATOM}}}title").text = f"Convergenze: {alert.name}"
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = hits[0]["created_at"] if hits else alert.created_at
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=feed_url(alert.id, services.access))
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "Convergenze"
    for hit in hits:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = (
            f"urn:convergenze:{alert.id}:{hit['document_id']}:v{hit['version']}"
        )
        prefix = "Nuovo" if hit["kind"] == "new" else "Aggiornato"
        ET.SubElement(entry, f"{{{ATOM}}}title").text = f"{prefix}: {hit['title']}"
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = hit["created_at"]
        if hit["url"]:
            ET.SubElement(entry, f"{{{ATOM}}}link", href=hit["url"])
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = "; ".join(hit["changes"])
    body = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return Response(content=body, media_type="application/atom+xml")
