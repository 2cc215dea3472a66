"""Actor names normalized across spellings and legal forms, tax codes cleaned, types read from names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convergenze.matching.actors import (
    actor_id,
    actor_type,
    actor_type_from_tax_code,
    clean_tax_code,
    display_name,
    normalize_name,
)


@pytest.mark.parametrize(
    "spellings",
    [
        ("ALFA S.R.L.", "Alfa srl", "Alfa Società a responsabilità limitata", "alfa s.r.l"),
        ("Beta Società Cooperativa Sociale", "BETA SOC. COOP. SOCIALE", "Beta coop. sociale"),
        ("COMUNE DI SANT'ANGELO", "Comune di Sant’Angelo", "comune di sant angelo"),
        ("Gamma S.p.A.", "GAMMA SPA", "Gamma Società per Azioni"),
        ("Associazione Delta O.N.L.U.S.", "associazione delta onlus"),
    ],
)
def test_spellings_of_one_body_normalize_alike(spellings: tuple[str, ...]) -> None:
    assert len({normalize_name(s) for s in spellings}) == 1


def test_different_bodies_stay_apart() -> None:
    assert normalize_name("Comune di Bari") != normalize_name("Comune di Barile")
    assert normalize_name("Alfa srl") != normalize_name("Alfa spa")


@given(st.text(max_size=60))
def test_normalizing_is_idempotent(name: str) -> None:
    once = normalize_name(name)
    assert normalize_name(once) == once


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("COMUNE DI BARI", "public_administration"),
        ("Regione Lazio", "public_administration"),
        ("AZIENDA SANITARIA LOCALE ROMA 1", "public_body"),
        ("I.C. L. DA VINCI SOMMA LOMBARDO", "public_body"),
        ("UNIVERSITA' DEGLI STUDI DI PADOVA", "university_research"),
        ("Fondazione Cariplo", "foundation"),
        ("Fondazione Università Ca' Foscari", "foundation"),
        ("Banca di Credito Cooperativo di Roma", "financial_institution"),
        ("Il Sole Società Cooperativa Sociale", "cooperative"),
        ("Associazione Lavoro ODV", "third_sector"),
        ("Alfa S.R.L.", "company"),
        ("MIN AMBIENTE E SICUREZZA ENERGETICA", "public_administration"),
        ("European Commission", "public_administration"),
        ("MASACCIO", None),
    ],
)
def test_actor_type_from_the_name(name: str, kind: str | None) -> None:
    assert actor_type(name) == kind


def test_tax_codes_are_cleaned_and_checked() -> None:
    assert clean_tax_code(" 80012345678 ") == "80012345678"
    assert clean_tax_code("1234567890") == "01234567890"  # a spreadsheet dropped the leading zero
    assert clean_tax_code("RSSMRA80A01H501U") == "RSSMRA80A01H501U"
    assert clean_tax_code("****************") is None
    assert clean_tax_code("00000000000") is None
    assert clean_tax_code(None) is None
    assert actor_type_from_tax_code("92012345678") == "public_body"
    assert actor_type_from_tax_code("01234567890") == "company"


def test_ids_prefer_the_tax_code_and_are_stable() -> None:
    assert actor_id("Comune di Bari", "80015010723") == "actor:cf-80015010723"
    assert actor_id("COMUNE DI BARI", None) == actor_id("Comune di Bari", None)
    assert display_name(["COMUNE DI BARI", "Comune di Bari", "COMUNE DI BARI"]) == "Comune di Bari"
