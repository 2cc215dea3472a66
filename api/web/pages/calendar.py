"""``/calendar``: open and forthcoming calls by deadline, as a month or a list, under any search's filters;
``/calendar.ics``: the same calls as an iCalendar feed (one all-day event per deadline) to subscribe to from
Outlook or Google Calendar."""

from __future__ import annotations

import calendar as months
import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import groupby

import icalendar
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from convergenze.services.responses import HitOut

from ...deps import ServicesDep
from .. import forms, views
from ..forms import SearchPage
from ..i18n import N_, as_date, language
from ..templating import render, translate

router = APIRouter()
WEEKDAYS = (N_("lun"), N_("mar"), N_("mer"), N_("gio"), N_("ven"), N_("sab"), N_("dom"))
PRODID = "-//Convergenze//Scadenze dei bandi//IT"


@dataclass(slots=True)
class Day:
    day: date
    in_month: bool
    cards: list[views.Card]


def _month(first: date, cards: list[views.Card]) -> list[list[Day]]:
    """The weeks (Monday first) of ``first``'s month, each day with the calls due on it."""
    due = {k: list(v) for k, v in groupby(cards, key=lambda c: str(c.deadline)[:10])}
    weeks = months.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    return [[Day(d, d.month == first.month, due.get(d.isoformat(), [])) for d in week] for week in weeks]


@router.get("/calendar", response_class=HTMLResponse)
async def calendar_page(request: Request, services: ServicesDep) -> HTMLResponse:
    params, error = forms.read_query(request, SearchPage)
    filters, filter_error = forms.filters_or_message(request, params, services)
    error = error or filter_error
    lang, today = language(request), date.today()
    calls = await run_in_threadpool(views.upcoming, services.store, filters, today)
    cards = [views.card(c, (), services.taxonomy, lang, today) for c in calls]
    first = date.fromisoformat(f"{params.month}-01") if params.month else today.replace(day=1)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return render(request, "calendar.html", {
        "params": params,
        "error": error,
        "cards": cards,
        "by_month": [(date.fromisoformat(f"{k}-01"), list(v))
                     for k, v in groupby(cards, key=lambda c: str(c.deadline)[:7])],
        "regions": forms.region_names(services),
        "weeks": _month(first, cards),
        "first": first,
        "previous": previous.strftime("%Y-%m"),
        "following": following.strftime("%Y-%m"),
        "weekdays": WEEKDAYS,
        "feed": str(request.url.replace(path="/calendar.ics")),
    }, status_code=400 if error else 200)


@router.get("/calendar.ics")
async def calendar_feed(request: Request, services: ServicesDep) -> Response:
    params, error = forms.read_query(request, SearchPage)
    filters, filter_error = forms.filters_or_message(request, params, services)
    if error or filter_error:
        return Response(error or filter_error, status_code=400, media_type="text/plain; charset=utf-8")
    calls = await run_in_threadpool(views.upcoming, services.store, filters, date.today())
    body = feed(calls, str(request.base_url).rstrip("/"), translate(request, N_("Scadenza")),
                translate(request, N_("Scadenze dei bandi · Convergenze")))
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'inline; filename="convergenze-scadenze.ics"'})


def feed(calls: list[HitOut], base_url: str, prefix: str, name: str, now: datetime | None = None) -> bytes:
    """One all-day VEVENT per call deadline. The UID is stable per call and deadline: a subscribed calendar
    updates the event when the call changes, and shows a moved deadline as a new one."""
    stamp = now or datetime.now(UTC)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for call in calls:
        day = as_date(call.metadata.get("deadline"))
        if day is None:
            continue
        page = f"{base_url}/documents/{call.id}"
        event = icalendar.Event()
        event.add("uid", f"{hashlib.sha256(call.id.encode()).hexdigest()[:24]}-{day:%Y%m%d}@convergenze")
        event.add("dtstamp", stamp)
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        event.add("summary", f"{prefix}: {call.title}")
        event.add("url", call.url or page)
        event.add("description", f"{call.title}\n{call.url or ''}\n{page}".strip())
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()
