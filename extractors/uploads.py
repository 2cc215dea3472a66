"""Text of an uploaded project description: PDF (pdfplumber, as the corpus), DOCX (python-docx) or plain text.

The file's bytes decide its kind, not its name: a binary file named ``.pdf`` is refused in plain words rather
than fed to a parser that would fail obscurely. Nothing is read unbounded: a DOCX's parts are checked for
number, size and compression ratio before any is decompressed, and one that declares a DTD (Word never does;
billion-laughs bombs must) is refused; a PDF is read in a child process with memory and time limits.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from convergenze.core.errors import InvalidInput
from convergenze.core.vocabulary import TextSource

from .pdf import PdfExtractionError, PdfTextExtractor
from .pdf_sandbox import SandboxedPdfExtractor

MAX_UPLOAD_BYTES = 10 * 2**20
# A DOCX is a zip of XML parts: a long report is a few MB of XML, compressed 5-20 times.
DOCX_MAX_PARTS = 1000
DOCX_MAX_EXPANDED = 100 * 2**20
DOCX_MAX_RATIO = 200
_DTD = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


class UploadError(InvalidInput):
    """An upload that cannot become text. ``kind``: 'unsupported', 'unreadable' or 'empty'."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class UploadedText:
    kind: TextSource
    text: str
    pages: int | None = None


def _kind(filename: str, content: bytes) -> TextSource:
    suffix = Path(filename or "").suffix.lower()
    if content[:1024].find(b"%PDF-") >= 0:
        return TextSource.PDF
    if content[:4] == b"PK\x03\x04":
        if suffix in ("", ".docx"):
            return TextSource.DOCX
        raise UploadError("unsupported", "Only PDF, DOCX and TXT files are accepted.")
    if suffix == ".pdf":
        raise UploadError("unreadable", "The file is named .pdf but is not a PDF.")
    if suffix == ".docx":
        raise UploadError("unreadable", "The file is named .docx but is not a Word document.")
    if suffix not in ("", ".txt", ".text", ".md"):
        raise UploadError("unsupported", "Only PDF, DOCX and TXT files are accepted.")
    return TextSource.TXT


def _plain_text(content: bytes) -> str:
    if b"\x00" in content[:8192]:
        raise UploadError("unreadable", "The file is binary, not plain text.")
    for encoding in ("utf-8-sig", "cp1252"):  # Italian Windows editors still write cp1252 (à, è, €)
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UploadError("unreadable", "The text file is neither UTF-8 nor Windows-1252.")


def _check_docx(content: bytes) -> None:
    """Refuse a zip bomb or an XML bomb before python-docx decompresses anything (zipfile itself stops a part
    at its declared size, so the declared sizes are what bound the work)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
            if len(parts) > DOCX_MAX_PARTS:
                raise UploadError("unreadable", "The Word document has too many parts to be a real document.")
            if sum(p.file_size for p in parts) > DOCX_MAX_EXPANDED:
                raise UploadError("unreadable", f"The Word document expands to more than "
                                               f"{DOCX_MAX_EXPANDED // 2**20} MB.")
            for part in parts:
                if part.file_size > 2**20 and part.file_size > DOCX_MAX_RATIO * max(part.compress_size, 1):
                    raise UploadError("unreadable", "The Word document is compressed far beyond what Word does "
                                                    "(a decompression bomb?).")
            for part in parts:
                if part.filename.endswith((".xml", ".rels")) and _DTD.search(archive.read(part)):
                    raise UploadError("unreadable", "The Word document declares a DTD, which Word never writes.")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as error:
        raise UploadError("unreadable", "The Word document is damaged or not a .docx file.") from error


def _docx_text(content: bytes) -> str:
    import docx  # python-docx: paragraphs and tables of WordprocessingML without writing a parser
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import LxmlError

    _check_docx(content)
    try:
        document = docx.Document(io.BytesIO(content))
        parts = [p.text for p in document.paragraphs if p.text.strip()]
        for table in document.tables:
            parts += [" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows]
    except (zipfile.BadZipFile, KeyError, ValueError, PackageNotFoundError, LxmlError) as error:
        raise UploadError("unreadable", "The Word document is damaged or not a .docx file.") from error
    return "\n".join(parts)


def text_from_upload(filename: str, content: bytes, max_bytes: int = MAX_UPLOAD_BYTES,
                     max_pages: int = 100, pdf: SandboxedPdfExtractor | None = None) -> UploadedText:
    """The text of an uploaded file; raises ``UploadError`` with a plain reason when there is none. ``pdf`` reads
    PDFs (its limits); by default a sandbox with 1 GB and 60 s reading ``max_pages`` pages."""
    if len(content) > max_bytes:
        raise UploadError("too_large", f"The file is larger than the {max_bytes // 2**20} MB limit.")
    if not content:
        raise UploadError("empty", "The uploaded file is empty.")
    kind = _kind(filename, content)
    pages = None
    if kind == TextSource.PDF:
        with tempfile.TemporaryDirectory(prefix="convergenze-upload-") as folder:
            path = Path(folder) / "upload.pdf"
            path.write_bytes(content)
            try:
                reader = pdf or SandboxedPdfExtractor(extractor=PdfTextExtractor(max_pages=max_pages))
                extracted = reader.run(path)
            except PdfExtractionError as error:
                raise UploadError("unreadable", f"The PDF could not be read: {error.reason}.") from error
        text, pages = extracted.text, extracted.pages
    elif kind == TextSource.DOCX:
        text = _docx_text(content)
    else:
        text = _plain_text(content)
    if not text.strip():
        raise UploadError("empty", "No text could be extracted from the uploaded file.")
    return UploadedText(kind=kind, text=text, pages=pages)
