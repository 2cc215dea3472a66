"""The HTTP layer against a real server on 127.0.0.1: conditional requests, retries, caps, redirects."""

from __future__ import annotations

from pathlib import Path

import pytest

from convergenze.corpora.http import USER_AGENT, FetchError, FetchPolicy, HttpFetcher
from convergenze.corpora.state import StateStore
from tests.local_server import LOCAL, LocalSite, Request, Response, serve


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def fetcher(tmp_path: Path, sleep: Sleeps | None = None, **policy: float) -> HttpFetcher:
    settings = {"min_interval": 0.0, "retries": 2, "backoff": 1.0, "timeout": 5.0, "net": LOCAL, **policy}
    return HttpFetcher(
        FetchPolicy(**settings),  # type: ignore[arg-type]
        state=StateStore(tmp_path / "state.sqlite"),
        cache_dir=tmp_path / "http",
        sleep=sleep or Sleeps(),
    )


def etag_route(body: bytes, etag: str = '"v1"') -> object:
    def route(request: Request) -> Response:
        if request.headers.get("if-none-match") == etag:
            return Response(304, headers={"ETag": etag})
        return Response(200, body, {"ETag": etag, "Content-Type": "application/json"})

    return route


def test_etag_makes_the_second_request_conditional_and_a_304_returns_the_cached_body(tmp_path: Path) -> None:
    site = LocalSite(routes={"/data.json": etag_route(b'{"a": 1}')})  # type: ignore[dict-item]
    with serve(site), fetcher(tmp_path) as http:
        first = http.get(site.url("/data.json"))
        second = http.get(site.url("/data.json"))
    assert (first.not_modified, second.not_modified) == (False, True)
    assert second.body == first.body == b'{"a": 1}'
    assert "if-none-match" not in site.requests[0].headers
    assert site.requests[1].headers["if-none-match"] == '"v1"'
    assert site.requests[0].headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("Convergenze/") and "+http" in USER_AGENT


def test_last_modified_is_sent_back_as_if_modified_since(tmp_path: Path) -> None:
    stamp = "Wed, 21 Oct 2026 07:28:00 GMT"

    def route(request: Request) -> Response:
        if request.headers.get("if-modified-since") == stamp:
            return Response(304)
        return Response(200, b"x;y\n1;2\n", {"Last-Modified": stamp})

    site = LocalSite(routes={"/file.csv": route})
    with serve(site), fetcher(tmp_path) as http:
        http.get(site.url("/file.csv"))
        again = http.get(site.url("/file.csv"))
    assert again.not_modified and again.body == b"x;y\n1;2\n"


def test_the_validators_survive_a_restart(tmp_path: Path) -> None:
    site = LocalSite(routes={"/data.json": etag_route(b"[1]")})  # type: ignore[dict-item]
    with serve(site):
        with fetcher(tmp_path) as http:
            http.get(site.url("/data.json"))
        with fetcher(tmp_path) as http:  # a new process: same state file
            assert http.get(site.url("/data.json")).not_modified


def test_server_errors_are_retried_with_exponential_backoff(tmp_path: Path) -> None:
    answers = iter([Response(503), Response(500), Response(200, b"ok")])
    site = LocalSite(routes={"/flaky": lambda request: next(answers)})
    sleeps = Sleeps()
    with serve(site), fetcher(tmp_path, sleeps, backoff=0.5) as http:
        assert http.get(site.url("/flaky")).body == b"ok"
    assert len(site.hits("/flaky")) == 3
    assert sleeps.calls == [0.5, 1.0]


def test_a_server_that_keeps_failing_is_a_retryable_error(tmp_path: Path) -> None:
    site = LocalSite(routes={"/down": lambda request: Response(500)})
    with serve(site), fetcher(tmp_path, retries=2) as http, pytest.raises(FetchError) as error:
        http.get(site.url("/down"))
    assert error.value.retryable
    assert "500" in str(error.value) and "3 attempts" in str(error.value)
    assert len(site.hits("/down")) == 3


def test_429_honours_retry_after(tmp_path: Path) -> None:
    answers = iter([Response(429, headers={"Retry-After": "7"}), Response(200, b"ok")])
    site = LocalSite(routes={"/busy": lambda request: next(answers)})
    sleeps = Sleeps()
    with serve(site), fetcher(tmp_path, sleeps, backoff=1.0) as http:
        http.get(site.url("/busy"))
    assert sleeps.calls == [7.0]


def test_client_errors_are_not_retried(tmp_path: Path) -> None:
    site = LocalSite()
    with serve(site), fetcher(tmp_path) as http, pytest.raises(FetchError) as error:
        http.get(site.url("/missing"))
    assert not error.value.retryable and "404" in str(error.value)
    assert len(site.requests) == 1


def test_a_timeout_is_retried_then_reported(tmp_path: Path) -> None:
    site = LocalSite(routes={"/slow": lambda request: Response(200, b"late", delay=1.5)})
    with serve(site), fetcher(tmp_path, retries=1, timeout=0.3) as http, pytest.raises(FetchError) as error:
        http.get(site.url("/slow"))
    assert error.value.retryable and "timed out" in str(error.value)
    assert len(site.hits("/slow")) == 2


def test_a_redirect_loop_is_a_plain_error(tmp_path: Path) -> None:
    site = LocalSite(
        routes={
            "/a": lambda request: Response(302, headers={"Location": "/b"}),
            "/b": lambda request: Response(302, headers={"Location": "/a"}),
        }
    )
    with serve(site), fetcher(tmp_path, max_redirects=4) as http, pytest.raises(FetchError) as error:
        http.get(site.url("/a"))
    assert "redirect loop" in str(error.value) and not error.value.retryable
    assert len(site.requests) == 5


def test_a_body_over_the_cap_is_refused(tmp_path: Path) -> None:
    site = LocalSite(routes={"/huge": lambda request: Response(200, b"x" * 50_000)})
    with serve(site), fetcher(tmp_path, max_bytes=10_000) as http, pytest.raises(FetchError) as error:
        http.get(site.url("/huge"))
    assert "over the 10,000-byte cap" in str(error.value) and not error.value.retryable


def test_a_body_without_length_over_the_cap_is_refused_while_streaming(tmp_path: Path) -> None:
    site = LocalSite(
        routes={
            "/stream": lambda request: Response(200, b"y" * 50_000, unsized=True)
        }
    )
    with serve(site), fetcher(tmp_path, max_bytes=10_000) as http, pytest.raises(FetchError) as error:
        http.get(site.url("/stream"))
    assert "over the 10,000-byte cap" in str(error.value)


def test_requests_to_one_host_are_spaced(tmp_path: Path) -> None:
    site = LocalSite(routes={"/p": lambda request: Response(200, b"ok")})
    sleeps = Sleeps()
    now = [100.0]
    with serve(site):
        http = HttpFetcher(FetchPolicy(min_interval=5.0, net=LOCAL), sleep=sleeps, clock=lambda: now[0])
        with http:
            http.get(site.url("/p"))
            now[0] += 1.0
            http.get(site.url("/p"))
    assert sleeps.calls == [4.0]
