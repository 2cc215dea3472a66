"""A call read without storing it: what the ingestion learns from a document (language, call metadata,
objective statements, missions), on a text the caller gives. The ingestion's own components do the work (its
``Enricher`` and ``MissionClassifier``), so a text analysed here reads exactly as it would once ingested."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

from convergenze.core.errors import InvalidInput
from convergenze.core.records import CallMetadata, Document, MissionLabel, Objective, Section, from_dict
from convergenze.core.vocabulary import DocType
from convergenze.extractors.call_metadata import CallMetadataExtractor
from convergenze.extractors.enrich import Enricher
from convergenze.extractors.gazetteer import Gazetteer
from convergenze.extractors.language import LanguageTagger
from convergenze.extractors.missions import MissionClassifier
from convergenze.extractors.objectives import ObjectiveExtractor

# The classifier embeds a document's sections as passages of this size: a call is cut into such blocks at its
# paragraph breaks (the blocks joined back are the text, so evidence offsets still index the caller's text).
_BLOCK_CHARS = 1500


class EmptyText(InvalidInput):
    """Nothing to read."""


@dataclass(frozen=True, slots=True)
class Extraction:
    language: str | None
    metadata: CallMetadata
    missions: list[MissionLabel]
    objectives: list[Objective]


class ExtractionService:
    """``run(text, today)`` -> ``Extraction``; offsets of every evidence and objective index into ``text``."""

    def __init__(self, gazetteer: Gazetteer, missions: MissionClassifier) -> None:
        self.gazetteer = gazetteer
        self.missions = missions
        self.language = LanguageTagger()
        self.objectives = ObjectiveExtractor()

    def run(self, text: str, today: date | None = None) -> Extraction:
        if not text.strip():
            raise EmptyText("The text is empty: give the text of a call, or a PDF, DOCX or TXT file.")
        day = today or date.today()
        enricher = Enricher(today=day, language=self.language, gazetteer=self.gazetteer, objectives=self.objectives,
                            calls=CallMetadataExtractor(today=day, gazetteer=self.gazetteer))
        document = enricher.run(Document(id="extract:text", source="extract", type=DocType.CALL, title="",
                                         sections=[Section(text=text)]))
        passages = dataclasses.replace(document, sections=[Section(text=b) for b in _blocks(text)])
        return Extraction(
            language=document.language,
            metadata=CallMetadata.from_dict(document.metadata["extracted"]),
            missions=self.missions.run(passages),
            objectives=[from_dict(Objective, o) for o in document.metadata["objectives"]],
        )


def _blocks(text: str) -> list[str]:
    """``text`` cut at paragraph breaks into blocks of about ``_BLOCK_CHARS`` ("\\n\\n".join gives it back)."""
    blocks: list[str] = []
    for part in text.split("\n\n"):
        if blocks and len(blocks[-1]) + len(part) + 2 <= _BLOCK_CHARS:
            blocks[-1] = f"{blocks[-1]}\n\n{part}"
        else:
            blocks.append(part)
    return blocks
