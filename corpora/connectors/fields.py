"""Parsing of the structured fields that sources publish (dates, amounts, free-text cells)."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from html import unescape
from typing import Any

import ftfy
from bs4 import BeautifulSoup

from convergenze.core.vocabulary import CallStatus

_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ")
_BLOCK_TAGS = (
    "p",
    "div",
    "li",
    "br",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "table",
    "ul",
    "ol",
    "section",
)


def clean_cell(value: Any) -> str | None:
    """A CSV/JSON cell as stripped text, or None for empty/NaN cells."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = unicodedata.normalize("NFC", str(value)).replace("\u00a0", " ").strip()
    return text or None


# UTF-8 subscript digits read as cp1252 ("COâ‚‚" for "CO₂"): ftfy scores these sequences as plausible text and
# leaves them, so they are decoded here, after it.
_SUBSCRIPT_MOJIBAKE = re.compile("\u00e2\u201a[\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030]")


def fix_text(text: str) -> str:
    """Repair mojibake ("â€œ" -> "“") as some sources publish it, then normalize to NFC.

    Run it on the raw value, before any whitespace clean-up: "Â\u00a0" is the mojibake of a non-breaking
    space, and once the space is stripped ftfy can no longer recognize the lone "Â"."""
    fixed = ftfy.fix_text(text, uncurl_quotes=False)
    fixed = _SUBSCRIPT_MOJIBAKE.sub(lambda m: m.group(0).encode("cp1252").decode("utf-8"), fixed)
    return unicodedata.normalize("NFC", fixed)


def parse_date(value: Any) -> str | None:
    """An ISO date (YYYY-MM-DD) from the date formats sources use, or None when empty or unparseable."""
    text = clean_cell(value)
    if text is None:
        return None
    text = text.replace("+00:00", "")
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def parse_amount(value: Any) -> float | None:
    """Euro amount from "1.500.000,00", "1500000", "1500000.50", "€ 2.000"; None if empty or not a number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return None if math.isnan(float(value)) else float(value)
    text = clean_cell(value)
    if text is None:
        return None
    text = re.sub(r"[€\s]|euro|EUR", "", text, flags=re.IGNORECASE)
    if re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?", text) or re.fullmatch(r"\d+,\d+", text):
        text = text.replace(".", "").replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment, block elements on their own lines, entities decoded."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "figure", "img", "noscript"]):
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = fix_text(unescape(soup.get_text()))
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def status_from_dates(opening: str | None, deadline: str | None, today: date, *, rolling: bool = False) -> CallStatus:
    """open / forthcoming / closed / unknown from ISO dates, as of ``today``."""
    if opening and date.fromisoformat(opening[:10]) > today:
        return CallStatus.FORTHCOMING
    if deadline:
        return CallStatus.CLOSED if date.fromisoformat(deadline[:10]) < today else CallStatus.OPEN
    if rolling or opening:
        return CallStatus.OPEN if rolling else CallStatus.UNKNOWN
    return CallStatus.UNKNOWN
