"""Live listings: page through a source's API and write what it returned in the shape the connectors
already read (the shape of the shared captures), so parsing lives in one place (``connectors/``).

Each page is a conditional GET (a 304 reuses the cached page). After each page the cursor (the next page)
is saved in the state store: a run killed half-way resumes at that page and takes the pages before it from
the cache instead of asking the server again. A malformed page is skipped with its reason and makes the
listing *incomplete*: an incomplete listing never marks missing notices as withdrawn.
"""

from __future__ import annotations

import json
import logging
import re
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup

from convergenze.core.vocabulary import CallStatus

from .connectors.base import SourceSpec
from .http import Fetched, FetchError, HttpFetcher, download, full_url
from .state import StateStore, now_iso

logger = logging.getLogger(__name__)

# A cursor older than this belongs to a run long gone: its cached pages may be stale, start over.
CURSOR_MAX_AGE = timedelta(hours=6)


@dataclass(slots=True)
class ListingOutcome:
    """What a listing run did, kept beside its output as ``<output>.listing.json`` for the report."""

    url: str
    complete: bool = True
    pages: int = 0
    requests: int = 0
    not_modified: int = 0
    resumed_at: int | None = None
    skipped: list[dict[str, str]] = field(default_factory=list)

    @staticmethod
    def path_for(output: Path) -> Path:
        return output.with_name(output.name + ".listing.json")

    @classmethod
    def load(cls, output: Path) -> ListingOutcome | None:
        path = cls.path_for(output)
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Any]
    more: bool


class Lister(ABC):
    """Pages through one listing URL; ``run()`` writes the collected items to ``output`` and returns it."""

    page_size_default = 50

    def __init__(
        self, spec: SourceSpec, url: str, fetcher: HttpFetcher, state: StateStore, output: Path
    ) -> None:
        self.spec = spec
        self.url = url
        self.fetcher = fetcher
        self.state = state
        self.output = output
        self.page_size = int(spec.options.get("page_size", self.page_size_default))
        self.max_pages = int(spec.options.get("max_pages", 200))

    @abstractmethod
    def params(self, page: int) -> dict[str, Any]:
        """Query parameters of page ``page`` (0-based)."""

    @abstractmethod
    def parse(self, fetched: Fetched, page: int) -> Page:
        """The page's items; raise ValueError with a plain reason when the page is malformed."""

    @abstractmethod
    def write(self, items: list[Any]) -> Any:
        """The capture-shaped JSON for the connector."""

    def fetch_page(self, page: int, *, from_cache: bool) -> Fetched:
        if from_cache:
            cached = self._cached(page)
            if cached is not None:
                return cached
        return self.fetcher.get(self.url, params=self.params(page))

    def _cached(self, page: int) -> Fetched | None:
        full = full_url(self.url, self.params(page))
        validators = self.state.validators(full)
        if validators is None or validators.body_path is None or not validators.body_path.exists():
            return None
        return Fetched(full, validators.body_path.read_bytes(), {}, not_modified=True)

    def run(self) -> Path:
        outcome = ListingOutcome(url=self.url)
        requests_before = self.fetcher.requests
        start_page, started = self._resume()
        outcome.resumed_at = start_page or None
        items: list[Any] = []
        page = 0
        while page < self.max_pages:
            fetched = self.fetch_page(page, from_cache=page < start_page)
            outcome.pages += 1
            outcome.not_modified += int(fetched.not_modified)
            try:
                parsed = self.parse(fetched, page)
            except ValueError as error:
                # A bad page loses its items, not the others; the listing is no longer a full picture.
                outcome.complete = False
                outcome.skipped.append({"ref": f"page {page + 1}", "reason": f"malformed page: {error}"})
                parsed = Page([], more=True)
            items.extend(parsed.items)
            self.state.save_cursor(self.spec.name, self.url, page + 1, started)
            if not parsed.more:
                break
            page += 1
        else:
            outcome.complete = False
            outcome.skipped.append(
                {"ref": self.url, "reason": f"listing cut at {self.max_pages} pages (options.max_pages)"}
            )
        outcome.requests = self.fetcher.requests - requests_before
        self.output.parent.mkdir(parents=True, exist_ok=True)
        _write_json(self.output, self.write(items))
        _write_json(ListingOutcome.path_for(self.output), asdict(outcome))
        self.state.clear_cursor(self.spec.name, self.url)
        return self.output

    def _resume(self) -> tuple[int, str]:
        cursor = self.state.cursor(self.spec.name, self.url)
        if cursor is None:
            return 0, now_iso()
        next_page, started = cursor
        if datetime.now(UTC) - datetime.fromisoformat(started) > CURSOR_MAX_AGE:
            return 0, now_iso()
        logger.info("%s: resuming the listing at page %d", self.spec.name, next_page + 1)
        return next_page, started


