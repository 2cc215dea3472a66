"""``/alerts``: the saved searches and match profiles of whoever is signed in, a form to create one (filled from
a search or a match), delete, and each alert's Atom feed.

Alerts are private, as ``/v1/alerts`` keeps them: each belongs to the API key that made it. The page asks for an
editor's key once (``session.py`` keeps its id in a signed cookie) and then shows that key's alerts (an admin's
key: everyone's). Alerts are stored by ``save_alert``, as ``POST /v1/alerts`` stores them, with the same limits
and audit log."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from convergenze.core.vocabulary import Role
from convergenze.pipelines.alerts import AlertStore

from ...deps import get_services
from ...limits import rate_limited
from ...routes.alerts import AlertIn, feed_url, save_alert
from ...security import Caller, audit
from .. import forms, messages
from ..templating import render, translate, web_of

router = APIRouter()
FILTERS = ("type", "region", "status", "source", "programme", "mission", "beneficiary_type", "language")
FIELDS = ("name", "query", "match_text", "email", *FILTERS)


def alert_in(fields: dict[str, str]) -> AlertIn:
    """The API's alert for the form's fields (empty ones are absent); raises ValidationError."""
    filters: dict[str, Any] = {k: fields[k] for k in FILTERS if fields.get(k) and k != "type"}
    if fields.get("type"):
        filters["types"] = [fields["type"]]
    body: dict[str, Any] = {k: fields[k] for k in ("name", "query", "match_text", "email") if fields.get(k)}
    return AlertIn.model_validate({**body, "filters": filters})


def _caller(request: Request) -> Caller:
    return web_of(request).session.caller(request)


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request) -> HTMLResponse:
    fields = {name: request.query_params.get("q" if name == "query" else name, "") for name in FIELDS}
    if not fields["name"]:
        fields["name"] = (fields["query"] or fields["match_text"])[:60]
    return _page(request, _caller(request), fields, None)


@router.post("/alerts/session", response_model=None)
async def sign_in(request: Request) -> Response:
    form = await request.form(max_fields=len(FIELDS) + 3)
    key = form.get("key")
    found = get_services(request).access.verify(key.strip()) if isinstance(key, str) and key.strip() else None
    fields = {name: value if isinstance(value := form.get(name), str) else "" for name in FIELDS}
    if found is None:
        return _page(request, Caller(None), fields, translate(request, messages.KEY_REFUSED), 401)
    back = {"q" if k == "query" else k: v for k, v in fields.items() if v}  # as a search's link gives them
    response = RedirectResponse(_url("/alerts", back), status_code=303)
    web_of(request).session.sign_in(response, request, found.id)
    return response


@router.post("/alerts/session/delete", response_model=None)
def sign_out(request: Request) -> Response:
    response = RedirectResponse("/alerts", status_code=303)
    web_of(request).session.sign_out(response)
    return response


@router.post("/alerts", response_class=HTMLResponse, response_model=None)
async def create_alert(request: Request) -> Response:
    caller = _caller(request)
    form = await request.form(max_fields=len(FIELDS) + 2)
    fields = {name: value.strip() if isinstance(value := form.get(name), str) else "" for name in FIELDS}
    if not caller.may(Role.EDITOR):
        return _page(request, caller, fields, translate(request, messages.KEY_NEEDED_FOR_ALERTS), 401)
    rate_limited("alerts")(request, caller)
    if not fields["name"]:
        return _page(request, caller, fields, translate(request, messages.ALERT_NAME_EMPTY), 400)
    if not fields["query"] and not fields["match_text"]:
        return _page(request, caller, fields, translate(request, messages.QUERY_EMPTY), 400)
    try:
        alert, _ = save_alert(get_services(request), caller, alert_in(fields))
    except (ValidationError, HTTPException) as error:
        message, _ = forms.failure(request, error)  # the form's own fault: a 400 whatever the API would say
        return _page(request, caller, fields, message, 400)
    return RedirectResponse(f"/alerts?saved={alert.id}", status_code=303)


@router.post("/alerts/{alert_id}/delete", response_model=None)
def delete_alert(request: Request, alert_id: Annotated[str, Path(max_length=40)]) -> Response:
    caller = _caller(request)
    services = get_services(request)
    store = AlertStore(services.state)
    alert = store.get(alert_id)
    # Someone else's alert is as missing as one that never was, as in the API.
    if alert is None or not caller.may(Role.EDITOR) or not (caller.is_admin or alert.owner == caller.id):
        return render(request, "error.html", {"message": translate(request, messages.ALERT_NOT_FOUND)}, 404)
    store.delete(alert_id)
    audit(services, caller, "alert.delete", alert_id, 303)
    return RedirectResponse("/alerts?deleted=1", status_code=303)


def _url(path: str, query: dict[str, str]) -> str:
    return f"{path}?{urlencode(query)}" if query else path


def _page(request: Request, caller: Caller, fields: dict[str, str], error: str | None,
          status_code: int = 200) -> HTMLResponse:
    services = get_services(request)
    store = AlertStore(services.state)
    signed_in = caller.may(Role.EDITOR)
    alerts, _ = store.page(None if caller.is_admin else caller.id, 100, 0) if signed_in else ([], 0)
    return render(request, "alerts.html", {
        "alerts": [{"alert": a, "hits": store.hits(a.id, limit=5), "feed": feed_url(a.id, services.access)}
                   for a in reversed(alerts)],
        "caller": caller,
        "signed_in": signed_in,
        "reader_only": caller.key is not None and not signed_in,
        "fields": fields,
        "error": error,
        "saved": request.query_params.get("saved"),
        "deleted": request.query_params.get("deleted"),
    }, status_code=status_code)
