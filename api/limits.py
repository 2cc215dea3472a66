"""How much one caller may ask, and how much model work runs at once: the two guards a costly route opts into.

* ``rate_limited(name)``: a dependency counting requests per API key (or per address without one) in a moving
  window (the ``limits`` library); past the limit, 429 with ``Retry-After``. One line on a route:
  ``dependencies=[Depends(rate_limited("match"))]``.
* ``run_search(services, ...)``: a search, its query embedded in the model's pool (no slot: a query is short).
* ``run_model(request, fn, ...)``: runs model work (embedding, PDF reading) in the model's pool
  (``services/workers.py``, as many threads as model calls fit on the cores) while holding one of
  ``CONVERGENZE_MAX_CONCURRENT`` slots; a request that waits longer than ``CONVERGENZE_QUEUE_WAIT`` for one is
  a 503 with ``Retry-After``, so a burst queues briefly instead of piling threads and memory up. The slots say
  how many requests may be in progress; the pool, how many run on the cores at once.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.concurrency import run_in_threadpool

from convergenze.core.records import Hit, SearchFilters
from convergenze.core.settings import SecuritySettings
from convergenze.core.vocabulary import SearchMode
from convergenze.services.wiring import Services

from .errors import BUSY, RATE_LIMITED
from .models import ErrorOut
from .security import CallerDep

T = TypeVar("T")
LIMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorOut, "description": "Too many requests from this key or address (see Retry-After)."},
    503: {"model": ErrorOut, "description": "The server is busy or the index is not ready (see Retry-After)."},
}
# Creating alerts has its own, slower budget: each alert costs a search on every ingestion.
_ALERT_LIMITED = {"alerts"}


class RateLimits:
    """Moving-window counters in memory (one process; each worker of a multi-process server counts alone)."""

    def __init__(self, security: SecuritySettings) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._default = parse_many(security.rate_limit)
        self._alerts = parse_many(security.alert_rate_limit)

    def rules(self, name: str) -> list[RateLimitItem]:
        return self._alerts if name in _ALERT_LIMITED else self._default

    def wait(self, name: str, who: str) -> float | None:
        """None when ``who`` may go on (the request is counted); else the seconds until it may."""
        for rule in self.rules(name):
            if not self._limiter.hit(rule, name, who):
                reset = self._limiter.get_window_stats(rule, name, who).reset_time
                return max(1.0, reset - time.time())
        return None


class ModelSlots:
    """A bounded semaphore for model work, with a bounded wait."""

    def __init__(self, size: int, wait: float) -> None:
        self.size = size
        self.wait = wait
        self._semaphore = asyncio.Semaphore(size)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        try:
            await asyncio.wait_for(self._semaphore.acquire(), timeout=self.wait)
        except TimeoutError as error:
            raise HTTPException(status_code=503, detail=BUSY, headers={"Retry-After": "5"}) from error
        try:
            yield
        finally:
            self._semaphore.release()


def rate_limited(name: str) -> Callable[[Request, Any], None]:
    """A dependency: count this request against the caller's budget for ``name``; 429 past it."""

    def check(request: Request, caller: CallerDep) -> None:
        limits: RateLimits = request.app.state.rate_limits
        who = f"key:{caller.key.id}" if caller.key else f"address:{caller.address}"
        wait = limits.wait(name, who)
        if wait is not None:
            raise HTTPException(status_code=429, detail=RATE_LIMITED, headers={"Retry-After": str(math.ceil(wait))})

    return check


async def run_search(services: Services, query: str, filters: SearchFilters, limit: int,
                     mode: SearchMode) -> list[Hit]:
    """A search whose query is embedded in the model's pool and looked up in the server's thread pool: the
    model's threads do model work only, and BM25 alone (or a query asked before) never waits behind the model's
    queue."""
    vector = None
    if mode != SearchMode.SPARSE:
        vector = services.search.known_vector(query)
        if vector is None:
            vector = await services.workers.run(services.search.embed, query)
    return await run_in_threadpool(services.search.retrieve, query, filters, limit, mode, vector)


async def run_model(request: Request, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` in the model's pool, holding a model slot."""
    slots: ModelSlots = request.app.state.model_slots
    services: Services = request.app.state.services
    async with slots.slot():
        return await services.workers.run(function, *args)
