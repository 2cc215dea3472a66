"""The connector interface: a source definition in, typed documents and skipped records out."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from convergenze.core.records import Document, Skipped

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One entry of ``corpora/sources.yaml``: where a source lives in the mirror and on the web."""

    name: str
    kind: str
    files: dict[str, str]
    urls: dict[str, str] = field(default_factory=dict)
    licence: str = ""
    homepage: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    schedule: str = ""
    # A disabled source is read only when named (``--source NAME``): examples, sites not yet vetted.
    enabled: bool = True


@dataclass(slots=True)
class ConnectorResult:
    source: str
    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def skip(self, ref: str, reason: str) -> None:
        logger.warning("skipped %s record %s: %s", self.source, ref, reason)
        self.skipped.append(Skipped(source=self.source, ref=ref, reason=reason))


class Connector(ABC):
    """Reads one source into documents. A bad record is skipped with a reason; it never aborts the batch."""

    def __init__(self, spec: SourceSpec, files: dict[str, Path], today: date | None = None) -> None:
        missing = sorted(set(spec.files) - set(files))
        if missing:
            raise ValueError(f"Source {spec.name!r} needs the files {missing}; resolve them with SourceResolver.")
        self.spec = spec
        self.files = files
        # The reference day for a call's status (open, closed...): fixed per run, so a run is reproducible.
        self.today = today or date.today()

    @property
    def name(self) -> str:
        return self.spec.name

    @abstractmethod
    def run(self) -> ConnectorResult: ...
