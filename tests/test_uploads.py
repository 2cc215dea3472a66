"""Uploaded project descriptions: the bytes decide the kind, bad files are refused in plain words."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest

from convergenze.extractors.uploads import UploadError, text_from_upload

FIXTURES = Path(__file__).parent / "fixtures" / "pdf"
DESCRIPTION = "Il progetto riqualifica la scuola primaria di Viterbo con pannelli solari e cappotto termico."


def _docx(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Budget", "€ 250.000,00"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_pdf_is_read_with_the_corpus_extractor() -> None:
    pdf = FIXTURES / "italian.pdf"
    found = text_from_upload("progetto.pdf", pdf.read_bytes())
    assert found.kind == "pdf" and found.pages and found.text.strip()


def test_a_docx_gives_its_paragraphs_and_tables() -> None:
    found = text_from_upload("progetto.docx", _docx(DESCRIPTION))
    assert found.kind == "docx"
    assert DESCRIPTION in found.text and "Budget | € 250.000,00" in found.text


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_plain_text_in_the_encodings_italian_editors_write(encoding: str) -> None:
    found = text_from_upload("progetto.txt", DESCRIPTION.replace("scuola", "città").encode(encoding))
    assert found.kind == "txt" and "città" in found.text


@pytest.mark.parametrize(
    ("name", "content", "kind", "message"),
    [
        ("progetto.pdf", bytes(range(256)) * 40, "unreadable", "named .pdf but is not a PDF"),
        ("progetto.pdf", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", "unreadable", "PDF could not be read"),
        ("progetto.docx", b"not a zip at all", "unreadable", "not a Word document"),
        ("progetto.txt", b"\x00\x01\x02binary", "unreadable", "binary"),
        ("progetto.xlsx", b"PK\x03\x04rest", "unsupported", "Only PDF, DOCX and TXT"),
        ("foto.png", b"\x89PNG\r\n", "unsupported", "Only PDF, DOCX and TXT"),
        ("segreto.pdf", (FIXTURES / "encrypted.pdf").read_bytes(), "unreadable", "encrypted"),
        ("progetto.txt", b"", "empty", "empty"),
        ("progetto.txt", b"   \n\t ", "empty", "No text"),
    ],
)
def test_bad_uploads_are_refused_with_a_reason(name: str, content: bytes, kind: str, message: str) -> None:
    with pytest.raises(UploadError, match=message) as caught:
        text_from_upload(name, content)
    assert caught.value.kind == kind


def test_the_size_limit_is_checked_before_parsing() -> None:
    with pytest.raises(UploadError, match="1 MB limit") as caught:
        text_from_upload("big.txt", b"a" * (2**20 + 1), max_bytes=2**20)
    assert caught.value.kind == "too_large"
