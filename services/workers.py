"""The one pool the model's work runs in, off the event loop.

Embedding a query, a match or an overlaps request keeps a core busy for milliseconds to a second. Run on the
event loop it would stall every other request (``/health`` included); run in the server's general thread pool
(40 threads) it would start 40 model calls at once on two cores, each slower than the last, and every buffer
they allocate at once. Here at most as many calls run as the embedder has cores; the others wait their turn
in the queue, where waiting costs nothing.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class ModelWorkers:
    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"the model's pool needs at least one thread, got {size}.")
        self.size = size
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="model")

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` on the pool, awaited."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
