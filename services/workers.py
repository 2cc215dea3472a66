"""The one pool the model's work runs in, off the event loop.

Embedding a query, a match or an overlaps request keeps a core busy for milliseconds to a second. Run on the
event loop it would stall every other request (``/health`` included); run in the server's general thread pool
(40 threads) it would start 40 model calls at once on two cores, each slower than the last, and every buffer
they allocate at once. Here at most as many calls run as the embedder has cores; the others wait their turn
in the queue, where waiting costs nothing.

Memory: a burst of requests leaves the C allocator holding the buffers they freed (tokenizer output, model
activations, numpy arrays), spread over up to eight arenas per core, and glibc gives an arena's memory back
only from its top: a process can keep its peak size for good. ``bound_allocator`` caps the
arenas at the pool's size (set once, before the server's threads start), and when the pool goes idle the freed
memory is handed back (``malloc_trim``), at most once a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import functools
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
_M_ARENA_MAX = -8  # glibc's mallopt parameter number
_TRIM_INTERVAL = 1.0


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (the only allocator with mallopt's arenas and malloc_trim). Looked up once:
    ``find_library`` runs ``ldconfig -p`` in a subprocess (2-6 ms here)."""
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def bound_allocator(arenas: int) -> bool:
    """At most ``arenas`` malloc arenas in this process (glibc's default is eight per core): threads share them
    instead of each keeping its own high-water mark. Left alone when MALLOC_ARENA_MAX says otherwise (glibc
    reads it at start). True if applied."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    libc = _glibc()
    return bool(libc and libc.mallopt(_M_ARENA_MAX, max(1, arenas)) == 1)


def release_memory() -> bool:
    """Give the allocator's free memory back to the system. True if some was."""
    libc = _glibc()
    return bool(libc and libc.malloc_trim(0))


class ModelWorkers:
    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"the model's pool needs at least one thread, got {size}.")
        self.size = size
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="model")
        self._lock = threading.Lock()
        self._running = 0
        self._trimmed = 0.0
        self.trims = 0

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` on the pool, awaited."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(self._call, fn, *args, **kwargs))

    def _call(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        with self._lock:
            self._running += 1
        try:
            return fn(*args, **kwargs)
        finally:
            with self._lock:
                self._running -= 1
                idle = self._running == 0 and time.monotonic() - self._trimmed >= _TRIM_INTERVAL
                if idle:
                    self._trimmed = time.monotonic()
            if idle:  # queued behind this call: its caller has its answer first (a trim took 2-6 ms here)
                with contextlib.suppress(RuntimeError):  # the pool is shutting down: so is the process
                    self._executor.submit(self._trim)

    def _trim(self) -> None:
        release_memory()
        self.trims += 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
