"""The store interface and the logic both backends share: payload shaping, filter mapping, grouping.

Backends implement a handful of primitives (``_query_chunks``, ``_scroll``, ``_count``, ``_facet``, ...)
over a backend-neutral ``FilterSpec``; everything that decides *what* is stored or matched lives here, so
the Edge and the qdrant-client backends cannot drift apart.

Payload conventions (one point = one chunk):

* ``document_id``, ``position``, ``text``, ``heading`` come from the ``Chunk``; the rest from
  ``IndexedChunk.payload``, which must carry ``content_hash`` (the document's hash, for incremental
  ingestion) and should carry ``embedder`` (the name of what made its dense vector: a change re-embeds).
* ``deadline`` is stored as an ISO 8601 string (``YYYY-MM-DD`` for dates, full ISO datetime otherwise) with a
  datetime payload index; ``date``/``datetime`` values anywhere at the top level are stored as ISO strings.
* ``language`` defaults to the chunk's language when the payload has none.
* ``position == 0`` marks a document's head chunk (the chunker always emits one): facets count documents by
  counting head chunks.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Self

from convergenze.core.errors import Unavailable
from convergenze.core.records import Hit, IndexedChunk, SearchFilters, SparseVector
from convergenze.core.vocabulary import SearchMode
from convergenze.index.store.documents_of_points import DocumentsOfPoints
from convergenze.index.store.filters import (
    ALL,
    HEAD_CHUNK,
    FilterSpec,
    Match,
    document_filter,
    filter_spec,
    language_legs,
)

DENSE_VECTOR = "dense"
SPARSE_VECTOR = "bm25"

KEYWORD_FIELDS: tuple[str, ...] = (
    "document_id", "type", "source", "language", "region", "status", "programme", "mission_codes",
    "beneficiary_types", "support_forms", "firm_sizes", "submeasure_codes",
)
DATETIME_FIELDS: tuple[str, ...] = ("deadline",)
INTEGER_FIELDS: tuple[str, ...] = ("position",)
FLOAT_FIELDS: tuple[str, ...] = ("budget",)

# Qdrant's own default k for RRF; pinned here because Edge needs it spelled out and both backends must agree.
RRF_K = 2

_CHUNK_FIELDS = ("document_id", "position", "text", "heading")
SCROLL_PAGE = 1024
_REMEMBER_PAGE = 32


class StoreBusyError(Unavailable):
    """Another writer holds the index: only one ingestion may write at a time."""


# ----------------------------------------------------------------------------------------------------------
# Points in, hits out
# ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredPoint:
    """A point as handed to a backend: id, vectors and the final payload."""

    id: str
    dense: list[float]
    sparse: SparseVector
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ScoredChunk:
    """One chunk hit as returned by a backend, before grouping by document."""

    id: str
    score: float
    payload: dict[str, Any]


def _canonical_deadline(value: Any, document_id: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        # Re-rendered so only the formats Qdrant's datetime parser accepts reach the index
        # (Python also accepts e.g. "20260301", which Qdrant would silently leave unindexed).
        parse = date.fromisoformat if len(value) == 10 else datetime.fromisoformat
        try:
            return parse(value).isoformat()
        except ValueError:
            pass
    raise ValueError(
        f"payload['deadline'] of {document_id!r} is {value!r}: pass a date, a datetime or an ISO 8601 string "
        "(e.g. '2026-03-31' or '2026-03-31T17:00:00+01:00'), or None when the call has no deadline."
    )


def _plain(value: Any) -> Any:
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    return value


def point_payload(point: IndexedChunk) -> dict[str, Any]:
    """The payload stored for ``point``: its own payload, normalised, plus the chunk's fields."""
    chunk = point.chunk
    payload = {key: _plain(value) for key, value in point.payload.items()}
    if payload.get("document_id", chunk.document_id) != chunk.document_id:
        raise ValueError(
            f"payload['document_id'] is {payload['document_id']!r} but the chunk belongs to "
            f"{chunk.document_id!r}: drop document_id from the payload, the store takes it from the chunk."
        )
    if not isinstance(payload.get("content_hash"), str):
        raise ValueError(
            f"payload of {chunk.document_id!r} has no 'content_hash': set payload['content_hash'] = "
            "document.content_hash, incremental ingestion compares it with document_hashes()."
        )
    if "deadline" in point.payload:
        payload["deadline"] = _canonical_deadline(point.payload["deadline"], chunk.document_id)
    if chunk.language is not None:
        payload.setdefault("language", chunk.language)
    payload.update(document_id=chunk.document_id, position=chunk.position, text=chunk.text,
                   heading=chunk.heading)
    return payload


