"""Italian and English date parsing, time of day, year carry-back and cue classification."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convergenze.extractors.dates_it import MONTHS_EN, MONTHS_IT, classify_dates, find_dates, parse_date, pick


def _whole_text(_: int) -> tuple[int, int]:
    return 0, 10**9


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15 marzo 2026", date(2026, 3, 15)),
        ("1° giugno 2026", date(2026, 6, 1)),
        ("1º giugno 2026", date(2026, 6, 1)),
        ("15/03/2026", date(2026, 3, 15)),
        ("15.03.2026", date(2026, 3, 15)),
        ("15-03-2026", date(2026, 3, 15)),
        ("2026-03-15", date(2026, 3, 15)),
        ("03/08/22", date(2022, 8, 3)),
        ("3 APRILE 2025", date(2025, 4, 3)),
        ("17 March 2026", date(2026, 3, 17)),
        ("March 17, 2026", date(2026, 3, 17)),
        ("17 Sept 2026", date(2026, 9, 17)),
    ],
)
def test_parse_formats(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text", ["31/02/2026", "30 febbraio 2026", "2026-13-01", "00/01/2026", "il 15 marzo"]
)
def test_impossible_or_incomplete_dates_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="not exactly one valid date"):
        parse_date(text)


def test_numbers_that_look_like_dates_are_not_dates() -> None:
    assert find_dates("un importo di 1.500.000,00 euro e il codice 12.345.678") == []


def test_time_of_day_before_and_after_the_date() -> None:
    (before,) = find_dates("entro le ore 12:00 del 15 marzo 2026")
    assert before.iso == "2026-03-15T12:00"
    (after,) = find_dates("Deadline: 3 September 2026, 17:00 (Brussels time)")
    assert after.iso == "2026-09-03T17:00"
    (hour_only,) = find_dates("a partire dalle ore 15 del 20 agosto 2024")
    assert hour_only.time_of_day == time(15, 0)
    (dotted,) = find_dates("fino alle ore 18.00 del 29 ottobre 2024")
    assert dotted.iso == "2024-10-29T18:00"


def test_evidence_offsets_cover_the_time_phrase() -> None:
    text = "Le domande vanno inviate entro le ore 12:00 del 15 marzo 2026."
    (found,) = find_dates(text)
    assert text[found.start : found.end] == "ore 12:00 del 15 marzo 2026"


def test_year_is_carried_back_in_a_range() -> None:
    found = find_dates("dal 1° giugno al 30 settembre 2026")
    assert [m.day for m in found] == [date(2026, 6, 1), date(2026, 9, 30)]
    found = find_dates("dal 15 al 30 settembre 2026")
    assert [m.day for m in found] == [date(2026, 9, 15), date(2026, 9, 30)]


def test_a_day_month_without_any_year_is_left_out() -> None:
    assert find_dates("entro il 30 giugno di ogni anno") == []


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("Le domande si presentano dal 1° giugno al 30 settembre 2026.", ["opening", "deadline"]),
        ("La domanda va inviata entro le ore 12:00 del 15 marzo 2026.", ["deadline"]),
        ("Scadenza: 15/03/2026", ["deadline"]),
        ("Termine per la presentazione delle domande: 15.03.2026", ["deadline"]),
        ("Chiusura dello sportello il 15 marzo 2026", ["deadline"]),
        ("Apertura dello sportello: 2 aprile 2026", ["opening"]),
        ("Le domande possono essere presentate a partire dalle ore 10:00 del 2 aprile 2026.", ["opening"]),
        ("Visto il D.M. 7 marzo 2019 e la legge 27 dicembre 2006, n. 296", ["other", "other"]),
        ("Deadline for submitting applications: 17 March 2026", ["deadline"]),
        ("Opening for submission: 25 June 2026", ["opening"]),
        ("Publication of the call: 27 November 2025.", ["other"]),
    ],
)
def test_cue_classification(text: str, kinds: list[str]) -> None:
    assert [c.kind for c in classify_dates(text, find_dates(text), _whole_text)] == kinds


def test_pick_prefers_the_submission_deadline_to_project_deadlines() -> None:
    text = (
        "Il progetto deve essere concluso entro il 31 dicembre 2026. "
        "Le domande devono essere inviate entro le ore 12:00 del 15 marzo 2026."
    )
    sentences = [(0, 59), (59, len(text))]

    def sentence_of(pos: int) -> tuple[int, int]:
        return next(s for s in sentences if s[0] <= pos < s[1])

    best = pick(classify_dates(text, find_dates(text), sentence_of), "deadline")
    assert best is not None and best.mention.iso == "2026-03-15T12:00"


_DATES = st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31))


def _italian(d: date, style: int) -> str:
    month = MONTHS_IT[d.month - 1]
    day = "1°" if d.day == 1 and style == 1 else str(d.day)
    return [
        f"{d.day} {month} {d.year}",
        f"{day} {month} {d.year}",
        f"{d.day:02d}/{d.month:02d}/{d.year}",
        f"{d.day:02d}.{d.month:02d}.{d.year}",
        f"{d.day}-{d.month}-{d.year}",
        d.isoformat(),
        f"{d.day} {month.upper()} {d.year}",
    ][style]


@given(_DATES, st.integers(min_value=0, max_value=6))
def test_italian_round_trip(d: date, style: int) -> None:
    assert parse_date(_italian(d, style)) == d


@given(_DATES, st.booleans())
def test_english_round_trip(d: date, day_first: bool) -> None:
    month = MONTHS_EN[d.month - 1].capitalize()
    text = f"{d.day} {month} {d.year}" if day_first else f"{month} {d.day}, {d.year}"
    assert parse_date(text) == d


@given(_DATES, st.integers(min_value=0, max_value=23), st.integers(min_value=0, max_value=59))
def test_deadline_with_time_round_trip(d: date, hour: int, minute: int) -> None:
    text = f"La domanda va presentata entro le ore {hour}:{minute:02d} del {_italian(d, 0)}."
    (found,) = find_dates(text)
    assert found.day == d and found.time_of_day == time(hour, minute)
    assert [c.kind for c in classify_dates(text, [found], _whole_text)] == ["deadline"]


@pytest.mark.parametrize(
    ("text", "kind"), [("Scadenza: 15/03/2026", "deadline"), ("Apertura: 2 aprile 2026", "opening")]
)
def test_a_strong_cue_alone_names_the_call_date(text: str, kind: str) -> None:
    best = pick(classify_dates(text, find_dates(text), _whole_text), kind)
    assert best is not None and text.endswith(text[best.mention.start : best.mention.end])
