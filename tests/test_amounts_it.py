"""Amounts written the Italian and the English way, their classification, and co-financing rates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convergenze.extractors.amounts_it import (
    classify_amounts,
    find_amounts,
    find_rates,
    parse_amount,
    parse_number,
    pick,
    pick_rate,
)


def _start(_: int) -> int:
    return 0


def _no_premises(_: int) -> bool:
    return False


@pytest.mark.parametrize(
    ("text", "language", "value"),
    [
        ("€ 1.500.000,00", "it", 1_500_000.0),
        ("euro 5.000.000", "it", 5_000_000.0),
        ("5 milioni di euro", "it", 5_000_000.0),
        ("€ 2,5 mln", "it", 2_500_000.0),
        ("EUR 150 000", "en", 150_000.0),
        ("1.5 million", "en", 1_500_000.0),
        ("1,7 miliardi di euro", "it", 1_700_000_000.0),
        ("€ 193,8 milioni", "it", 193_800_000.0),
        ("20.000 euro", "it", 20_000.0),
        ("Euro 500,00", "it", 500.0),
        ("12.345.310,20 euro", "it", 12_345_310.2),
        ("EUR 15,000", "en", 15_000.0),
        ("EUR 7.00 million", "en", 7_000_000.0),
        ("EUR 60.000", "en", 60_000.0),
        ("500 €", "it", 500.0),
    ],
)
def test_parse_formats(text: str, language: str, value: float) -> None:
    assert parse_amount(text, language) == pytest.approx(value)


def test_a_multiplier_written_once_serves_both_ends_of_a_range() -> None:
    text = "an EU contribution of between EUR 2 and 3 million would allow"
    assert [m.value for m in find_amounts(text, "en")] == [2_000_000.0, 3_000_000.0]


def test_figures_without_currency_are_not_amounts() -> None:
    assert find_amounts("499 unità di personale, 1,5 milioni di abitanti, anno 2026") == []


@pytest.mark.parametrize("raw", ["1.50.000", "12,34,5"])
def test_malformed_figures_raise(raw: str) -> None:
    with pytest.raises(ValueError, match="groups of three"):
        parse_number(raw)


def test_unknown_language_raises_with_the_fix() -> None:
    with pytest.raises(ValueError, match="pass 'it' or 'en'"):
        find_amounts("€ 5", "fr")


@pytest.mark.parametrize(
    ("text", "language", "kind"),
    [
        ("La dotazione finanziaria dell'Avviso è pari a € 3.000.000,00.", "it", "total_budget"),
        ("Lo stanziamento complessivo ammonta a 5 milioni di euro.", "it", "total_budget"),
        ("Le risorse disponibili sono pari a euro 2.000.000.", "it", "total_budget"),
        ("Il contributo massimo concedibile è di € 50.000 per progetto.", "it", "max_per_project"),
        ("Il contributo è concesso fino a un massimo di 25.000 euro per impresa.", "it", "max_per_project"),
        ("L'importo minimo del progetto è di 10.000 euro.", "it", "min_per_project"),
        ("The total indicative budget for the topic is EUR 7.00 million.", "en", "total_budget"),
        ("Grants of up to EUR 60 000 per project.", "en", "max_per_project"),
        ("È dovuta l'imposta di bollo da € 16,00.", "it", "other"),
    ],
)
def test_cue_classification(text: str, language: str, kind: str) -> None:
    (item,) = classify_amounts(text, find_amounts(text, language), _start, _no_premises)
    assert item.kind == kind


def test_range_gives_min_and_max() -> None:
    text = "Il finanziamento deve avere un valore compreso tra 20.000 euro e 4 milioni di euro per progetto."
    classified = classify_amounts(text, find_amounts(text), _start, _no_premises)
    assert [c.kind for c in classified] == ["min_per_project", "max_per_project"]


def test_de_minimis_ceiling_is_not_the_project_maximum() -> None:
    text = (
        "Il contributo concedibile a un singolo Progetto non può superare 100.000,00 euro. "
        "Va rispettato il massimale di 300.000 euro di aiuti de minimis a una impresa unica."
    )
    starts = [0, 82]
    classified = classify_amounts(
        text, find_amounts(text), lambda p: max(s for s in starts if s <= p), _no_premises
    )
    best = pick(classified, "max_per_project")
    assert best is not None and best.mention.value == 100_000.0


def test_premises_do_not_give_the_budget() -> None:
    text = "VISTO il decreto che prevede una dotazione finanziaria di 320 milioni di euro;"
    classified = classify_amounts(text, find_amounts(text), _start, lambda p: True)
    assert pick(classified, "total_budget") is None


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("Il contributo è concesso nella misura del 50% delle spese ammissibili.", 0.5),
        ("L'intensità dell'aiuto è pari al 70%.", 0.7),
        ("È previsto un cofinanziamento del 40% a carico del beneficiario.", 0.4),
        ("contributo a fondo perduto pari al 70% delle spese sostenute", 0.7),
        ("L'agevolazione non può essere superiore all'80% dei costi ammissibili.", 0.8),
    ],
)
def test_rates(text: str, rate: float) -> None:
    best = pick_rate(find_rates(text, _start))
    assert best is not None and best.value == pytest.approx(rate)


@pytest.mark.parametrize(
    "text",
    ["Una quota pari al 5% delle risorse è riservata alle imprese con rating.", "Il tasso di mora è del 2%."],
)
def test_percentages_that_are_not_rates(text: str) -> None:
    assert find_rates(text, _start) == []


def _italian(cents: int, decimals: bool) -> str:
    whole, rest = divmod(cents, 100)
    grouped = f"{whole:,}".replace(",", ".")
    return f"{grouped},{rest:02d}" if decimals else grouped


@given(
    st.integers(min_value=100, max_value=10**11), st.sampled_from(["€ {}", "euro {}", "{} euro", "Euro {}"])
)
def test_italian_round_trip(cents: int, template: str) -> None:
    text = template.format(_italian(cents, decimals=True))
    assert parse_amount(text, "it") == pytest.approx(cents / 100)


@given(st.integers(min_value=1, max_value=10**9))
def test_italian_round_trip_without_decimals(value: int) -> None:
    assert parse_amount(f"euro {_italian(value * 100, decimals=False)}", "it") == value


@given(st.integers(min_value=100, max_value=10**11))
def test_english_round_trip(cents: int) -> None:
    assert parse_amount(f"EUR {cents / 100:,.2f}", "en") == pytest.approx(cents / 100)


@given(st.integers(min_value=1000, max_value=10**9))
def test_space_grouped_round_trip(value: int) -> None:
    assert parse_amount(f"EUR {value:,}".replace(",", " "), "en") == value


@given(
    st.integers(min_value=1, max_value=9999),
    st.sampled_from(["milioni di euro", "mln di euro", "million EUR"]),
)
def test_scaled_round_trip(tenths: int, unit: str) -> None:
    figure = f"{tenths // 10},{tenths % 10}" if unit != "million EUR" else f"{tenths // 10}.{tenths % 10}"
    language = "en" if unit == "million EUR" else "it"
    assert parse_amount(f"{figure} {unit}", language) == pytest.approx(tenths * 100_000)
