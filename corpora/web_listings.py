"""Notices from sites that only publish a feed or a web page of links: an RSS/Atom feed (feedparser), or an
HTML listing read with the CSS selectors of the source (``options.selectors``). Linked PDFs are downloaded
(conditional requests: a PDF already fetched costs a 304) and read by the PDF connector's extractor.

The listing is written as one JSON file of items, the input of ``connectors/web.py``::

    {"items": [{"key", "title", "link", "published", "summary", "pdfs": [{"url", "path"}]}]}
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser
from bs4 import BeautifulSoup, Tag

from .connectors.base import SourceSpec
from .connectors.fields import html_to_text, parse_date
from .http import FetchError, HttpFetcher
from .live import ListingOutcome, _write_json
from .state import StateStore, now_iso

DEFAULT_PDF_SELECTOR = 'a[href$=".pdf"], a[href$=".PDF"]'


class WebListing:
    """Fetches a feed or an HTML listing, then the PDFs its items link to; ``run()`` returns the items file."""

    def __init__(
        self, spec: SourceSpec, url: str, fetcher: HttpFetcher, state: StateStore, output: Path
    ) -> None:
        self.spec = spec
        self.url = url
        self.fetcher = fetcher
        self.state = state
        self.output = output
        self.max_items = int(spec.options.get("max_items", 100))
        self.max_pdfs = int(spec.options.get("max_pdfs", 5))
        self.pdf_dir = output.parent / "pdfs"

    def run(self) -> Path:
        outcome = ListingOutcome(url=self.url)
        before = self.fetcher.requests
        page = self.fetcher.get(self.url)
        outcome.pages, outcome.not_modified = 1, int(page.not_modified)
        try:
            items = self.parse(page.body)[: self.max_items]
        except ValueError as error:
            outcome.complete = False
            outcome.skipped.append({"ref": self.url, "reason": f"malformed page: {error}"})
            items = []
        for item in items:
            links = item.pop("pdf_links", [])
            if self.spec.kind == "html_listing" and self.spec.options.get("follow_links") and item["link"]:
                links += self._detail_pdfs(item["link"], outcome)
            item["pdfs"] = self._download(list(dict.fromkeys(links))[: self.max_pdfs], outcome)
        outcome.requests = self.fetcher.requests - before
        self.output.parent.mkdir(parents=True, exist_ok=True)
        _write_json(self.output, {"_source": self.url, "_captured": now_iso(), "items": items})
        _write_json(ListingOutcome.path_for(self.output), asdict(outcome))
        return self.output

    def parse(self, body: bytes) -> list[dict[str, Any]]:
        if self.spec.kind == "feed":
            return parse_feed(body, self.url)
        return parse_listing(body, self.url, dict(self.spec.options.get("selectors") or {}))

    def _detail_pdfs(self, link: str, outcome: ListingOutcome) -> list[str]:
        if link.lower().endswith(".pdf"):
            return [link]
        try:
            page = self.fetcher.get(link)
        except FetchError as error:
            outcome.skipped.append({"ref": link, "reason": f"notice page not fetched: {error}"})
            return []
        selector = (self.spec.options.get("selectors") or {}).get("detail_pdf", DEFAULT_PDF_SELECTOR)
        soup = BeautifulSoup(page.body, "html.parser")
        return [urljoin(link, str(a.get("href"))) for a in soup.select(selector) if a.get("href")]

    def _download(self, links: list[str], outcome: ListingOutcome) -> list[dict[str, str]]:
        pdfs = []
        for link in links:
            try:
                fetched = self.fetcher.get(link)
            except FetchError as error:
                outcome.skipped.append({"ref": link, "reason": f"PDF not fetched: {error}"})
                continue
            path = self.pdf_dir / f"{hashlib.sha256(link.encode('utf-8')).hexdigest()[:24]}.pdf"
            if not (fetched.not_modified and path.exists()):
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(fetched.body)
            pdfs.append({"url": link, "path": str(path)})
        return pdfs


def _key(*parts: str | None) -> str:
    """An id from the item's own identity (its guid or link), stable across runs and machines."""
    return hashlib.sha256("|".join(p or "" for p in parts).encode("utf-8")).hexdigest()[:16]


def parse_feed(body: bytes, base: str) -> list[dict[str, Any]]:
    feed = feedparser.parse(body)
    if feed.bozo and not feed.entries:
        raise ValueError(f"not an RSS or Atom feed ({feed.get('bozo_exception')})")
    items = []
    for entry in feed.entries:
        link = urljoin(base, entry.get("link") or "") or None
        title = html_to_text(entry.get("title") or "")
        if not title or not (link or entry.get("id")):
            continue
        moment = entry.get("published_parsed") or entry.get("updated_parsed")
        published = date.fromtimestamp(time.mktime(moment)).isoformat() if moment else None
        pdfs = [
            urljoin(base, str(x.get("href")))
            for x in list(entry.get("links") or []) + list(entry.get("enclosures") or [])
            if x.get("href") and (x.get("type") == "application/pdf" or str(x.get("href")).lower().endswith(".pdf"))
        ]
        summary = entry.get("summary") or ""
        if entry.get("content"):
            summary = entry["content"][0].get("value") or summary
        items.append(
            {
                "key": _key(entry.get("id") or link),
                "title": title,
                "link": link,
                "published": published,
                "summary": html_to_text(summary),
                "pdf_links": list(dict.fromkeys(pdfs)),
            }
        )
    return items


def parse_listing(body: bytes, base: str, selectors: dict[str, str]) -> list[dict[str, Any]]:
    """Items of an HTML page by CSS selectors: ``item`` (required), and inside it ``title``, ``link``,
    ``date``, ``summary``, ``pdf`` (each optional: the item's first link gives title and link)."""
    if not selectors.get("item"):
        raise ValueError("options.selectors.item is required for an html_listing source")
    soup = BeautifulSoup(body, "html.parser")
    nodes = soup.select(selectors["item"])
    if not nodes:
        raise ValueError(f"no element matches the item selector {selectors['item']!r}")
    items = []
    for node in nodes:
        title_node = _one(node, selectors.get("title")) or _one(node, "a")
        link_node = _one(node, selectors.get("link")) or _one(node, "a[href]")
        title = " ".join(title_node.get_text(" ").split()) if title_node else ""
        href = link_node.get("href") if link_node else None
        link = urljoin(base, str(href)) if href else None
        if not title or not link:
            continue
        date_node = _one(node, selectors.get("date"))
        summary_node = _one(node, selectors.get("summary"))
        pdfs = [urljoin(base, str(a.get("href"))) for a in node.select(selectors.get("pdf", DEFAULT_PDF_SELECTOR))
                if a.get("href")]
        if link.lower().endswith(".pdf"):
            pdfs.insert(0, link)
        items.append(
            {
                "key": _key(link),
                "title": title,
                "link": link,
                "published": _date(date_node),
                "summary": " ".join(summary_node.get_text(" ").split()) if summary_node else "",
                "pdf_links": list(dict.fromkeys(pdfs)),
            }
        )
    return items


def _one(node: Tag, selector: str | None) -> Tag | None:
    return node.select_one(selector) if selector else None


def _date(node: Tag | None) -> str | None:
    if node is None:
        return None
    value = node.get("datetime") or node.get_text(" ")
    return parse_date(str(value).strip()[:10]) if value else None
