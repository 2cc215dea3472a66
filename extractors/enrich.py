"""Everything the pipeline learns from a document, applied in order: language, call metadata, places.

Structured sources keep their own fields; what the extractor finds fills the gaps and is kept beside them
under ``metadata["extracted"]`` with its evidence, so the two can be compared.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from convergenze.core.records import CallMetadata, Document
from convergenze.core.vocabulary import CallStatus, DocType, PlaceLevel

from .call_metadata import CallMetadataExtractor
from .call_parties import actors_in
from .gazetteer import Gazetteer, default_gazetteer
from .language import LanguageTagger
from .objectives import ObjectiveExtractor

# Funded projects and PNRR measures are structured records, not call texts: nothing to extract.
_EXTRACT_TYPES = (DocType.CALL, DocType.PROGRAMME, DocType.POLICY)
_NATIONAL = {"ambito nazionale", "italia", "tutto il territorio nazionale", "nazionale"}


class Enricher:
    def __init__(
        self,
        today: date | None = None,
        language: LanguageTagger | None = None,
        calls: CallMetadataExtractor | None = None,
        gazetteer: Gazetteer | None = None,
        objectives: ObjectiveExtractor | None = None,
    ) -> None:
        self.today = today or date.today()
        self.language = language or LanguageTagger()
        self._gazetteer = gazetteer
        self.calls = calls or CallMetadataExtractor(today=self.today, gazetteer=gazetteer)
        self.objectives = objectives or ObjectiveExtractor()

    @property
    def gazetteer(self) -> Gazetteer:
        if self._gazetteer is None:
            self._gazetteer = default_gazetteer()
        return self._gazetteer

    def run(self, document: Document) -> Document:
        document = self.language.run(document)
        meta = document.metadata
        if document.type in _EXTRACT_TYPES:
            text = f"{document.title}\n\n{document.text}" if document.title else document.text
            found = self.calls.run(text, language="en" if document.language == "en" else "it")
            meta["extracted"] = found.to_dict()
            self._fill_gaps(meta, found)
            meta["objectives"] = self._objectives(document)
        recipients = meta.get("recipients")
        if recipients and not meta.get("beneficiary_types"):
            wording = "; ".join(recipients) if isinstance(recipients, list) else str(recipients)
            meta["beneficiary_types"] = sorted({span.value for span in actors_in(wording, 0, len(wording))})
        meta["region"], national = self._regions(meta.get("region") or [])
        if national:
            meta["national"] = True
        return document

    def _objectives(self, document: Document) -> list[dict[str, Any]]:
        """Objective statements per section (offsets index into that section's text)."""
        found = [
            dataclasses.asdict(objective)
            for section in document.sections
            for objective in self.objectives.run(
                section.text, language=section.language or document.language, section=section.heading
            )
        ]
        return found[: self.objectives.max_objectives]

    def _fill_gaps(self, meta: dict[str, Any], found: CallMetadata) -> None:
        if not meta.get("deadline") and found.deadline:
            meta["deadline"] = found.deadline.value
        if not meta.get("opening") and found.opening:
            meta["opening"] = found.opening.value
        if meta.get("status", CallStatus.UNKNOWN) == CallStatus.UNKNOWN and found.status != CallStatus.UNKNOWN:
            meta["status"] = found.status
        if not meta.get("issuer") and found.issuer:
            meta["issuer"] = found.issuer
        if not meta.get("programme") and found.programmes:
            meta["programme"] = sorted({p.code for p in found.programmes})
        if not meta.get("budget_total") and found.total_budget:
            meta["budget_total"] = found.total_budget.value
        if not meta.get("beneficiary_types") and found.beneficiaries:
            meta["beneficiary_types"] = sorted({b.actor_type for b in found.beneficiaries})
        if not meta.get("support_forms") and found.support_forms:
            meta["support_forms"] = [f.form.value for f in found.support_forms]
        if not meta.get("firm_sizes") and found.firm_sizes:
            meta["firm_sizes"] = [s.size.value for s in found.firm_sizes]
        if not meta.get("region") and found.territory:
            regions = {
                p.name if p.level == PlaceLevel.REGION else self.gazetteer.region_name(p.istat_code or "")
                for p in found.territory
                if p.level not in (PlaceLevel.NATIONAL, PlaceLevel.EU)
            }
            meta["region"] = sorted(r for r in regions if r)
            meta["national"] = any(p.level == PlaceLevel.NATIONAL for p in found.territory)

    def _regions(self, names: list[str]) -> tuple[list[str], bool]:
        """Canonical region names ("EMILIA-ROMAGNA", "Emilia Romagna" -> "Emilia-Romagna")."""
        out, national = set(), False
        for name in names:
            if name.strip().lower() in _NATIONAL:
                national = True
                continue
            entry = self.gazetteer.lookup(name, "region")
            out.add(entry.name if entry else name)
        return sorted(out), national
