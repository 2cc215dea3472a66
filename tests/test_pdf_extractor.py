"""PdfTextExtractor: golden texts of small synthetic PDFs, the twelve real calls, and bad input.

Golden files (tests/fixtures/pdf/<name>.expected.txt) are compared exactly; a regression fixture is named
after the bug it pins (pdfminer_1072_embedded_cmap). The synthetic PDFs are built by make_fixtures.py beside
them. Real PDFs are read with a page cap so that the whole file runs in well under a minute.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from convergenze.extractors.pdf import PdfExtractionError, PdfText, PdfTextExtractor, pdf_to_text_pypdfium2

FIXTURES = Path(__file__).parent / "fixtures" / "pdf"
GOLDEN = ["two_columns", "running_headers", "hyphenated", "table", "italian", "pdfminer_1072_embedded_cmap"]

# Pages read per real file: enough to reach the sentences checked below, no more.
REAL_PAGES: dict[str, int | None] = {
    "cciaa_avviso_contributi_terzi.pdf": None,
    "circolare_nuova_sabatini_2025.pdf": 3,
    "filse_liguria_bando.pdf": 3,
    "inps_concorso_pubblico.pdf": 3,
    "invitalia_webinar_impresa_femminile.pdf": 14,
    "lazio_fesr_donne_e_impresa_2026.pdf": 5,
    "lazio_fesr_nuovo_fondo_futuro.pdf": 3,
    "mimit_decreto_direttoriale.pdf": 5,
    "mimit_decreto_ministeriale.pdf": 15,
    "mise_decreto_nuova_sabatini.pdf": 3,
    "roma_capitale_avviso_lotto_acilia.pdf": None,
    "sapienza_pnrr_bando_a_cascata_spoke5.pdf": 10,
}
PAGE_NUMBER_LINE = re.compile(
    r"^(?:pag(?:ina|\.)?\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s*(?:di|/)\s*\d{1,4})?$", re.I
)


def _squash(text: str) -> str:
    return " ".join(text.split())


@cache
def _real(directory: Path, name: str) -> PdfText:
    return PdfTextExtractor(max_pages=REAL_PAGES[name]).run(directory / name)


@pytest.fixture(scope="module")
def bandi(corpora_dir: Path) -> Path:
    path = corpora_dir / "bandi-pdf"
    if not path.is_dir():
        pytest.skip(f"no bandi-pdf folder in {corpora_dir}")
    return path


# --- synthetic PDFs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_text(name: str) -> None:
    result = PdfTextExtractor().run(FIXTURES / f"{name}.pdf")
    assert result.text + "\n" == (FIXTURES / f"{name}.expected.txt").read_text(encoding="utf-8")


def test_one_section_per_page_and_text_is_their_join() -> None:
    result = PdfTextExtractor().run(FIXTURES / "running_headers.pdf")
    assert result.pages == 3
    assert [s.heading for s in result.sections] == ["page 1", "page 2", "page 3"]
    assert result.text == "\n\n".join(s.text for s in result.sections)


def test_max_pages_stops_early() -> None:
    result = PdfTextExtractor(max_pages=2).run(FIXTURES / "running_headers.pdf")
    assert result.pages == 2
    assert "Articolo 3" not in result.text


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("italian", "Avviso pubblico Voucher Digitalizzazione 2026"),  # metadata, borne out by the text
        ("two_columns", "Bando Innovazione Territoriale 2026"),  # the largest line
        ("hyphenated", None),  # nothing stands out and the opening paragraph is long
    ],
)
def test_title(name: str, title: str | None) -> None:
    assert PdfTextExtractor().run(FIXTURES / f"{name}.pdf").title == title


def test_table_cells_are_not_repeated_as_loose_words() -> None:
    text = PdfTextExtractor().run(FIXTURES / "table.pdf").text
    assert text.count("Macchinari e impianti") == 1
    assert text.count("1.500.000,00") == 1


def test_tables_can_be_left_as_plain_text() -> None:
    text = PdfTextExtractor(tables=False).run(FIXTURES / "table.pdf").text
    assert " | " not in text
    assert "Macchinari e impianti" in text


def test_pypdfium2_baseline_reads_plain_text() -> None:
    text = pdf_to_text_pypdfium2(FIXTURES / "hyphenated.pdf")
    assert "finanzia-mento" in text  # pdfium joins the lines but cannot tell a split word from a compound


# --- bad input --------------------------------------------------------------------------------------------


def _reason(path: Path, max_bytes: int = 100 * 2**20) -> str:
    with pytest.raises(PdfExtractionError) as caught:
        PdfTextExtractor(max_bytes=max_bytes).run(path)
    assert isinstance(caught.value, ValueError)
    assert caught.value.path == path
    return str(caught.value)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "vuoto.pdf"
    path.write_bytes(b"")
    assert _reason(path) == "empty file"


def test_text_file_renamed_pdf(tmp_path: Path) -> None:
    path = tmp_path / "bando.pdf"
    path.write_text("Avviso pubblico per la concessione di contributi\n", encoding="utf-8")
    assert _reason(path).startswith("not a PDF (starts with b'Avviso pubblico")


def test_truncated_real_pdf(bandi: Path, tmp_path: Path) -> None:
    data = (bandi / "filse_liguria_bando.pdf").read_bytes()
    path = tmp_path / "troncato.pdf"
    path.write_bytes(data[: len(data) // 2])
    assert _reason(path).startswith("truncated or corrupt PDF")


def test_truncated_synthetic_pdf(tmp_path: Path) -> None:
    data = (FIXTURES / "table.pdf").read_bytes()
    path = tmp_path / "troncato.pdf"
    path.write_bytes(data[: len(data) // 3])
    assert _reason(path).startswith("truncated or corrupt PDF")


def test_encrypted_pdf() -> None:
    assert _reason(FIXTURES / "encrypted.pdf").startswith("encrypted PDF")


def test_image_only_pdf() -> None:
    assert _reason(FIXTURES / "scanned.pdf") == "no extractable text (scanned image?)"


def test_missing_file(tmp_path: Path) -> None:
    assert _reason(tmp_path / "manca.pdf").startswith("cannot read file")


def test_file_over_the_size_limit() -> None:
    assert _reason(FIXTURES / "table.pdf", max_bytes=1000).startswith("file too large")


def test_baseline_wraps_pdfium_errors(tmp_path: Path) -> None:
    path = tmp_path / "bando.pdf"
    path.write_text("non sono un PDF", encoding="utf-8")
    with pytest.raises(PdfExtractionError, match="unreadable PDF"):
        pdf_to_text_pypdfium2(path)


@pytest.mark.parametrize("config", [{"max_pages": 0}, {"max_bytes": 0}, {"margin_band": 0.6}])
def test_invalid_configuration(config: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        PdfTextExtractor(**config)  # type: ignore[arg-type]


# --- the twelve real PDFs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REAL_PAGES))
def test_real_pdf_extracts_with_no_page_number_lines(bandi: Path, name: str) -> None:
    result = _real(bandi, name)
    assert result.pages >= 1 and len(result.text) > 500
    assert "(cid:" not in result.text
    assert not [line for line in result.text.splitlines() if PAGE_NUMBER_LINE.match(line.strip())]


@pytest.mark.parametrize(
    ("name", "sentence"),
    [
        # Lost entirely by plain pdfplumber: the fonts' encoding is an embedded CMap (pdfminer.six#1072).
        (
            "cciaa_avviso_contributi_terzi.pdf",
            "Le domande di contributo devono essere presentate dalle ore 9:00 "
            "del 16/04/2025 fino alle ore 12:00 del 30/05/2025 tramite posta elettronica certificata",
        ),
        # The page number sits in the right margin, level with this line.
        (
            "circolare_nuova_sabatini_2025.pdf",
            "sono regolarmente costituite e iscritte nel Registro delle imprese "
            "o nel Registro delle imprese di pesca;",
        ),
        # Two-column slides: each column read whole, each question followed by its answer.
        (
            "invitalia_webinar_impresa_femminile.pdf",
            "Voucher di € 2.000 a copertura del 50% del costo sostenuto "
            "per l’acquisto di servizi di marketing o comunicazione strategica",
        ),
        (
            "invitalia_webinar_impresa_femminile.pdf",
            "In quale momento devono essere verificati i requisiti di "
            "impresa femminile? I requisiti devono essere posseduti alla data di presentazione della domanda",
        ),
        # A hyphen at a line end that belongs to the compound.
        (
            "mise_decreto_nuova_sabatini.pdf",
            "ai sensi dell'articolo 2, comma 5, del decreto-legge n. 69 del 2013",
        ),
        ("mimit_decreto_ministeriale.pdf", "per la predisposizione del piano economico-finanziario;"),
        (
            "sapienza_pnrr_bando_a_cascata_spoke5.pdf",
            "(https://future-ai-research.it/) ha l’obiettivo di affrontare nuove sfide",
        ),
        # Small capitals: the first letter is set larger than the rest of the word.
        (
            "mimit_decreto_direttoriale.pdf",
            "VALUTATA la necessità di adottare, per l’annualità 2024, il presente "
            "bando per la concessione della misura agevolativa Brevetti+;",
        ),
        (
            "lazio_fesr_donne_e_impresa_2026.pdf",
            "Il requisito di PMI deve essere mantenuto almeno fino alla Data della Concessione.",
        ),
        (
            "lazio_fesr_nuovo_fondo_futuro.pdf",
            "AVVISO A VALERE SUL NUOVO FONDO FUTURO (PROGRAMMA REGIONALE FESR LAZIO 2021-2027)",
        ),
        (
            "filse_liguria_bando.pdf",
            "Allo strumento finanziario è assegnata una dotazione iniziale di risorse "
            "pubbliche di 2 milioni di euro",
        ),
        (
            "inps_concorso_pubblico.pdf",
            "È indetto un concorso pubblico, per esami, per l’assunzione a tempo "
            "indeterminato di 499 unità di personale",
        ),
        (
            "roma_capitale_avviso_lotto_acilia.pdf",
            "per un valore di stima che ammonta complessivamente ad € 159.399,77",
        ),
        # Table rows, cells joined in order.
        ("inps_concorso_pubblico.pdf", "DIREZIONE GENERALE | 338\nTOTALI | 499"),
        ("roma_capitale_avviso_lotto_acilia.pdf", "72/I | 5.817,51 | 27,40 | 159.399,77"),
    ],
)
def test_real_pdf_sentence_intact(bandi: Path, name: str, sentence: str) -> None:
    text = _real(bandi, name).text
    assert (sentence in text) if "\n" in sentence else (_squash(sentence) in _squash(text))


@pytest.mark.parametrize(
    "name",
    [
        "cciaa_avviso_contributi_terzi.pdf",
        "lazio_fesr_donne_e_impresa_2026.pdf",
        "roma_capitale_avviso_lotto_acilia.pdf",
    ],
)
def test_real_pdf_running_headers_appear_at_most_once(bandi: Path, name: str) -> None:
    # The repeated lines are found with pdfium, independently of the extractor under test.
    pages = pdf_to_text_pypdfium2(bandi / name).split("\f")[: REAL_PAGES[name]]
    seen = Counter(
        line for page in pages for line in {_squash(raw) for raw in page.splitlines()} if len(line) > 8
    )
    repeated = [line for line, count in seen.items() if count >= max(2, 0.6 * len(pages))]
    assert repeated, "the check needs a document with running headers"
    lines = Counter(_squash(line) for line in _real(bandi, name).text.splitlines())
    assert {line: lines[line] for line in repeated if lines[line] > 1} == {}
