"""PDFs read side by side in child processes (SandboxedPdfExtractor.run_many, the bandi-pdf connector): the same
text as one process reading them in turn, and a file that cannot be read, or that kills its reader, is a plain
reason while the rest of the batch goes on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from convergenze.corpora.connectors.base import SourceSpec
from convergenze.corpora.connectors.pdfs import PdfFolderConnector
from convergenze.extractors.pdf import PdfExtractionError, PdfText, PdfTextExtractor
from convergenze.extractors.pdf_sandbox import SandboxedPdfExtractor
from tests.bombs import pdf_bomb

FIXTURES = Path(__file__).parent / "fixtures" / "pdf"
GOOD = ["two_columns", "running_headers", "hyphenated", "table", "italian", "pdfminer_1072_embedded_cmap"]


def _folder(tmp_path: Path, *, bad: bool) -> Path:
    folder = tmp_path / "pdfs"
    folder.mkdir()
    for name in GOOD:
        shutil.copy(FIXTURES / f"{name}.pdf", folder / f"{name}.pdf")
    if bad:
        (folder / "empty.pdf").write_bytes(b"")
        (folder / "not_really.pdf").write_text("Questo è un file di testo, non un PDF.", encoding="utf-8")
        (folder / "truncated.pdf").write_bytes((FIXTURES / "italian.pdf").read_bytes()[:700])
        (folder / "scanned.pdf").write_bytes((FIXTURES / "scanned.pdf").read_bytes())
        (folder / "bomb.pdf").write_bytes(pdf_bomb())  # inflates past its reader's memory cap
    return folder


def test_files_read_across_processes_give_the_text_of_one_process(tmp_path: Path) -> None:
    paths = sorted(_folder(tmp_path, bad=False).glob("*.pdf"))
    here = [PdfTextExtractor().run(p) for p in paths]
    outcomes = list(SandboxedPdfExtractor().run_many(paths, workers=2))
    assert [p for p, _ in outcomes] == paths  # in the order asked, whatever finished first
    assert all(isinstance(o, PdfText) for _, o in outcomes)
    assert [o for _, o in outcomes] == here


def test_a_bad_file_in_a_worker_is_its_reason_and_the_batch_goes_on(tmp_path: Path) -> None:
    paths = sorted(_folder(tmp_path, bad=True).glob("*.pdf"))
    outcomes = dict(SandboxedPdfExtractor(memory_bytes=512 * 2**20).run_many(paths, workers=2))
    reasons = {p.name: o.reason for p, o in outcomes.items() if isinstance(o, PdfExtractionError)}
    assert set(reasons) == {"empty.pdf", "not_really.pdf", "truncated.pdf", "scanned.pdf", "bomb.pdf"}
    assert "empty" in reasons["empty.pdf"] and "not a PDF" in reasons["not_really.pdf"]
    assert "memory" in reasons["bomb.pdf"] or "allocate" in reasons["bomb.pdf"]
    assert {p.stem for p, o in outcomes.items() if isinstance(o, PdfText)} == set(GOOD)


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="workers"):
        list(SandboxedPdfExtractor().run_many([FIXTURES / "table.pdf"], workers=0))


def test_the_folder_connector_gives_the_same_documents_with_one_or_two_workers(tmp_path: Path) -> None:
    folder = _folder(tmp_path, bad=True)

    def read(workers: int) -> tuple[list, list[tuple[str, str]]]:
        spec = SourceSpec(name="bandi-pdf", kind="pdf_folder", files={"folder": "bandi-pdf"},
                          options={"workers": workers})
        result = PdfFolderConnector(spec, {"folder": folder}).run()
        return result.documents, [(s.ref, s.reason) for s in result.skipped]

    one, two = read(1), read(2)
    assert one == two
    documents, skipped = two
    assert [d.id for d in documents] == sorted(f"pdf:{name}" for name in GOOD)
    assert [ref for ref, _ in skipped] == ["bomb.pdf", "empty.pdf", "not_really.pdf", "scanned.pdf", "truncated.pdf"]
    assert all(reason.startswith("bad PDF: ") for _, reason in skipped)