def best_per_document(chunks: Sequence[ScoredChunk], limit: int) -> list[ScoredChunk]:
    """Each document's best chunk, best first, at most ``limit``. Equal scores are common after RRF (the same
    rank in two language legs) and the engine returns them in no fixed order: the point id breaks the tie, so the
    same query gives the same list from every reader and every backend."""
    best: list[ScoredChunk] = []
    seen: set[str] = set()
    for chunk in sorted(chunks, key=lambda c: (-c.score, str(c.id))):
        document_id = str(chunk.payload.get("document_id", ""))
        if document_id in seen:
            continue
        seen.add(document_id)
        best.append(chunk)
        if len(best) == limit:
            break
    return best


def group_by_document(chunks: Sequence[ScoredChunk], limit: int) -> list[Hit]:
    """One hit per document, in the order of each document's best chunk (``best_per_document``)."""
    return [
        Hit(document_id=str(chunk.payload.get("document_id", "")), score=chunk.score,
            snippet=str(chunk.payload.get("text", "")),
            payload={key: value for key, value in chunk.payload.items() if key != "text"}, point_id=chunk.id)
        for chunk in best_per_document(chunks, limit)
    ]


# ----------------------------------------------------------------------------------------------------------
# The interface
# ----------------------------------------------------------------------------------------------------------


