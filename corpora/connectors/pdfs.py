"""A folder of call PDFs: one document per file, text by pdfplumber (see extractors/pdf.py), the files read
side by side in child processes (extractors/pdf_sandbox.py)."""

from __future__ import annotations

import hashlib

from convergenze.core.records import Document
from convergenze.core.settings import available_cores
from convergenze.core.vocabulary import DocType
from convergenze.extractors.pdf import PdfExtractionError, PdfTextExtractor
from convergenze.extractors.pdf_sandbox import SandboxedPdfExtractor

from .base import Connector, ConnectorResult

# An official call is read within these, even a slow one on a loaded machine (two vector-heavy Lazio calls take
# ~25 s each on a free core); a file past them is a decompression bomb or a parser loop, skipped with the reason.
PDF_TIMEOUT_SECONDS = 600.0
PDF_MEMORY_BYTES = 2**30


class PdfFolderConnector(Connector):
    """Every ``*.pdf`` under the folder; a corrupt, empty or image-only file is skipped with its reason, and so
    is one whose reader runs out of time or memory or dies (each file is read in its own child process).
    ``options.workers`` caps the files read at once (default: the cores)."""

    def run(self) -> ConnectorResult:
        result = ConnectorResult(self.name)
        folder = self.files["folder"]
        reader = SandboxedPdfExtractor(
            extractor=PdfTextExtractor(max_pages=self.spec.options.get("max_pages")),
            memory_bytes=PDF_MEMORY_BYTES,
            timeout=PDF_TIMEOUT_SECONDS,
        )
        workers = int(self.spec.options.get("workers") or available_cores())
        for path, extracted in reader.run_many(sorted(folder.glob("*.pdf")), workers):
            if isinstance(extracted, PdfExtractionError):
                result.skip(path.name, f"bad PDF: {extracted.reason}")
                continue
            if not extracted.text.strip():
                result.skip(path.name, "empty text: no text could be extracted")
                continue
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            result.documents.append(
                Document(
                    id=f"pdf:{path.stem}",
                    source=self.name,
                    type=DocType.CALL,
                    title=extracted.title or path.stem.replace("_", " "),
                    sections=list(extracted.sections),
                    url=self.spec.urls.get(path.name),
                    metadata={"file": path.name, "pages": extracted.pages, "file_sha256": digest},
                )
            )
        return result
