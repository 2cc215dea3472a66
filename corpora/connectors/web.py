"""Notices from a feed or an HTML listing (see ``corpora/web_listings.py``): one call document per item,
its summary and the text of the PDFs it links to."""

from __future__ import annotations

import json
from pathlib import Path

from convergenze.core.records import Document, Section
from convergenze.core.vocabulary import CallStatus, DocType
from convergenze.extractors.pdf import PdfExtractionError, PdfTextExtractor

from .base import Connector, ConnectorResult
from .fields import clean_cell


class WebNoticesConnector(Connector):
    def run(self) -> ConnectorResult:
        result = ConnectorResult(self.name)
        path = self.files["listing"]
        try:
            items = json.loads(path.read_text(encoding="utf-8")).get("items")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as error:
            result.skip(path.name, f"malformed file: not a listing of items ({error})")
            return result
        if not isinstance(items, list):
            result.skip(path.name, "malformed file: no list under 'items'")
            return result
        extractor = PdfTextExtractor(max_pages=self.spec.options.get("max_pages"))
        issuer = self.spec.options.get("issuer")
        regions = list(self.spec.options.get("region") or [])
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not clean_cell(item.get("key")) or not clean_cell(item.get("title")):
                result.skip(f"item {index}", "malformed record: no key or no title")
                continue
            sections = [Section(text=f"{item['title']}\n{item.get('summary') or ''}".strip())]
            pdfs = []
            for pdf in item.get("pdfs") or []:
                try:
                    extracted = extractor.run(Path(pdf["path"]))
                except PdfExtractionError as error:
                    result.skip(pdf["url"], f"bad PDF: {error}")
                    continue
                sections.extend(s for s in extracted.sections if s.text.strip())
                pdfs.append({"url": pdf["url"], "pages": extracted.pages})
            result.documents.append(
                Document(
                    id=f"{self.name}:{item['key']}",
                    source=self.name,
                    type=DocType.CALL,
                    title=str(item["title"]),
                    sections=sections,
                    url=item.get("link"),
                    metadata={
                        "published": item.get("published"),
                        "pdfs": pdfs,
                        "issuer": issuer,
                        "region": regions,
                        "status": CallStatus.UNKNOWN,
                    },
                )
            )
        return result
