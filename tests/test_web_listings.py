"""Feed (RSS/Atom) and HTML-listing sources served from 127.0.0.1, with real call PDFs linked from them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from convergenze.corpora.connectors.base import SourceSpec
from convergenze.corpora.http import FetchPolicy, HttpFetcher
from convergenze.corpora.live import ListingOutcome
from convergenze.corpora.registry import SourceResolver, build_connector, load_sources
from convergenze.corpora.state import StateStore
from tests.local_server import LOCAL, LocalSite, Request, Response, serve

PDF = "cciaa_avviso_contributi_terzi.pdf"


def resolver(tmp_path: Path) -> SourceResolver:
    state = StateStore(tmp_path / "state.sqlite")
    http = HttpFetcher(FetchPolicy(min_interval=0.0, retries=0, timeout=5.0, net=LOCAL), state=state,
                       cache_dir=tmp_path / "http")
    return SourceResolver(None, tmp_path / "cache", fetcher=http, state=state)


def etagged(body: bytes, content_type: str) -> Any:
    etag = f'"{len(body)}"'

    def route(request: Request) -> Response:
        if request.headers.get("if-none-match") == etag:
            return Response(304, headers={"ETag": etag})
        return Response(200, body, {"ETag": etag, "Content-Type": content_type})

    return route


RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Bandi</title><link>{base}/</link><description>Bandi aperti</description>
<item><title>Avviso contributi alle imprese per la partecipazione a fiere</title>
  <link>{base}/bandi/fiere</link><guid>bando-fiere-2026</guid>
  <pubDate>Tue, 03 Mar 2026 09:00:00 +0100</pubDate>
  <description>&lt;p&gt;Contributi a fondo perduto per le &lt;b&gt;PMI&lt;/b&gt;.&lt;/p&gt;</description>
  <enclosure url="{base}/files/{pdf}" type="application/pdf" length="1000"/></item>
<item><title>Bando con allegato mancante</title><link>{base}/bandi/mancante</link>
  <enclosure url="{base}/files/missing.pdf" type="application/pdf" length="10"/></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Avvisi</title><id>urn:avvisi</id><updated>2026-03-01T00:00:00Z</updated>
<entry><title>Avviso pubblico per i borghi</title><id>urn:avviso:1</id><updated>2026-02-20T10:00:00Z</updated>
  <link href="/avvisi/borghi"/><summary>Rigenerazione dei borghi storici.</summary></entry>
</feed>"""

LISTING = """<html><body><h1>Bandi</h1><ul class="bandi">
<li class="bando"><a class="titolo" href="/bandi/uno">Bando uno: digitalizzazione</a>
  <span class="data">15/03/2026</span><p class="abstract">Voucher per la digitalizzazione.</p>
  <a href="/files/{pdf}">Testo del bando (PDF)</a></li>
<li class="bando"><a class="titolo" href="/bandi/due">Bando due: export</a><span class="data">01/04/2026</span></li>
<li class="bando"><span>elemento senza link</span></li>
</ul></body></html>"""

DETAIL = """<html><body><h1>Bando due</h1><a href="/files/{pdf}">Allegato A</a></body></html>"""


def spec(kind: str, url: str, **options: Any) -> SourceSpec:
    return SourceSpec("web-test", kind, {"listing": "web-test/listing.json"}, urls={"listing": url}, options=options)