class VectorStore(ABC):
    """Chunks of documents with a dense and a BM25 sparse vector, searched per document.

    ``chunk_oversampling``: a search fetches ``limit * chunk_oversampling`` chunks and keeps each document's
    best one, so a document with many matching passages cannot crowd the others out of the page.
    """

    def __init__(
        self, *, chunk_oversampling: int = 5, batch_size: int = 256, max_facet_values: int = 1000
    ) -> None:
        if chunk_oversampling < 1:
            raise ValueError("chunk_oversampling must be at least 1 (5 is a good default).")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1.")
        if max_facet_values < 1:
            raise ValueError("max_facet_values must be at least 1.")
        self.chunk_oversampling = chunk_oversampling
        self.batch_size = batch_size
        self.max_facet_values = max_facet_values
        self.documents_of_points = DocumentsOfPoints()

    # ---- schema & lifecycle (backend) ----

    @abstractmethod
    def ensure_schema(self, dense_dim: int) -> None:
        """Create the collection/shard if missing; raise ValueError if it exists with another dense size."""

    @abstractmethod
    def schema_dim(self) -> int | None:
        """The dense vector size of the existing schema, or None before ``ensure_schema`` created one."""

    @abstractmethod
    def flush(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def optimize(self) -> None:
        """Build the HNSW/payload indexes after a bulk load (no-op where the server does it by itself)."""

    # ---- primitives (backend) ----

    @abstractmethod
    def _upsert_points(self, points: Sequence[StoredPoint]) -> None: ...

    @abstractmethod
    def delete_points(self, point_ids: Sequence[str]) -> None: ...

    @abstractmethod
    def _delete_where(self, spec: FilterSpec) -> None: ...

    @abstractmethod
    def _scroll(
        self, spec: FilterSpec, fields: Sequence[str] | None, page: int = SCROLL_PAGE
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(point id, payload) of every matching point, read ``page`` points at a time; ``fields=None`` means the
        whole payload."""

    @abstractmethod
    def _count(self, spec: FilterSpec) -> int: ...

    @abstractmethod
    def _dense_vectors(self, point_ids: Sequence[str]) -> dict[str, list[float]]: ...

    @abstractmethod
    def _facet(self, key: str, spec: FilterSpec, limit: int) -> dict[str, int]: ...

    @abstractmethod
    def _query_chunks(
        self,
        dense: list[float] | None,
        sparse: SparseVector | None,
        spec: FilterSpec,
        limit: int,
        mode: SearchMode,
        legs: Sequence[FilterSpec] = (ALL,),
    ) -> list[ScoredChunk]:
        """Chunk hits, best first. One leg and one vector (``dense``/``sparse``): the nearest chunks. Otherwise
        one list of ``limit`` chunks per vector of the mode and per leg (``spec`` narrowed by the leg), all
        fused with RRF (k=RRF_K). Ids and scores only (an empty payload): the payloads a caller needs are read
        with ``_payloads``."""

    @abstractmethod
    def _payloads(self, point_ids: Sequence[str], fields: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        """The payload of each point that exists, by point id: only ``fields`` (None: the whole payload)."""

    # ---- shared behaviour ----

    def _check_writable(self) -> None:
        """Raise ValueError when this store only reads (so the caller learns how to get a writer)."""
        return None  # every store writes unless a backend says otherwise

    def upsert(self, points: Sequence[IndexedChunk]) -> None:
        self._check_writable()
        if not points:
            return
        dim = self.schema_dim()
        if dim is None:
            raise ValueError("The store has no schema yet: call ensure_schema(dense_dim) before upsert().")
        batch: list[StoredPoint] = []
        for point in points:
            where = f"{point.chunk.document_id}#{point.chunk.position}"
            if len(point.dense) != dim:
                raise ValueError(
                    f"Chunk {where} has a {len(point.dense)}-d dense vector but the index holds {dim}-d "
                    "vectors: embed with the model the index was built with."
                )
            if len(point.sparse.indices) != len(point.sparse.values):
                raise ValueError(f"Chunk {where}: sparse indices and values differ in length.")
            batch.append(StoredPoint(point.chunk.point_id, point.dense, point.sparse, point_payload(point)))
            if len(batch) == self.batch_size:
                self._upsert_points(batch)
                batch = []
        if batch:
            self._upsert_points(batch)

    def delete_document(self, document_id: str) -> None:
        self._delete_where(document_filter(document_id))

    def _set_payload_where(self, spec: FilterSpec, values: dict[str, Any], key: str | None) -> None:
        raise NotImplementedError(f"{type(self).__name__} cannot update payloads in place.")

    def set_document_fields(self, document_id: str, values: dict[str, Any]) -> None:
        """Set top-level payload fields on every point of a document, and the same keys in its ``metadata``:
        a status change (closed, withdrawn) without re-embedding the document."""
        self._check_writable()
        if not values:
            return
        self._set_payload_where(document_filter(document_id), values, None)
        self._set_payload_where(document_filter(document_id), values, "metadata")

    def document_hashes(self, source: str | None = None, *, embedder: str | None = None) -> dict[str, str | None]:
        """``document_id -> content_hash`` of every stored document (of one ``source`` if given). With
        ``embedder``, a document whose vectors another embedder made (or an unnamed one, before embedders were
        recorded) maps to None: it is stored, but stale, and an ingestion embeds it again."""
        spec = FilterSpec() if source is None else FilterSpec(must=(Match("source", (source,)),))
        hashes: dict[str, str | None] = {}
        for _, payload in self._scroll(spec, ("document_id", "content_hash", "embedder")):
            document_id, content_hash = payload.get("document_id"), payload.get("content_hash")
            if isinstance(document_id, str) and isinstance(content_hash, str):
                stale = embedder is not None and payload.get("embedder") != embedder
                hashes[document_id] = None if stale else content_hash
        return hashes

    def document_heads(
        self, fields: Sequence[str] | None = None, filters: SearchFilters | None = None
    ) -> Iterator[dict[str, Any]]:
        """The head chunk's payload of every stored document (one per document) matching ``filters``, in no
        particular order: listings without a query (a calendar of deadlines)."""
        for _, payload in self._scroll(filter_spec(filters).require(HEAD_CHUNK), fields):
            yield payload

    def dense_vectors(self, point_ids: Sequence[str]) -> dict[str, list[float]]:
        """The stored dense vectors of ``point_ids`` (those that exist): results can be compared with a text
        without embedding their passages again."""
        ids = [i for i in dict.fromkeys(point_ids) if i]
        return self._dense_vectors(ids) if ids else {}

    def point_ids(self, document_id: str) -> set[str]:
        return {point_id for point_id, _ in self._scroll(document_filter(document_id), ())}

    def get_document_chunks(self, document_id: str) -> list[dict[str, Any]]:
        """The payloads of a document's chunks, ordered by position."""
        payloads = [payload for _, payload in self._scroll(document_filter(document_id), None)]
        return sorted(payloads, key=lambda payload: int(payload.get("position", 0)))

    def count_points(self) -> int:
        return self._count(FilterSpec())

    def version(self) -> Hashable | None:
        """Changes whenever what readers see changes (a committed Edge generation); None when the backend cannot
        tell (a Qdrant server is written live). Caches of what the index holds are keyed by it."""
        return None

    def count_documents(self) -> int:
        # Every document has exactly one head chunk: an indexed count, not a facet over every document id.
        return self._count(FilterSpec(must=(HEAD_CHUNK,)))

    def facet(self, field: str, filters: SearchFilters | None = None) -> dict[str, int]:
        """Number of *documents* per value of ``field`` (a keyword-indexed field) among those matching."""
        if field not in KEYWORD_FIELDS:
            raise ValueError(
                f"Cannot facet on {field!r}: choose one of the indexed fields {', '.join(KEYWORD_FIELDS)}."
            )
        return self._facet(field, filter_spec(filters).require(HEAD_CHUNK), self.max_facet_values)

    def search(
        self,
        dense: list[float] | None,
        sparse: SparseVector | None,
        filters: SearchFilters,
        limit: int,
        mode: SearchMode = SearchMode.HYBRID,
        languages: Sequence[str] = (),
    ) -> list[Hit]:
        """One hit per document, best first.

        ``languages`` (two or more): each retriever runs once per language (see ``language_legs``) and every
        list is fused with RRF, so passages in one language get their share of the ranking even when a
        multilingual model scores a query closer to passages written in the query's own language."""
        if mode not in set(SearchMode):
            raise ValueError(f"Unknown search mode {mode!r}: use one of {', '.join(SearchMode)}.")
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}.")
        if mode in (SearchMode.HYBRID, SearchMode.DENSE) and dense is None:
            raise ValueError(f"mode={mode!r} needs a dense query vector; pass one or use mode='sparse'.")
        if mode in (SearchMode.HYBRID, SearchMode.SPARSE) and sparse is None:
            raise ValueError(f"mode={mode!r} needs a sparse query vector; pass one or use mode='dense'.")
        fetch = limit * self.chunk_oversampling
        chunks = self._query_chunks(dense, sparse, filter_spec(filters), fetch, mode, language_legs(languages))
        return self._hits(chunks, limit)

    def _hits(self, chunks: Sequence[ScoredChunk], limit: int) -> list[Hit]:
        """Hits for each document's best chunk among ``chunks`` (read without payload), with their whole
        payloads; a point gone between the reads (a newer generation) is left out."""
        documents = self.documents_of_points.lookup([c.id for c in chunks], self._document_ids)
        best = best_per_document(
            [ScoredChunk(c.id, c.score, {"document_id": documents[c.id]}) for c in chunks if c.id in documents], limit)
        payloads = self._payloads([c.id for c in best]) if best else {}
        return group_by_document([ScoredChunk(c.id, c.score, payloads[c.id]) for c in best if c.id in payloads], limit)

    def search_per_language(
        self, dense: list[float], filters: SearchFilters, limit: int, languages: Sequence[str]
    ) -> list[list[Hit]]:
        """The nearest documents by cosine in each language leg (see ``language_legs``), one list per leg:
        scores stay cosines, for callers that calibrate and threshold them."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}.")
        spec, fetch = filter_spec(filters), limit * self.chunk_oversampling
        return [self._hits(self._query_chunks(dense, None, spec, fetch, SearchMode.DENSE, (leg,)), limit)
                for leg in language_legs(languages)]

    def remember_documents(self, stop: threading.Event | None = None, pause: float = 0.01) -> int:
        """Read which document every stored point belongs to, up to the bound, as searches would on meeting
        each point the first time (then they need not): a server runs it in a thread once it answers. Reads
        ``_REMEMBER_PAGE`` points at a time and sleeps ``pause`` seconds between pages, because the engine holds
        the interpreter lock while it converts a page: on the whole corpus (57,032 points, ~30 s with a test
        suite beside it), BM25 searches asked meanwhile took 24 ms p50, against 35 ms in a process without it
        and 294 ms while it read pages of 1,024 without pausing. Stops early when ``stop`` is set or the bound
        is reached; returns how many points it kept."""
        stop = stop or threading.Event()
        page: dict[str, str] = {}
        read = 0
        for point_id, payload in self._scroll(FilterSpec(), ("document_id",), page=_REMEMBER_PAGE):
            if "document_id" in payload:
                page[point_id] = str(payload["document_id"])
            if len(page) == _REMEMBER_PAGE:
                if len(page) > self.documents_of_points.room:  # full: what searches read keeps its place
                    return read
                self.documents_of_points.remember(page)
                read += len(page)
                page = {}
                if stop.wait(pause):
                    return read
        if len(page) <= self.documents_of_points.room:
            self.documents_of_points.remember(page)
            read += len(page)
        return read

    def _document_ids(self, point_ids: list[str]) -> dict[str, str]:
        payloads = self._payloads(point_ids, ("document_id",))
        return {point_id: str(payload["document_id"]) for point_id, payload in payloads.items()
                if "document_id" in payload}

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class VectorWriter(VectorStore):
    """A store opened for an ingestion: changes become visible to readers only at ``commit()``.

    As a context manager it commits when the block succeeds and aborts when it raises.
    """

    @abstractmethod
    def commit(self) -> None:
        """Make every change visible to readers and release the writer."""

    @abstractmethod
    def abort(self) -> None:
        """Drop the changes where the backend can (Edge), and release the writer. Safe to call twice."""

    @abstractmethod
    def checkpoint(self) -> None:
        """Make every change so far visible to readers and go on writing (the writer stays the one writer)."""

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self.abort()
            return
        committed = False
        try:
            self.commit()
            committed = True
        finally:
            if not committed:
                self.abort()
