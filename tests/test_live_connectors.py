"""Live connectors: the shared captures served page by page from 127.0.0.1, parsed by the same connectors
that read the mirror; resume after a failure, malformed pages, 304s and conditional CSV downloads."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from convergenze.corpora.connectors.base import SourceSpec
from convergenze.corpora.http import FetchPolicy, HttpFetcher
from convergenze.corpora.live import EU_FIELDS, ListingOutcome
from convergenze.corpora.registry import (
    SourceResolver,
    SourceUnavailable,
    build_connector,
    load_sources,
    select_sources,
)
from convergenze.corpora.state import StateStore
from tests.local_server import LOCAL, LocalSite, Request, Response, serve

TODAY = date(2026, 11, 24)


def capture(corpora_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((corpora_dir / "regional-api-captures" / name).read_text(encoding="utf-8"))


def resolver(tmp_path: Path, retries: int = 0) -> SourceResolver:
    state = StateStore(tmp_path / "state" / "state.sqlite")
    http = HttpFetcher(
        FetchPolicy(min_interval=0.0, retries=retries, backoff=0.0, timeout=5.0, net=LOCAL),
        state=state,
        cache_dir=tmp_path / "cache" / "http",
    )
    return SourceResolver(None, tmp_path / "cache", fetcher=http, state=state)


def live_spec(name: str, url: str, key: str | None = None, **options: Any) -> SourceSpec:
    """The source read from ``url`` alone: its file ``key`` (the first when not named), the others left out."""
    (spec,) = select_sources(load_sources(), [name])
    key = key or next(iter(spec.files))
    return replace(spec, files={key: spec.files[key]}, urls={key: url}, options={**spec.options, **options})


def etagged(request: Request, body: bytes, headers: dict[str, str] | None = None) -> Response:
    etag = '"' + str(abs(hash(body))) + '"'
    if request.headers.get("if-none-match") == etag:
        return Response(304, headers={"ETag": etag})
    return Response(200, body, {"ETag": etag, "Content-Type": "application/json", **(headers or {})})


def plone_route(items: list[Any], fail: dict[int, Response] | None = None) -> Any:
    """Plone ``@search``: b_start/b_size batches with items_total."""

    def route(request: Request) -> Response:
        start, size = int(request.query.get("b_start", 0)), int(request.query.get("b_size", 25))
        if fail and start in fail:
            return fail.pop(start)
        page = {"@id": request.path, "items_total": len(items), "items": items[start : start + size]}
        return etagged(request, json.dumps(page).encode())

    return route


def read(spec: SourceSpec, files: dict[str, Path]) -> list[str]:
    return sorted(d.id for d in build_connector(spec, files, today=TODAY).run().documents)


def test_plone_pages_are_read_into_the_same_documents_as_the_capture(corpora_dir: Path, tmp_path: Path) -> None:
    items = capture(corpora_dir, "emilia-romagna_plone_search_bando.json")["items"]
    site = LocalSite(routes={"/++api++/@search": plone_route(items)})
    with serve(site):
        spec = live_spec("emilia-romagna", site.url("/++api++/@search?portal_type=Bando"), page_size=5)
        files = resolver(tmp_path).resolve(spec)
    (mirror_spec,) = select_sources(load_sources(), ["emilia-romagna"])
    mirror_files = SourceResolver(corpora_dir, tmp_path, allow_download=False).resolve(mirror_spec)
    assert read(spec, files) == read(mirror_spec, mirror_files)
    assert len(read(spec, files)) == 18
    assert [r.query["b_start"] for r in site.requests] == ["0", "5", "10", "15"]
    assert all(r.query["portal_type"] == "Bando" for r in site.requests)
    outcome = ListingOutcome.load(files["search"])
    assert outcome is not None and outcome.complete and outcome.pages == 4


def test_an_unchanged_listing_is_all_304s_on_the_next_run(corpora_dir: Path, tmp_path: Path) -> None:
    items = capture(corpora_dir, "emilia-romagna_plone_search_bando.json")["items"]
    site = LocalSite(routes={"/s": plone_route(items)})
    with serve(site):
        spec = live_spec("emilia-romagna", site.url("/s"), page_size=10)
        resolver(tmp_path).resolve(spec)
        files = resolver(tmp_path).resolve(spec)
    outcome = ListingOutcome.load(files["search"])
    assert outcome is not None and outcome.not_modified == outcome.pages == 2
    assert all("if-none-match" in r.headers for r in site.requests[2:])
    assert len(read(spec, files)) == 18


def test_a_listing_killed_half_way_resumes_where_it_stopped(corpora_dir: Path, tmp_path: Path) -> None:
    items = capture(corpora_dir, "emilia-romagna_plone_search_bando.json")["items"]
    site = LocalSite(routes={"/s": plone_route(items, fail={10: Response(500)})})
    with serve(site):
        spec = live_spec("emilia-romagna", site.url("/s"), page_size=5)
        with pytest.raises(SourceUnavailable) as error:
            resolver(tmp_path).resolve(spec)
        assert error.value.retryable and "500" in str(error.value)
        first_run = [r.query["b_start"] for r in site.requests]
        files = resolver(tmp_path).resolve(spec)
    second_run = [r.query["b_start"] for r in site.requests[len(first_run) :]]
    assert first_run == ["0", "5", "10"]
    assert second_run == ["10", "15"]  # pages 1-2 come from the cache, not from the server again
    ids = read(spec, files)
    assert len(ids) == len(set(ids)) == 18
    outcome = ListingOutcome.load(files["search"])
    assert outcome is not None and outcome.resumed_at == 2


def test_a_malformed_page_is_skipped_and_the_listing_marked_incomplete(corpora_dir: Path, tmp_path: Path) -> None:
    items = capture(corpora_dir, "emilia-romagna_plone_search_bando.json")["items"]
    site = LocalSite(routes={"/s": plone_route(items, fail={5: Response(200, b"<html>maintenance</html>")})})
    with serve(site):
        spec = live_spec("emilia-romagna", site.url("/s"), page_size=5)
        files = resolver(tmp_path).resolve(spec)
    outcome = ListingOutcome.load(files["search"])
    assert outcome is not None and not outcome.complete
    assert outcome.skipped[0]["ref"] == "page 2" and "not valid JSON" in outcome.skipped[0]["reason"]
    assert len(read(spec, files)) == 13


def test_wordpress_pages_follow_x_wp_totalpages(corpora_dir: Path, tmp_path: Path) -> None:
    posts = capture(corpora_dir, "lazioinnova_wp_bandi.json")["posts"]

    def route(request: Request) -> Response:
        page, size = int(request.query["page"]), int(request.query["per_page"])
        pages = -(-len(posts) // size)
        if page > pages:
            return Response(400, b'{"code": "rest_post_invalid_page_number"}')
        body = json.dumps(posts[(page - 1) * size : page * size]).encode()
        return etagged(request, body, {"X-WP-Total": str(len(posts)), "X-WP-TotalPages": str(pages)})

    site = LocalSite(routes={"/wp-json/wp/v2/bandi": route})
    with serve(site):
        spec = live_spec("lazio-innova", site.url("/wp-json/wp/v2/bandi"), page_size=4)
        files = resolver(tmp_path).resolve(spec)
    assert [r.query["page"] for r in site.requests] == ["1", "2", "3", "4"]
    assert len(read(spec, files)) == 15


def test_incentivi_solr_pages_follow_num_found(corpora_dir: Path, tmp_path: Path) -> None:
    docs = capture(corpora_dir, "incentivi_solr_select.json")["docs"]

    def route(request: Request) -> Response:
        start, rows = int(request.query["start"]), int(request.query["rows"])
        body = {"responseHeader": {"status": 0}, "response": {"numFound": len(docs), "start": start,
                                                               "docs": docs[start : start + rows]}}
        return etagged(request, json.dumps(body).encode())

    site = LocalSite(routes={"/solr/select": route})
    with serve(site):
        spec = live_spec("incentivi-gov", site.url("/solr/select?q=*:*"), "select", page_size=5)
        files = resolver(tmp_path).resolve(spec)
    assert [r.query["start"] for r in site.requests] == ["0", "5", "10"]
    assert len(read(spec, files)) == 13


def test_the_newest_export_linked_from_the_open_data_page_is_downloaded(corpora_dir: Path, tmp_path: Path) -> None:
    records = json.loads((corpora_dir / "incentivi-opendata/opendata-export-sample.json").read_text("utf-8"))
    exports = {"/files/2025-7-12_opendata-export.json": records[:4], "/files/2025-7-9_opendata-export.json": []}
    page = (b'<html><body><a href="/files/2025-7-9_opendata-export.json">JSON 9 luglio</a>'
            b'<a href="/files/2025-7-12_opendata-export.json">JSON 12 luglio</a>'
            b'<a href="/files/2025-7-12_opendata-export.csv">CSV</a></body></html>')
    routes: dict[str, Any] = {"/it/open-data": lambda request: etagged(request, page)}
    for path, body in exports.items():
        routes[path] = lambda request, body=body: etagged(request, json.dumps(body).encode())
    site = LocalSite(routes=routes)
    with serve(site):
        spec = live_spec("incentivi-gov", site.url("/it/open-data"), "export")
        files = resolver(tmp_path).resolve(spec)
        again = resolver(tmp_path).resolve(spec)
    assert [r.path for r in site.requests] == ["/it/open-data", "/files/2025-7-12_opendata-export.json"] * 2
    assert files == again
    assert read(spec, files) == sorted(f"incentivi:{r['ID_Incentivo']}" for r in records[:4])


def test_eu_search_api_results_are_mapped_to_topic_records(corpora_dir: Path, tmp_path: Path) -> None:
    topics = json.loads((corpora_dir / "eu-funding-tenders/topics.json").read_text(encoding="utf-8"))[:7]
    results = [
        {"metadata": {key: [t[flat]] for flat, key in EU_FIELDS.items() if t.get(flat)} | {
            "deadlineDate": [f"{t['deadline']}T17:00:00.000+0000"], "status": ["31094502"]}}
        for t in topics
    ]
    seen_queries: list[bytes] = []

    def route(request: Request) -> Response:
        seen_queries.append(request.body)
        number, size = int(request.query["pageNumber"]), int(request.query["pageSize"])
        page = results[(number - 1) * size : number * size]
        return Response(200, json.dumps({"totalResults": len(results), "results": page}).encode())

    site = LocalSite(routes={"/search-api/prod/rest/search": route})
    with serve(site):
        spec = live_spec("eu-funding-tenders", site.url("/search-api/prod/rest/search"), page_size=3,
                         programmes=["43108390"], programme_names={"43108390": "Horizon Europe"})
        files = resolver(tmp_path).resolve(spec)
    assert [r.method for r in site.requests] == ["POST"] * 3
    assert b"43108390" in seen_queries[0] and b"frameworkProgramme" in seen_queries[0]
    documents = build_connector(spec, files, today=TODAY).run().documents
    assert sorted(d.id for d in documents) == sorted(f"eu-topic:{t['topicId']}" for t in topics)
    first = next(d for d in documents if d.id == f"eu-topic:{topics[0]['topicId']}")
    assert first.metadata["deadline"] == topics[0]["deadline"]
    assert first.metadata["programme"] == ["Horizon Europe"]


def test_a_csv_is_downloaded_again_only_when_its_etag_changes(tmp_path: Path) -> None:
    version = {"etag": '"a"', "body": b"Numero;Titolo\n1;Bando uno\n"}

    def route(request: Request) -> Response:
        if request.headers.get("if-none-match") == version["etag"]:
            return Response(304)
        return Response(200, version["body"], {"ETag": str(version["etag"])})  # type: ignore[arg-type]

    site = LocalSite(routes={"/PNRR_Bandi_e_Avvisi.csv": route})
    with serve(site):
        spec = SourceSpec("calls", "pnrr_calls", {"calls": "italia-domani/PNRR_Bandi_e_Avvisi.csv"},
                          urls={"calls": site.url("/PNRR_Bandi_e_Avvisi.csv")})
        first = resolver(tmp_path).resolve(spec)["calls"]
        mtime = first.stat().st_mtime_ns
        assert resolver(tmp_path).resolve(spec)["calls"].stat().st_mtime_ns == mtime  # 304: untouched
        version.update(etag='"b"', body=b"Numero;Titolo\n1;Bando uno\n2;Bando due\n")
        changed = resolver(tmp_path).resolve(spec)["calls"]
    assert changed.read_bytes().endswith(b"2;Bando due\n")
    assert [r.headers.get("if-none-match") for r in site.requests] == [None, '"a"', '"a"']
