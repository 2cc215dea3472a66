"""Reading the pages' query strings and forms into the API's own models, so that a page and its JSON route
validate alike; what fails becomes a message for the page instead of a 4xx."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal, TypeVar

from fastapi import HTTPException, Request
from pydantic import BaseModel, Field, ValidationError
from starlette.datastructures import UploadFile

from convergenze.core.errors import ConvergenzeError
from convergenze.core.records import SearchFilters
from convergenze.extractors.amounts_it import parse_amount, parse_number
from convergenze.extractors.uploads import UploadedText, UploadError
from convergenze.services.wiring import Services

from .. import errors
from ..errors import http_answer
from ..inputs import canonical_region, read_upload, upload_too_large
from ..models import SearchParams
from . import messages
from .i18n import N_
from .templating import translate

Params = TypeVar("Params", bound=BaseModel)
SortName = Literal["relevance", "deadline", "budget"]


class SearchPage(SearchParams):
    """``/search``, ``/calendar``, ``/calendar.ics`` and the exports: the API's parameters, ``q`` optional
    (a listing needs none), plus the page's own."""

    q: str = Field(default="", max_length=500)
    page: int = Field(default=1, ge=1, le=10)
    sort: SortName = "relevance"
    view: Literal["list", "month"] = "list"
    month: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$")


def read_query(request: Request, model: type[Params], lists: tuple[str, ...] = ("type",)) -> tuple[Params, str | None]:
    """The query string as ``model`` (empty fields are absent ones); on a bad value, the defaults and the
    message that names the fields."""
    raw: dict[str, object] = {}
    for key in dict.fromkeys(request.query_params.keys()):
        values = [v for v in request.query_params.getlist(key) if v.strip()]
        if values:
            raw[key] = values if key in lists else values[-1]
    try:
        return model.model_validate(raw), None
    except ValidationError as error:
        fields = ", ".join(translate(request, f) for f in messages.invalid_fields(error))
        valid = {k: v for k, v in raw.items() if k not in {str(e["loc"][0]) for e in error.errors() if e["loc"]}}
        return model.model_validate(valid), translate(request, messages.BAD_FIELDS, fields=fields)


def search_filters(params: SearchParams, services: Services) -> SearchFilters:
    """The API's filters for ``params`` (its range checks, the canonical region); raises HTTPException or a
    named error, as the API would."""
    return dataclasses.replace(params.filters(), region=canonical_region(params.region, services.gazetteer))


def filters_or_message(request: Request, params: SearchParams, services: Services) -> tuple[SearchFilters, str | None]:
    try:
        return search_filters(params, services), None
    except (HTTPException, ConvergenzeError) as error:
        return SearchFilters(types=tuple(params.type or ())), translate(request, messages.from_error(error))


def region_names(services: Services) -> list[str]:
    """The 20 regions as the gazetteer names them (a form's suggestions)."""
    return sorted(e.name for e in services.gazetteer.entries("region"))


def deadline_buckets(today: date) -> list[tuple[str, date | None, date | None]]:
    """(label msgid, from, to) of the deadline facet, relative to today."""
    return [
        (N_("entro 30 giorni"), today, today + timedelta(days=30)),
        (N_("tra 31 e 90 giorni"), today + timedelta(days=31), today + timedelta(days=90)),
        (N_("oltre 90 giorni"), today + timedelta(days=91), None),
        (N_("già scaduti"), None, today - timedelta(days=1)),
    ]


def amount(raw: str, lang: str) -> float | str:
    """A typed amount ('800000', '800.000', '€ 1.500.000,00', '2 milioni') as euro; unreadable text is kept
    as it is, so the model's validation names the field."""
    text = raw.strip()
    for read in (lambda: parse_number(text.removeprefix("€").strip(), lang), lambda: parse_amount(text, lang)):
        try:
            return read()
        except ValueError:
            continue
    return text


@dataclass(slots=True)
class PostedForm:
    """A page's multipart form: its fields as typed (to show them again), the text of the uploaded file if
    one was sent, and the message (a msgid) when the file could not be read."""

    fields: dict[str, str]
    upload: UploadedText | None = None
    error: str | None = None


async def read_form(request: Request, names: tuple[str, ...], max_upload_bytes: int) -> PostedForm:
    """The fields ``names`` and the ``file`` part of a posted form; a file larger than the limit is not read."""
    if upload_too_large(request, max_upload_bytes):
        return PostedForm({name: "" for name in names}, error=messages.from_error(
            HTTPException(status_code=413, detail=errors.UPLOAD_TOO_LARGE)))
    form = await request.form(max_files=1, max_fields=len(names) + 2)
    try:
        fields = {name: value.strip() if isinstance(value := form.get(name), str) else "" for name in names}
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return PostedForm(fields)
        try:
            return PostedForm(fields, await read_upload(request, upload, max_upload_bytes))
        except UploadError as error:
            return PostedForm(fields, error=messages.from_error(error))
    finally:
        await form.close()


def failure(request: Request, error: ValidationError | HTTPException | ConvergenzeError) -> tuple[str, int]:
    """What a page says, in its language, when the work behind a form fails, and the status the API would
    answer: the invalid fields named as the form labels them, an HTTP error's or a named error's fixed message."""
    if isinstance(error, ValidationError):
        names = ", ".join(translate(request, f) for f in messages.invalid_fields(error))
        return translate(request, messages.BAD_FIELDS, fields=names), 400
    status = error.status_code if isinstance(error, HTTPException) else http_answer(error)[0]
    return translate(request, messages.from_error(error)), status
