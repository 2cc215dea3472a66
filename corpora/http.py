"""The one way Convergenze talks to the web: a polite, conditional, bounded HTTP client.

* a User-Agent that names the project and where to find it;
* conditional requests: the ETag / Last-Modified a server sent last time go back as If-None-Match /
  If-Modified-Since, and a 304 hands back the body cached on disk ("unchanged, nothing to do");
* a minimum interval between two requests to the same host;
* retries with exponential backoff on what may pass (timeouts, dropped connections, 429 and 5xx), none on
  other 4xx; a body larger than the cap is refused; a redirect loop ends with a plain error;
* every connection, each redirect hop included, goes only where the SSRF policy allows (``netguard``);
  environment proxies are not used (a proxy would connect wherever it is asked).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from convergenze import __version__
from convergenze.core.errors import Unavailable
from convergenze.core.settings import FetchSettings

from .netguard import BlockedDestination, GuardedBackend, NetPolicy
from .state import StateStore

logger = logging.getLogger(__name__)

HOMEPAGE = "https://github.com/convergenze"
USER_AGENT = f"Convergenze/{__version__} (+{HOMEPAGE}; document intelligence for funding calls)"
_RETRY_STATUS = {429, 500, 502, 503, 504}


class FetchError(Unavailable):
    """A request that failed; ``retryable`` says whether trying again later may help (a network failure,
    a server error) or not (a 404, a body over the cap, a redirect loop)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    user_agent: str = USER_AGENT
    timeout: float = 30.0
    max_bytes: int = 200 * 1024 * 1024
    max_redirects: int = 5
    min_interval: float = 1.0
    retries: int = 3
    backoff: float = 1.0
    max_backoff: float = 60.0
    net: NetPolicy = field(default_factory=NetPolicy)

    @classmethod
    def from_settings(cls, fetching: FetchSettings) -> FetchPolicy:
        return cls(timeout=fetching.timeout, max_bytes=fetching.max_bytes, min_interval=fetching.min_interval,
                   retries=fetching.retries, backoff=fetching.backoff, max_redirects=fetching.max_redirects,
                   net=NetPolicy.from_settings(fetching))


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str
    body: bytes
    headers: dict[str, str]
    not_modified: bool = False

    def json(self) -> Any:
        import json

        return json.loads(self.body.decode("utf-8"))


