"""What requests repeat, computed once per generation of what it is computed from, and bounded.

A match asks the catalog for the most active actors on its main mission (an aggregation over every actor:
~0.2 s on the whole corpus) and embeds the stored objectives of its hits; the next match asks the same of the
same catalog and, as often as not, of the same hits. ``PerGeneration`` keeps those answers until the index (or
the catalog) they came from changes (``version()``: an Edge generation, the catalog file's stamp), at most
``size`` of them, the least recently used dropped first: a long-running server holds a bounded amount whatever
its callers ask. Search keeps its query vectors in one too, with a version that never changes (a text's
vector is fixed under one embedder).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class PerGeneration(Generic[K, V]):
    """A bounded cache emptied whenever ``version()`` changes. Safe across the model pool's threads; two threads
    missing the same key at once both compute it (the cost of a miss, not a wrong answer)."""

    def __init__(self, version: Callable[[], Hashable], size: int) -> None:
        if size < 1:
            raise ValueError(f"a cache needs room for at least one value, got {size}.")
        self.version = version
        self.size = size
        self._values: OrderedDict[K, V] = OrderedDict()
        self._generation: Hashable = None
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._values)

    def _current(self) -> None:
        """Empty the cache if the generation moved on (under the lock)."""
        generation = self.version()
        if generation != self._generation:
            self._values.clear()
            self._generation = generation

    def peek(self, key: K) -> V | None:
        """The value kept for ``key`` (now the most recently used), or None; nothing is computed."""
        with self._lock:
            self._current()
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
        return value

    def get(self, key: K, compute: Callable[[], V]) -> V:
        return self.get_many([key], lambda missing: [compute()])[0]

    def get_many(self, keys: Sequence[K], compute: Callable[[list[K]], Sequence[V]]) -> list[V]:
        """The values of ``keys``, the missing ones computed together by ``compute(missing)`` (one value per
        missing key, in order): one model call for a batch instead of one per key."""
        with self._lock:
            self._current()
            generation = self._generation
            found = {k: self._values[k] for k in keys if k in self._values}
            for k in found:
                self._values.move_to_end(k)
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if missing:
            computed = list(compute(missing))
            if len(computed) != len(missing):
                raise ValueError(f"compute gave {len(computed)} values for {len(missing)} keys.")
            found.update(zip(missing, computed, strict=True))
            with self._lock:
                if self._generation == generation:  # else computed from what has just been replaced
                    for k, v in zip(missing, computed, strict=True):
                        self._values[k] = v
                        self._values.move_to_end(k)
                    while len(self._values) > self.size:
                        self._values.popitem(last=False)
        return [found[k] for k in keys]
