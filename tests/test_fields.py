"""Structured-field parsing: Italian amounts and dates, HTML, status."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convergenze.corpora.connectors.fields import fix_text, html_to_text, parse_amount, parse_date, status_from_dates


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.500.000,00", 1_500_000.0),
        ("€ 1.500.000,00", 1_500_000.0),
        ("373800000", 373_800_000.0),
        ("2,5", 2.5),
        ("1500000.50", 1_500_000.5),
        ("", None),
        ("n.d.", None),
        (None, None),
        (float("nan"), None),
        (42576.0, 42576.0),
    ],
)
def test_parse_amount(raw: object, expected: float | None) -> None:
    assert parse_amount(raw) == expected


def _italian(value: int, cents: int) -> str:
    return f"{value:,}".replace(",", ".") + f",{cents:02d}"


@given(st.integers(min_value=0, max_value=10**11), st.integers(min_value=0, max_value=99))
def test_italian_amount_round_trip(value: int, cents: int) -> None:
    assert parse_amount(f"€ {_italian(value, cents)}") == pytest.approx(value + cents / 100)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10/02/2023", "2023-02-10"),
        ("2026-03-17", "2026-03-17"),
        ("2026-05-20T14:00:00+00:00", "2026-05-20"),
        ("2026-06-30T00:00:00", "2026-06-30"),
        ("31/02/2023", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(raw: object, expected: str | None) -> None:
    assert parse_date(raw) == expected


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_date_round_trip(value: date) -> None:
    assert parse_date(value.strftime("%d/%m/%Y")) == value.isoformat()


def test_html_to_text_keeps_blocks_and_decodes_entities() -> None:
    html = (
        "<h2>Finalità</h2><p>Sostenere le PMI &#8211; entro il 15 marzo&nbsp;2026</p>"
        "<ul><li>uno</li><li>due</li></ul>"
    )
    assert html_to_text(html) == "Finalità\n\nSostenere le PMI – entro il 15 marzo 2026\n\nuno\n\ndue"


def test_fix_text_repairs_mojibake() -> None:
    assert fix_text("the heading â€œAdmissibilityâ€\x9d") == "the heading “Admissibility”"
    assert fix_text("Hydrogen and COâ‚‚ networks") == "Hydrogen and CO₂ networks"
    assert fix_text("Skills Hubs of ExcellenceÂ\u00a0") == "Skills Hubs of Excellence\u00a0"


@pytest.mark.parametrize(
    ("opening", "deadline", "rolling", "expected"),
    [
        (None, "2026-11-23", False, "closed"),
        (None, "2026-11-24", False, "open"),
        ("2026-12-01", None, False, "forthcoming"),
        ("2026-01-01", None, True, "open"),
        (None, None, False, "unknown"),
    ],
)
def test_status_from_dates(opening: str | None, deadline: str | None, rolling: bool, expected: str) -> None:
    assert status_from_dates(opening, deadline, date(2026, 11, 24), rolling=rolling) == expected
