"""Jinja2 templates in the page's language, and ``render()``: one call per page with the context every page
needs (language, its switch, the CSRF token, the navigation, links that change one query parameter)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from . import i18n, labels
from .i18n import LANG_COOKIE, LANGUAGES, Catalogue, language
from .session import KeySession

TEMPLATES_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")

# (path, label): the header's navigation, every page family reachable from every page.
NAV = (
    ("/search", i18n.N_("Cerca")),
    ("/match", i18n.N_("Il mio progetto")),
    ("/overlaps", i18n.N_("Sovrapposizioni")),
    ("/calendar", i18n.N_("Scadenze")),
    ("/actors", i18n.N_("Soggetti")),
    ("/map", i18n.N_("Mappa")),
    ("/alerts", i18n.N_("Avvisi")),
    ("/status", i18n.N_("Stato")),
)


@dataclass(frozen=True, slots=True)
class Web:
    """What the pages share, made once per application by ``install``."""

    templates: Jinja2Templates
    catalogue: Catalogue
    reports_dir: Path
    sources_file: Path
    session: KeySession


def build_templates(catalogue: Catalogue) -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml", "svg"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )

    @pass_context
    def gettext(context: Context, message: str) -> str:
        return catalogue.gettext(context["lang"], message)

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, n: int) -> str:
        return catalogue.ngettext(context["lang"], singular, plural, n)

    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]

    def with_lang(format_value: Callable[[Any, str], str]) -> Any:
        return pass_context(lambda context, value: format_value(value, context["lang"]))

    env.filters.update(
        date=with_lang(i18n.format_date),
        amount=with_lang(i18n.format_amount),
        number=with_lang(i18n.format_number),
        month=with_lang(lambda value, lang: i18n.format_month(value, lang)),
    )
    env.globals.update(labels=labels, nav=NAV)
    return Jinja2Templates(env=env)


def web_of(request: Request) -> Web:
    web: Web = request.app.state.web
    return web


def translate(request: Request, message: str, **values: str) -> str:
    """A catalogue message in the request's language (for text built in Python: errors, CSV headers);
    ``values`` fill its ``%(name)s`` slots, translated too."""
    catalogue, lang = web_of(request).catalogue, language(request)
    text = catalogue.gettext(lang, message)
    return text % {k: catalogue.gettext(lang, v) for k, v in values.items()} if values else text


def query_url(request: Request, path: str | None = None, **changes: Any) -> str:
    """The current URL with some query parameters changed (None removes one; a list repeats it)."""
    params: list[tuple[str, str]] = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None or value == "":
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            params.append((key, str(item)))
    query = urlencode(params)
    return f"{path or request.url.path}{'?' + query if query else ''}"


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    lang = language(request)
    other = "en" if lang == "it" else "it"
    page = {
        "lang": lang,
        "other_lang": other,
        "switch_url": query_url(request, lang=other),
        "csrf_token": request.scope["csrftoken"],  # called only by forms: other pages set no cookie
        "today": date.today(),
        "path": request.url.path,
        "url": lambda path=None, **changes: query_url(request, path, **changes),
        **context,
    }
    response = web_of(request).templates.TemplateResponse(request, name, page, status_code=status_code)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response
