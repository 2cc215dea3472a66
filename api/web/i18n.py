"""Italian first, English with one switch: the page's language, the catalogue, and Italian notation.

Italian is the source language: templates write ``{{ _("Cerca") }}`` and ``locale/en.po`` holds the English.
The .po file is compiled in memory when the app starts (Babel), so there is no build step and no .mo file.
The language comes from ``?lang=`` (kept in a cookie, so the next pages follow), else the cookie, else Italian.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.requests import HTTPConnection

from convergenze.extractors.dates_it import MONTHS_EN, MONTHS_IT
from convergenze.matching.eligibility import euro

LANGUAGES = ("it", "en")
DEFAULT_LANGUAGE = "it"
LANG_COOKIE = "lang"
LOCALE_DIR = Path(__file__).with_name("locale")


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    """Marks a message for the catalogue; it is translated where it is shown (``{{ _(message) }}``)."""
    return message


def language(connection: HTTPConnection) -> str:
    """The request's language: ``?lang=``, else the ``lang`` cookie, else Italian."""
    for candidate in (connection.query_params.get("lang"), connection.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The translations of every language, compiled once per application."""

    translations: dict[str, NullTranslations]

    @classmethod
    def load(cls, folder: Path = LOCALE_DIR) -> Catalogue:
        out: dict[str, NullTranslations] = {DEFAULT_LANGUAGE: NullTranslations()}
        for lang in LANGUAGES:
            if lang == DEFAULT_LANGUAGE:
                continue
            with (folder / f"{lang}.po").open("rb") as handle:
                catalog = read_po(handle, locale=lang)
            compiled = io.BytesIO()
            write_mo(compiled, catalog)
            compiled.seek(0)
            out[lang] = Translations(fp=compiled)
        return cls(out)

    def gettext(self, lang: str, message: str) -> str:
        return self.translations[lang].gettext(message)

    def ngettext(self, lang: str, singular: str, plural: str, n: int) -> str:
        return self.translations[lang].ngettext(singular, plural, n)


# --- Notation -------------------------------------------------------------------------------------------


def as_date(value: Any) -> date | None:
    """A date from a date, a datetime or an ISO string ('2026-03-15', '2026-03-15T12:00'); else None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def format_date(value: Any, lang: str) -> str:
    """'15 marzo 2026' / '15 March 2026', with the time when the value has one ('..., ore 12:00')."""
    day, time = _day_and_time(value)
    if day is None:
        return str(value or "")
    text = f"{day.day} {_month_name(day.month, lang)} {day.year}"
    if time:
        text += f", ore {time}" if lang == "it" else f", {time}"
    return text


def format_deadline(value: Any, lang: str) -> str:
    """'entro le ore 12:00 del 15 marzo 2026' ('entro l'8 marzo 2026' without a time) / 'by 12:00 on 15 March
    2026'; '' for no date."""
    return _bound(value, lang, _DEADLINE)


def format_opening(value: Any, lang: str) -> str:
    """'dalle ore 12:00 del 22 aprile 2026' ('dal 1° aprile 2026' without a time) / 'from 12:00 on 22 April
    2026'; '' for no date."""
    return _bound(value, lang, _OPENING)


@dataclass(frozen=True, slots=True)
class _BoundWords:
    """How one end of a call's window is said: 'by' / 'entro le ore ... del' / 'entro il', and so on."""

    english: str
    italian_timed: str
    italian_untimed: str  # what comes before the day's article ("entro " before "il"; nothing before "dal")
    article: str


_DEADLINE = _BoundWords("by", "entro le ore", "entro ", "il")
_OPENING = _BoundWords("from", "dalle ore", "", "dal")


def _bound(value: Any, lang: str, words: _BoundWords) -> str:
    day, time = _day_and_time(value)
    if day is None:
        return ""
    if lang != "it":
        when = f"{time} on {format_date(day, lang)}" if time else format_date(day, lang)
        return f"{words.english} {when}"
    if time:
        return f"{words.italian_timed} {time} {_italian_day('del', day)}"
    return f"{words.italian_untimed}{_italian_day(words.article, day)}"


def _day_and_time(value: Any) -> tuple[date | None, str | None]:
    """The date, and its time of day when the ISO value has one other than midnight."""
    has_time = isinstance(value, str) and len(value) >= 16 and value[10] == "T" and value[11:16] != "00:00"
    return as_date(value), value[11:16] if has_time else None


# The article elides before 8 and 11 ("dell'8", "l'11"); the first of the month is "1°".
_ELIDED = {"il": "l'", "del": "dell'", "dal": "dall'"}


def _italian_day(article: str, day: date) -> str:
    head = _ELIDED[article] if day.day in (8, 11) else f"{article} "
    return f"{head}{'1°' if day.day == 1 else day.day} {_month_name(day.month, 'it')} {day.year}"


def format_month(day: date, lang: str) -> str:
    """'marzo 2026' / 'March 2026'."""
    return f"{_month_name(day.month, lang)} {day.year}"


def _month_name(month: int, lang: str) -> str:
    return MONTHS_IT[month - 1] if lang == "it" else MONTHS_EN[month - 1].capitalize()


def format_amount(value: Any, lang: str) -> str:
    """'€ 1.500.000,00' in Italian, '€1,500,000.00' in English; '' for no amount."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    return euro(float(value)) if lang == "it" else f"€{float(value):,.2f}"


def format_number(value: Any, lang: str) -> str:
    """Whole numbers with the language's thousands separator: '12.345' / '12,345'."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    text = f"{round(value):,}"
    return text.replace(",", ".") if lang == "it" else text