def _json_of(fetched: Fetched) -> Any:
    try:
        return fetched.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"not valid JSON ({error})") from error


class PloneSearchLister(Lister):
    """Plone REST ``@search``: ``b_start``/``b_size`` batches, ``items_total`` says when to stop."""

    page_size_default = 25

    def params(self, page: int) -> dict[str, Any]:
        return {"b_start": page * self.page_size, "b_size": self.page_size}

    def parse(self, fetched: Fetched, page: int) -> Page:
        payload = _json_of(fetched)
        items = payload.get("items") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise ValueError("no list under 'items'")
        total = payload.get("items_total")
        seen = page * self.page_size + len(items)
        more = seen < total if isinstance(total, int) else len(items) == self.page_size
        return Page(items, more=more and bool(items))

    def write(self, items: list[Any]) -> Any:
        return {"_source": self.url, "_captured": now_iso(), "items": items}


class WordPressLister(Lister):
    """WordPress REST ``/wp-json/wp/v2/<type>``: ``page``/``per_page``, ``X-WP-TotalPages`` says when to stop."""

    page_size_default = 20

    def params(self, page: int) -> dict[str, Any]:
        return {"page": page + 1, "per_page": self.page_size}

    def parse(self, fetched: Fetched, page: int) -> Page:
        payload = _json_of(fetched)
        if not isinstance(payload, list):
            raise ValueError("expected a JSON list of posts")
        total = fetched.headers.get("x-wp-totalpages", "")
        more = page + 1 < int(total) if total.isdigit() else len(payload) == self.page_size
        return Page(payload, more=more and bool(payload))

    def write(self, items: list[Any]) -> Any:
        return {"_source": self.url, "_captured": now_iso(), "posts": items}


class SolrSelectLister(Lister):
    """Solr ``select``: ``start``/``rows``, ``response.numFound`` says when to stop."""

    page_size_default = 50

    def params(self, page: int) -> dict[str, Any]:
        return {"start": page * self.page_size, "rows": self.page_size, "wt": "json"}

    def parse(self, fetched: Fetched, page: int) -> Page:
        payload = _json_of(fetched)
        body = payload.get("response", payload) if isinstance(payload, dict) else None
        docs = body.get("docs") if isinstance(body, dict) else None
        if not isinstance(docs, list):
            raise ValueError("no list under 'response.docs'")
        found = body.get("numFound") if isinstance(body, dict) else None
        seen = page * self.page_size + len(docs)
        more = seen < found if isinstance(found, int) else len(docs) == self.page_size
        return Page(docs, more=more and bool(docs))

    def write(self, items: list[Any]) -> Any:
        return {"_source": self.url, "_captured": now_iso(), "docs": items}


# The EU Funding & Tenders search API returns each field as a list of strings under ``metadata``; the
# connector reads the flat topic record of the capture. sources.yaml may override this mapping.
EU_FIELDS = {
    "topicId": "identifier",
    "title": "title",
    "callIdentifier": "callIdentifier",
    "callTitle": "callTitle",
    "deadline": "deadlineDate",
    "callStatus": "status",
    "programmeId": "frameworkProgramme",
    "typesOfAction": "typesOfAction",
    "keywords": "keywords",
    "description": "descriptionByte",
    "topicConditions": "topicConditions",
    "deadlineModel": "deadlineModel",
    "portalUrl": "url",
}
EU_STATUSES = {"31094501": CallStatus.FORTHCOMING, "31094502": CallStatus.OPEN, "31094503": CallStatus.CLOSED}


