"""Saved searches and match profiles: ``/v1/alerts``. Each ingestion run evaluates its new and changed
documents against them (pipelines/alerts.py); hits go to the alert's webhook, e-mail and Atom feed."""

from __future__ import annotations

from typing import Annotated, Any
from xml.etree import ElementTree as ET

from fastapi import APIRouter, HTTPException, Path, Response
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from convergenze.pipelines.alerts import Alert, AlertStore

from ..deps import ServicesDep
from ..errors import ALERT_NEEDS_ONE_TEXT, ALERT_NOT_FOUND, ALERT_WEBHOOK_NEEDS_SECRET
from ..models import ErrorOut
from .history import StateDep

router = APIRouter(prefix="/v1", tags=["alerts"])
AlertId = Annotated[str, Path(max_length=40, pattern=r"^alert-[0-9a-f]{16}$", examples=["alert-0123456789abcdef"])]
ATOM = "http://www.w3.org/2005/Atom"


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


def _out(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id, "name": alert.name, "query": alert.query, "match_text": alert.match_text,
        "filters": alert.filters, "min_score": alert.min_score, "webhook_url": alert.webhook_url,
        "email": alert.email, "has_secret": alert.has_secret, "created_at": alert.created_at,
        "feed_url": f"/v1/alerts/{alert.id}/feed",
    }


def _found(store: AlertStore, alert_id: str) -> Alert:
    alert = store.get(alert_id)
    if alert is None:
        raise HTTPException(status_code=404, detail=ALERT_NOT_FOUND)
    return alert


def save_alert(store: AlertStore, body: AlertIn, default_min_score: float) -> tuple[Alert, bool]:
    """Store an alert (the API and the alerts page); raises HTTPException for an inconsistent one."""
    if (body.query is None) == (body.match_text is None):
        raise HTTPException(status_code=400, detail=ALERT_NEEDS_ONE_TEXT)
    if body.webhook_url is not None and not body.secret:
        raise HTTPException(status_code=400, detail=ALERT_WEBHOOK_NEEDS_SECRET)
    spec = body.model_dump(mode="json", exclude={"secret"}, exclude_none=True)
    spec["filters"] = body.filters.model_dump(exclude_none=True, exclude_defaults=True)
    spec["min_score"] = body.min_score if body.min_score is not None else default_min_score
    return store.save(spec, body.secret)


@router.post("/alerts", response_model=AlertOut, status_code=201, responses={400: {"model": ErrorOut}})
def create_alert(services: ServicesDep, body: AlertIn, response: Response) -> AlertOut:
    alert, created = save_alert(AlertStore(services.state), body, services.settings.alerts.min_score)
    if not created:
        response.status_code = 200  # the same alert again: its id comes from its content
    return AlertOut(**_out(alert))


@router.get("/alerts", response_model=AlertListOut)
def list_alerts(state: StateDep) -> AlertListOut:
    alerts = [AlertOut(**_out(a)) for a in AlertStore(state).all()]
    return AlertListOut(data=alerts, count=len(alerts))


@router.get("/alerts/{alert_id}", response_model=AlertDetailOut, responses={404: {"model": ErrorOut}})
def get_alert(state: StateDep, alert_id: AlertId) -> AlertDetailOut:
    store = AlertStore(state)
    alert = _found(store, alert_id)
    return AlertDetailOut(
        **_out(alert),
        hits=[AlertHitOut(**{k: h[k] for k in AlertHitOut.model_fields}) for h in store.hits(alert_id)],
        deliveries=[
            {k: d[k] for k in ("document_id", "version", "channel", "status", "attempts", "last_error", "sent_at")}
            for d in store.deliveries(alert_id)
        ],
    )


@router.delete("/alerts/{alert_id}", status_code=204, responses={404: {"model": ErrorOut}})
def delete_alert(state: StateDep, alert_id: AlertId) -> Response:
    if not AlertStore(state).delete(alert_id):
        raise HTTPException(status_code=404, detail=ALERT_NOT_FOUND)
    return Response(status_code=204)


@router.get(
    "/alerts/{alert_id}/feed",
    responses={200: {"content": {"application/atom+xml": {}}}, 404: {"model": ErrorOut}},
    response_class=Response,
)
def alert_feed(state: StateDep, alert_id: AlertId) -> Response:
    """The alert's hits as an Atom feed, newest first (the last 50)."""
    store = AlertStore(state)
    alert = _found(store, alert_id)
    hits = store.hits(alert_id)
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"urn:convergenze:{alert.id}"
    ET.SubElement(feed, f"{{{ATOM}}}title").text = f"Convergenze: {alert.name}"
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = hits[0]["created_at"] if hits else alert.created_at
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=f"/v1/alerts/{alert.id}/feed")
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