class HttpFetcher:
    """GETs (conditional when a state store is given) and POSTs with the policy above.

    ``sleep`` and ``clock`` are injectable so that tests can see the waits without waiting."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        state: StateStore | None = None,
        cache_dir: Path | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if state is not None and cache_dir is None:
            raise ValueError("A state store needs a cache_dir for the bodies it validates.")
        self.policy = policy or FetchPolicy()
        self.state = state
        self.cache_dir = cache_dir
        self.sleep = sleep
        self.clock = clock
        self.requests = 0
        self._last_request: dict[str, float] = {}
        self._client = httpx.Client(
            transport=guarded_transport(self.policy.net),
            timeout=self.policy.timeout,
            headers={"User-Agent": self.policy.user_agent},
            follow_redirects=True,
            max_redirects=self.policy.max_redirects,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpFetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- public ----

    def get(self, url: str, *, params: dict[str, Any] | None = None, conditional: bool = True) -> Fetched:
        """The body of ``url``; with ``conditional`` and a state store, a 304 returns the cached body with
        ``not_modified=True``."""
        full = full_url(url, params)
        validators = self.state.validators(full) if (conditional and self.state is not None) else None
        cached = validators.body_path if validators and validators.body_path and validators.body_path.exists() else None
        headers: dict[str, str] = {}
        if cached is not None and validators is not None:
            if validators.etag:
                headers["If-None-Match"] = validators.etag
            if validators.last_modified:
                headers["If-Modified-Since"] = validators.last_modified
        status, body, response_headers = self._send("GET", full, headers=headers)
        if status == 304:
            if cached is None:
                raise FetchError(f"{full} answered 304 Not Modified to a request that was not conditional",
                                 retryable=False)
            return Fetched(full, cached.read_bytes(), response_headers, not_modified=True)
        if self.state is not None and self.cache_dir is not None and conditional:
            path = self.cache_dir / hashlib.sha256(full.encode("utf-8")).hexdigest()
            _write_atomic(path, body)
            self.state.save_validators(
                full, response_headers.get("etag"), response_headers.get("last-modified"), path
            )
        return Fetched(full, body, response_headers)

    def post(self, url: str, *, params: dict[str, Any] | None = None, files: dict[str, Any] | None = None,
             content: bytes | None = None, headers: dict[str, str] | None = None,
             follow_redirects: bool = True) -> Fetched:
        """A POST (a search API's query, a webhook): never conditional, retried like a GET. Without
        ``follow_redirects`` a 3xx answer is a failure (a webhook's body and signature go nowhere else)."""
        full = full_url(url, params)
        _, body, response_headers = self._send("POST", full, headers=headers, files=files, content=content,
                                               follow_redirects=follow_redirects)
        return Fetched(full, body, response_headers)

    # ---- internals ----

    def _send(self, method: str, url: str, *, headers: dict[str, str] | None = None,
              files: dict[str, Any] | None = None, content: bytes | None = None,
              follow_redirects: bool = True) -> tuple[int, bytes, dict[str, str]]:
        attempt = 0
        while True:
            self._wait_turn(url)
            try:
                return self._once(method, url, headers or {}, files, content, follow_redirects)
            except _Transient as error:
                if attempt >= self.policy.retries:
                    raise FetchError(
                        f"{url}: {error} (gave up after {attempt + 1} attempts)", retryable=True
                    ) from error
                delay = min(self.policy.backoff * 2**attempt, self.policy.max_backoff)
                if error.retry_after is not None:
                    delay = min(max(delay, error.retry_after), self.policy.max_backoff)
                logger.warning("%s: %s; retrying in %.1f s", url, error, delay)
                self.sleep(delay)
                attempt += 1

    def _wait_turn(self, url: str) -> None:
        host = urlsplit(url).netloc
        last = self._last_request.get(host)
        if last is not None:
            wait = self.policy.min_interval - (self.clock() - last)
            if wait > 0:
                self.sleep(wait)
        self._last_request[host] = self.clock()

    def _once(self, method: str, url: str, headers: dict[str, str], files: dict[str, Any] | None,
              content: bytes | None, follow_redirects: bool) -> tuple[int, bytes, dict[str, str]]:
        self.requests += 1
        try:
            with self._client.stream(method, url, headers=headers, files=files, content=content,
                                     follow_redirects=follow_redirects) as response:
                status = response.status_code
                response_headers = {k.lower(): v for k, v in response.headers.items()}
                if status in _RETRY_STATUS:
                    raise _Transient(f"the server answered {status}", _retry_after(response_headers))
                if status == 304:
                    return status, b"", response_headers
                if status >= 400:
                    raise FetchError(f"{url}: the server answered {status}", retryable=False)
                if response.is_redirect:
                    raise FetchError(f"{url}: the server answered {status}, a redirect, which is not followed here",
                                     retryable=False)
                return status, self._read_capped(response, url), response_headers
        except BlockedDestination as error:
            raise FetchError(f"{url}: refused: {error}", retryable=False) from error
        except httpx.UnsupportedProtocol as error:
            raise FetchError(f"{url}: refused: only http and https URLs are allowed", retryable=False) from error
        except httpx.TooManyRedirects as error:
            raise FetchError(
                f"{url}: redirect loop or more than {self.policy.max_redirects} redirects", retryable=False
            ) from error
        except httpx.TimeoutException as error:
            raise _Transient(f"timed out after {self.policy.timeout:g} s") from error
        except httpx.TransportError as error:
            raise _Transient(f"connection failed ({type(error).__name__}: {error})") from error

    def _read_capped(self, response: httpx.Response, url: str) -> bytes:
        cap = self.policy.max_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise FetchError(f"{url}: refused, the body is {int(declared):,} bytes, over the {cap:,}-byte cap",
                             retryable=False)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > cap:
                raise FetchError(f"{url}: refused, the body is over the {cap:,}-byte cap", retryable=False)
            chunks.append(chunk)
        return b"".join(chunks)


def download(fetcher: HttpFetcher, url: str, target: Path) -> Path:
    """``url`` saved at ``target``; a 304 keeps the file already there (unchanged since the last download)."""
    fetched = fetcher.get(url)
    if fetched.not_modified and target.exists():
        return target
    _write_atomic(target, fetched.body)
    return target
def guarded_transport(policy: NetPolicy) -> httpx.HTTPTransport:
    """httpx's transport whose connections go through ``GuardedBackend``: httpx takes no network backend, so its
    connection pool is rebuilt with one (the same settings httpx's default pool has)."""
    transport = httpx.HTTPTransport()
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(), max_connections=100, max_keepalive_connections=20,
        keepalive_expiry=5.0, network_backend=GuardedBackend(policy),
    )
    return transport


def full_url(url: str, params: dict[str, Any] | None) -> str:
    """``url`` with ``params`` added to the query it already has (a listing URL carries its own filters)."""
    return str(httpx.URL(url).copy_merge_params(params)) if params else url


class _Transient(Exception):
    """A failure worth retrying (internal to the retry loop)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(headers: dict[str, str]) -> float | None:
    value = headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def _write_atomic(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(body)
    partial.replace(path)