class EuTopicSearchLister(Lister):
    """The Funding & Tenders portal's search API (``POST .../rest/search``), grants only, with an optional
    programme filter (``options.programmes``: framework programme ids)."""

    page_size_default = 50

    def params(self, page: int) -> dict[str, Any]:
        return {"apiKey": "SEDIA", "text": "***", "pageSize": self.page_size, "pageNumber": page + 1}

    def fetch_page(self, page: int, *, from_cache: bool) -> Fetched:
        must: list[dict[str, Any]] = [{"terms": {"type": ["1", "2"]}}]  # 1, 2: call topics (grants)
        if programmes := self.spec.options.get("programmes"):
            must.append({"terms": {"frameworkProgramme": [str(p) for p in programmes]}})
        query = json.dumps({"bool": {"must": must}})
        files = {"query": ("blob", query, "application/json")}
        return self.fetcher.post(self.url, params=self.params(page), files=files)

    def parse(self, fetched: Fetched, page: int) -> Page:
        payload = _json_of(fetched)
        results = payload.get("results") if isinstance(payload, dict) else None
        if not isinstance(results, list):
            raise ValueError("no list under 'results'")
        mapping = {**EU_FIELDS, **dict(self.spec.options.get("fields") or {})}
        programmes = dict(self.spec.options.get("programme_names") or {})
        records = []
        for result in results:
            metadata = result.get("metadata") if isinstance(result, dict) else None
            if not isinstance(metadata, dict):
                continue
            record = {flat: _first(metadata.get(key)) for flat, key in mapping.items()}
            record["deadline"] = (record.get("deadline") or "")[:10] or None
            record["callStatus"] = EU_STATUSES.get(str(record.get("callStatus")), record.get("callStatus"))
            record["programme"] = programmes.get(str(record.get("programmeId")), record.get("programmeId"))
            records.append(record)
        total = payload.get("totalResults")
        seen = page * self.page_size + len(results)
        more = seen < total if isinstance(total, int) else len(results) == self.page_size
        return Page(records, more=more and bool(results))

    def write(self, items: list[Any]) -> Any:
        return items


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


class LatestExport:
    """An open-data page that links the day's export under a dated name ("…/open-data/2025-7-12_opendata-export
    .json"): the newest link is downloaded, with a conditional request (an export not changed since the last run
    costs a 304). A URL that is the export itself is downloaded as it is. ``options.export_link`` is the pattern
    of the link's path (default: a JSON file whose name ends in ``opendata-export.json``)."""

    def __init__(
        self, spec: SourceSpec, url: str, fetcher: HttpFetcher, state: StateStore, output: Path
    ) -> None:
        self.spec, self.url, self.fetcher, self.output = spec, url, fetcher, output
        self.pattern = re.compile(str(spec.options.get("export_link", r"opendata-export\.json$")))

    def run(self) -> Path:
        is_file = self.pattern.search(urlsplit(self.url).path) is not None
        return download(self.fetcher, self.url if is_file else self.newest_link(), self.output)

    def newest_link(self) -> str:
        page = BeautifulSoup(self.fetcher.get(self.url).body, "html.parser")
        links = {urljoin(self.url, str(a["href"])) for a in page.find_all("a", href=True)}
        exports = [link for link in links if self.pattern.search(urlsplit(link).path)]
        if not exports:
            raise FetchError(f"{self.url} links no export matching {self.pattern.pattern!r}", retryable=False)
        return max(exports, key=_dated)


def _dated(link: str) -> tuple[tuple[int, ...], str]:
    """The date in a file name ("2025-7-12_..."), for picking the newest; undated names sort first."""
    found = re.search(r"(\d{4})-(\d{1,2})-(\d{1,2})", urlsplit(link).path.rsplit("/", 1)[-1])
    return (tuple(int(g) for g in found.groups()) if found else (), link)


# How a file of a source is fetched when it is not a plain download: the listing API its kind pages through, or
# (``kind:file``) the fetcher of one file of a kind that reads several.
LISTERS: dict[str, type[Lister] | type[LatestExport]] = {
    "plone_bandi": PloneSearchLister,
    "wordpress_bandi": WordPressLister,
    "incentivi_solr": SolrSelectLister,
    "incentivi-opendata:select": SolrSelectLister,
    "incentivi-opendata:export": LatestExport,
    "eu_topics": EuTopicSearchLister,
}


def lister_for(kind: str, key: str) -> type[Lister] | type[LatestExport] | None:
    return LISTERS.get(f"{kind}:{key}") or LISTERS.get(kind)


def _write_json(path: Path, value: Any) -> None:
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    partial.replace(path)


__all__ = ["LISTERS", "FetchError", "LatestExport", "Lister", "ListingOutcome", "lister_for"]