def test_an_rss_feed_with_linked_pdfs(corpora_dir: Path, tmp_path: Path) -> None:
    site = LocalSite()
    site.routes = {
        "/feed.xml": etagged(RSS.format(base="BASE", pdf=PDF).encode(), "application/rss+xml"),
        f"/files/{PDF}": etagged((corpora_dir / "bandi-pdf" / PDF).read_bytes(), "application/pdf"),
    }
    with serve(site):
        site.routes["/feed.xml"] = etagged(RSS.format(base=site.base, pdf=PDF).encode(), "application/rss+xml")
        source = spec("feed", site.url("/feed.xml"))
        files = resolver(tmp_path).resolve(source)
        again = resolver(tmp_path).resolve(source)
    result = build_connector(source, files, today=date(2026, 3, 10)).run()
    assert len(result.documents) == 2
    first = next(d for d in result.documents if "fiere" in d.title)
    assert first.id.startswith("web-test:") and first.url == site.url("/bandi/fiere")
    assert first.metadata["published"] == "2026-03-03"
    assert "Contributi a fondo perduto per le PMI." in first.sections[0].text
    assert len(first.sections) > 1 and first.metadata["pdfs"][0]["pages"] >= 1  # the PDF's text is in
    outcome = ListingOutcome.load(again["listing"])
    assert outcome is not None and outcome.skipped[0]["reason"].startswith("PDF not fetched")
    assert "404" in outcome.skipped[0]["reason"]
    # The second run asked conditionally: the feed and the PDF answered 304.
    assert [len(site.hits(p)) for p in ("/feed.xml", f"/files/{PDF}")] == [2, 2]
    second = site.requests[3:]
    assert [r.path for r in second] == ["/feed.xml", f"/files/{PDF}", "/files/missing.pdf"]
    assert all("if-none-match" in r.headers for r in second[:2])
    assert outcome.not_modified == 1


def test_an_atom_feed(tmp_path: Path) -> None:
    site = LocalSite(routes={"/atom": etagged(ATOM.encode(), "application/atom+xml")})
    with serve(site):
        source = spec("feed", site.url("/atom"))
        files = resolver(tmp_path).resolve(source)
    (document,) = build_connector(source, files, today=date(2026, 3, 10)).run().documents
    assert document.title == "Avviso pubblico per i borghi"
    assert document.url == site.url("/avvisi/borghi") and document.metadata["published"] == "2026-02-20"


def test_an_html_listing_by_css_selectors(corpora_dir: Path, tmp_path: Path) -> None:
    site = LocalSite(
        routes={
            "/bandi": etagged(LISTING.format(pdf=PDF).encode(), "text/html"),
            "/bandi/uno": etagged(b"<html><body>nessun allegato</body></html>", "text/html"),
            "/bandi/due": etagged(DETAIL.format(pdf=PDF).encode(), "text/html"),
            f"/files/{PDF}": etagged((corpora_dir / "bandi-pdf" / PDF).read_bytes(), "application/pdf"),
        }
    )
    selectors = {"item": "li.bando", "title": "a.titolo", "link": "a.titolo", "date": ".data",
                 "summary": ".abstract"}
    with serve(site):
        source = spec("html_listing", site.url("/bandi"), selectors=selectors, follow_links=True,
                      region=["Lombardia"])
        files = resolver(tmp_path).resolve(source)
    documents = {d.title: d for d in build_connector(source, files, today=date(2026, 3, 10)).run().documents}
    assert set(documents) == {"Bando uno: digitalizzazione", "Bando due: export"}
    one, two = documents["Bando uno: digitalizzazione"], documents["Bando due: export"]
    assert one.metadata["published"] == "2026-03-15" and "Voucher per la digitalizzazione." in one.text
    assert one.metadata["pdfs"] and two.metadata["pdfs"]  # linked on the listing, and on the notice's page
    assert two.metadata["region"] == ["Lombardia"]
    assert len(site.hits(f"/files/{PDF}")) == 2  # one URL, fetched once per item that links it


def test_a_page_that_does_not_match_the_selectors_is_reported(tmp_path: Path) -> None:
    site = LocalSite(routes={"/bandi": etagged(b"<html><body>Manutenzione</body></html>", "text/html")})
    with serve(site):
        source = spec("html_listing", site.url("/bandi"), selectors={"item": "li.bando"})
        files = resolver(tmp_path).resolve(source)
    outcome = ListingOutcome.load(files["listing"])
    assert outcome is not None and not outcome.complete
    assert "no element matches the item selector 'li.bando'" in outcome.skipped[0]["reason"]
    assert build_connector(source, files, today=date(2026, 3, 10)).run().documents == []


@pytest.mark.parametrize("kind", ["feed", "html_listing"])
def test_example_sources_are_declared_and_off_by_default(kind: str) -> None:
    examples = [s for s in load_sources() if s.kind == kind]
    assert examples and all(not s.enabled and s.licence and s.urls for s in examples)
