"""A folder of call PDFs: one document per file, text by pdfplumber (see extractors/pdf.py)."""

from __future__ import annotations

import hashlib

from convergenze.core.records import Document
from convergenze.core.vocabulary import DocType
from convergenze.extractors.pdf import PdfExtractionError, PdfTextExtractor

from .base import Connector, ConnectorResult


class PdfFolderConnector(Connector):
    """Every ``*.pdf`` under the folder; a corrupt, empty or image-only file is skipped with its reason."""

    def run(self) -> ConnectorResult:
        result = ConnectorResult(self.name)
        folder = self.files["folder"]
        extractor = PdfTextExtractor(max_pages=self.spec.options.get("max_pages"))
        for path in sorted(folder.glob("*.pdf")):
            try:
                extracted = extractor.run(path)
            except PdfExtractionError as error:
                result.skip(path.name, f"bad PDF: {error}")
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
