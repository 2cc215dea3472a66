"""Which document each point of the index belongs to, as searches need it to group their pool by document."""

from __future__ import annotations

from collections.abc import Callable, Sequence

# How many points' documents a store remembers: about 20 MB, the whole shared corpus (57k points) four times over.
DOCUMENTS_KEPT = 200_000


class DocumentsOfPoints:
    """Which document each point belongs to, remembered for the points searches have pooled.

    A search ranks a pool of chunks (several per document) and keeps each document's best one, so it needs every
    pooled chunk's document id. The engine parses a point's whole payload to give even one field of it (~0.1 ms a
    point on the whole corpus, whose calls carry their extraction on every chunk): reading the pool's ids was half
    of a search (5.5 of 11 ms for a pool of 50; a match pools 150). A point's id hashes its document's id in
    (``Chunk.point_id``), so the answer never changes: it is read once per process, whatever generation or
    server the point is read from later. Bounded: past ``size`` points it starts again from empty.
    """

    def __init__(self, size: int = DOCUMENTS_KEPT) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, got {size}.")
        self.size = size
        self._known: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._known)

    def lookup(self, point_ids: Sequence[str], read: Callable[[list[str]], dict[str, str]]) -> dict[str, str]:
        """``point id -> document id`` for the ids that exist; ``read(missing)`` reads the others (a point it
        does not return is gone, and is not remembered)."""
        known = self._known
        found = {i: known[i] for i in point_ids if i in known}
        missing = list(dict.fromkeys(i for i in point_ids if i not in found))
        if missing:
            read_now = read(missing)
            self.remember(read_now)
            found.update(read_now)
        return found

    @property
    def room(self) -> int:
        """How many more points can be kept before the bound."""
        return self.size - len(self._known)

    def remember(self, documents: dict[str, str]) -> None:
        """Keep ``point id -> document id`` pairs read elsewhere (past the bound, from empty)."""
        if len(documents) > self.room:
            self._known.clear()
        self._known.update(documents)
