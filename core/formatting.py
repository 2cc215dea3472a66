"""Dates and amounts written the way Italian notices write them: 31/12/2026, € 1.500.000,00. One place, so an
event, an eligibility reason and a command's summary cannot spell the same value two ways."""

from __future__ import annotations

from datetime import date
from typing import Any


def euro(value: Any) -> str:
    """€ 1.500.000,00; anything that is not a number is shown as it is."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return str(value)
    whole, cents = f"{float(value):,.2f}".split(".")
    return f"€ {whole.replace(',', '.')},{cents}"


def italian_date(value: Any) -> str:
    """31/12/2026 from a date or an ISO string (its time of day, if any, dropped); else the value as it is."""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return str(value)
