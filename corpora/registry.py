"""Source definitions (``sources.yaml``) and where each source's files come from: the mirror, or the web."""

from __future__ import annotations

import importlib
import logging
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from convergenze.core.errors import InvalidInput, Unavailable

from .connectors.base import Connector, SourceSpec
from .http import USER_AGENT, FetchError, FetchPolicy, HttpFetcher, download
from .live import lister_for
from .state import StateStore

logger = logging.getLogger(__name__)

SOURCES_FILE = Path(__file__).with_name("sources.yaml")
__all__ = ["USER_AGENT", "SourceResolver", "SourceUnavailable", "build_connector", "load_sources"]

# Imported on use: a run over JSON sources need not load pdfplumber, and the reverse.
CONNECTORS: dict[str, str] = {
    "pnrr_measures": "italia_domani:PnrrMeasuresConnector",
    "pnrr_calls": "italia_domani:PnrrCallsConnector",
    "pnrr_projects": "italia_domani:PnrrProjectsConnector",
    "pnc_programmes": "italia_domani:PncProgrammesConnector",
    "eu_topics": "eu_topics:EuTopicsConnector",
    "plone_bandi": "regional:EmiliaRomagnaPloneConnector",
    "wordpress_bandi": "regional:LazioInnovaWordPressConnector",
    "incentivi_solr": "incentivi:IncentiviConnector",
    "incentivi-opendata": "incentivi:IncentiviConnector",
    "pdf_folder": "pdfs:PdfFolderConnector",
    "feed": "web:WebNoticesConnector",
    "html_listing": "web:WebNoticesConnector",
}
# Kinds whose URL is a feed or a page of links (corpora/web_listings.py), not a paged API.
WEB_LISTING_KINDS = ("feed", "html_listing")


class SourceUnavailable(Unavailable):
    """A source's files are neither in the mirror nor downloadable; the batch goes on without it.
    ``retryable``: a network failure that may pass (worth retrying), not a file that is simply not there."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


def load_sources(path: Path = SOURCES_FILE) -> list[SourceSpec]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    specs = []
    for entry in raw.get("sources", []):
        if entry.get("kind") not in CONNECTORS:
            raise ValueError(
                f"{path}: source {entry.get('name')!r} has unknown kind {entry.get('kind')!r}; "
                f"use one of {sorted(CONNECTORS)}."
            )
        specs.append(
            SourceSpec(
                name=entry["name"],
                kind=entry["kind"],
                files=dict(entry.get("files", {})),
                urls=dict(entry.get("urls", {})),
                licence=entry.get("licence", ""),
                homepage=entry.get("homepage", ""),
                options=dict(entry.get("options", {})),
                schedule=str(entry.get("schedule", "")),
                enabled=bool(entry.get("enabled", True)),
            )
        )
    return specs


def select_sources(specs: list[SourceSpec], names: list[str] | None) -> list[SourceSpec]:
    if not names:
        return [s for s in specs if s.enabled]
    known = {s.name for s in specs}
    unknown = sorted(set(names) - known)
    if unknown:
        raise InvalidInput(f"Unknown source(s) {unknown}; known sources are {sorted(known)}.")
    return [s for s in specs if s.name in names]


class SourceResolver:
    """Finds a source's files in the mirror directory, or gets them from the web: a listing API is paged
    through (``corpora/live.py``), a plain file is re-downloaded only when its ETag or date changed.

    ``fetcher`` and ``state`` are made on first download when not given (a mirror-only run needs neither)."""

    def __init__(
        self,
        mirror: Path | None,
        cache: Path,
        *,
        allow_download: bool = True,
        timeout: float = 30.0,
        fetcher: HttpFetcher | None = None,
        state: StateStore | None = None,
    ):
        self.mirror = mirror
        self.cache = cache
        self.allow_download = allow_download
        self.timeout = timeout
        self.fetcher = fetcher
        self.state = state

    def resolve(self, spec: SourceSpec) -> dict[str, Path]:
        return {key: self._resolve_one(spec, key, rel) for key, rel in spec.files.items()}

    def _resolve_one(self, spec: SourceSpec, key: str, relative: str) -> Path:
        if self.mirror is not None and (self.mirror / relative).exists():
            return self.mirror / relative
        url = spec.urls.get(key)
        if not url:
            raise SourceUnavailable(
                f"unreachable source: {relative!r} is not in the mirror {self.mirror} and has no download URL"
            )
        if not self.allow_download:
            raise SourceUnavailable(f"unreachable source: {relative!r} is not in the mirror and downloads are off")
        target = self.cache / spec.name / Path(relative).name
        fetcher, state = self._web()
        try:
            lister = lister_for(spec.kind, key)
            if lister is not None:
                return lister(spec, url, fetcher, state, target).run()
            if spec.kind in WEB_LISTING_KINDS:
                from .web_listings import WebListing  # feedparser is loaded only for such sources

                return WebListing(spec, url, fetcher, state, target).run()
            return download(fetcher, url, target)
        except FetchError as error:
            raise SourceUnavailable(f"unreachable source: {error}", retryable=error.retryable) from error

    def _web(self) -> tuple[HttpFetcher, StateStore]:
        if self.state is None:
            self.state = StateStore(self.cache / "state.sqlite")
        if self.fetcher is None:
            self.fetcher = HttpFetcher(
                FetchPolicy(timeout=self.timeout), state=self.state, cache_dir=self.cache / "http"
            )
        return self.fetcher, self.state


def build_connector(spec: SourceSpec, files: dict[str, Path], today: date | None = None) -> Connector:
    module_name, class_name = CONNECTORS[spec.kind].split(":")
    cls: Any = getattr(importlib.import_module(f"{__package__}.connectors.{module_name}"), class_name)
    return cls(spec, files, today=today)
