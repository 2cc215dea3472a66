"""Everything the pipeline learns from a document's text, applied in order: language, then extraction."""

from __future__ import annotations

from datetime import date

from convergenze.records import Document

from .language import LanguageTagger


class Enricher:
    def __init__(self, today: date | None = None, language: LanguageTagger | None = None) -> None:
        self.today = today or date.today()
        self.language = language or LanguageTagger()

    def run(self, document: Document) -> Document:
        return self.language.run(document)
