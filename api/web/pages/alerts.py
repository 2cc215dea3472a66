"""``/alerts``: the saved searches and match profiles, a form to create one (filled from a search or a match),
delete, and each alert's Atom feed. Alerts are stored by ``save_alert``, as ``POST /v1/alerts`` stores them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from convergenze.pipelines.alerts import AlertStore

from ...deps import get_services
from ...routes.alerts import AlertIn, save_alert
from .. import messages
from ..templating import render, translate

router = APIRouter()
FILTERS = ("type", "region", "status", "source", "programme", "mission", "beneficiary_type", "language")
FIELDS = ("name", "query", "match_text", "email", *FILTERS)


def alert_store(request: Request) -> AlertStore:
    """The alerts a visitor sees and changes. The one seam for ownership: today every alert is everyone's."""
    return AlertStore(get_services(request).state)


AlertStoreDep = Annotated[AlertStore, Depends(alert_store)]


def alert_in(fields: dict[str, str]) -> AlertIn:
    """The API's alert for the form's fields (empty ones are absent); raises ValidationError."""
    filters: dict[str, Any] = {k: fields[k] for k in FILTERS if fields.get(k) and k != "type"}
    if fields.get("type"):
        filters["types"] = [fields["type"]]
    body: dict[str, Any] = {k: fields[k] for k in ("name", "query", "match_text", "email") if fields.get(k)}
    return AlertIn.model_validate({**body, "filters": filters})


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, store: AlertStoreDep) -> HTMLResponse:
    fields = {name: request.query_params.get("q" if name == "query" else name, "") for name in FIELDS}
    if not fields["name"]:
        fields["name"] = (fields["query"] or fields["match_text"])[:60]
    return _page(request, store, fields, None)


@router.post("/alerts", response_class=HTMLResponse, response_model=None)
async def create_alert(request: Request, store: AlertStoreDep) -> Response:
    form = await request.form(max_fields=len(FIELDS) + 2)
    fields = {name: value.strip() if isinstance(value := form.get(name), str) else "" for name in FIELDS}
    if not fields["name"]:
        return _page(request, store, fields, translate(request, messages.ALERT_NAME_EMPTY), 400)
    if not fields["query"] and not fields["match_text"]:
        return _page(request, store, fields, translate(request, messages.QUERY_EMPTY), 400)
    try:
        alert, _ = save_alert(store, alert_in(fields), get_services(request).settings.alerts.min_score)
    except ValidationError as error:
        names = ", ".join(translate(request, f) for f in messages.invalid_fields(error))
        return _page(request, store, fields, translate(request, messages.BAD_FIELDS, fields=names), 400)
    except HTTPException as error:
        return _page(request, store, fields, translate(request, messages.from_error(error)), 400)
    return RedirectResponse(f"/alerts?saved={alert.id}", status_code=303)


@router.post("/alerts/{alert_id}/delete", response_model=None)
def delete_alert(request: Request, store: AlertStoreDep, alert_id: Annotated[str, Path(max_length=40)]) -> Response:
    if not store.delete(alert_id):
        return render(request, "error.html", {"message": translate(request, messages.ALERT_NOT_FOUND)}, 404)
    return RedirectResponse("/alerts?deleted=1", status_code=303)


def _page(request: Request, store: AlertStore, fields: dict[str, str], error: str | None,
          status_code: int = 200) -> HTMLResponse:
    alerts = store.all()
    return render(request, "alerts.html", {
        "alerts": [{"alert": a, "hits": store.hits(a.id, limit=5)} for a in reversed(alerts)],
        "fields": fields,
        "error": error,
        "saved": request.query_params.get("saved"),
        "deleted": request.query_params.get("deleted"),
    }, status_code=status_code)
