"""The embedded backend: Qdrant Edge shards in generation directories, swapped atomically.

Layout under ``root``::

    CURRENT          name of the committed generation, replaced with os.replace (atomic)
    write.lock       fcntl lock held by the one active writer
    gen-000007/      an Edge shard (committed: optimised, closed, never written again)
    gen-000008/      the previous generation, kept for readers that still have it open

What the experiments with qdrant-edge-py 0.9.0 showed (and why this design):

* Two ``EdgeShard`` instances cannot share a directory safely. With the WAL enabled (the default) the second
  ``load`` fails at once ("failed to open WAL ...: Can't init WAL: Kind(WouldBlock)", an flock). With the WAL
  disabled both load, but writing through one while the other is open breaks the next flush ("Tracker journal
  ... is shorter than expected"). So the API cannot read the directory an ingestion is writing.
* A shard that nobody writes to can be opened by any number of instances, in this and other processes, with
  the WAL disabled: loading rewrites only ``edge_config.json`` and ``segment.json``, atomically (temp dir +
  rename) and with identical content, and leaves every data file byte-for-byte unchanged.
* An open shard keeps answering queries, scrolls, counts and facets after its directory is deleted: storage
  is mmap'd, and mapped pages outlive the unlink on Linux (checked by tests/test_store_edge.py).

Hence: a writer copies the committed generation into a new directory, writes there alone (WAL off: the
generation is thrown away unless committed, so the WAL would only cost time), flushes, builds HNSW, closes
and points CURRENT at it. Readers stat CURRENT on every call and reopen when it changed; a half-written
generation is never named by CURRENT. The stubs offer nothing simpler with the same guarantee (snapshots can
only be applied to an open shard, which is what the API is reading).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from convergenze.core.records import SparseVector
from convergenze.core.vocabulary import SearchMode
from convergenze.index.store.base import (
    DATETIME_FIELDS,
    DENSE_VECTOR,
    FLOAT_FIELDS,
    INTEGER_FIELDS,
    KEYWORD_FIELDS,
    RRF_K,
    SCROLL_PAGE,
    SPARSE_VECTOR,
    ScoredChunk,
    StoredPoint,
    VectorStore,
    VectorWriter,
)
from convergenze.index.store.edge_generations import (
    CURRENT_FILE,
    LOCK_FILE,
    WriteLock,
    fork,
    read_current,
    remove_stale_generations,
    write_current,
)
from convergenze.index.store.filters import ALL, Condition, DateRange, FilterSpec, NumberRange

_INDEX_SCHEMAS: dict[str, qe.PayloadSchemaType] = {
    **{field: qe.PayloadSchemaType.Keyword for field in KEYWORD_FIELDS},
    **{field: qe.PayloadSchemaType.Datetime for field in DATETIME_FIELDS},
    **{field: qe.PayloadSchemaType.Integer for field in INTEGER_FIELDS},
    **{field: qe.PayloadSchemaType.Float for field in FLOAT_FIELDS},
}


def _payload_selector(fields: Sequence[str] | None) -> bool | qe.PayloadSelector:
    """``fields`` as Edge asks for them: None, the whole payload; empty, none."""
    return True if fields is None else qe.PayloadSelector.Include(list(fields)) if fields else False


# ----------------------------------------------------------------------------------------------------------
# Filters: the one place FilterSpec becomes Edge objects
# ----------------------------------------------------------------------------------------------------------


def _rfc3339(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _condition(condition: Condition) -> qe.FieldCondition:
    if isinstance(condition, NumberRange):
        return qe.FieldCondition(condition.key, range=qe.RangeFloat(gte=condition.gte, lte=condition.lte))
    if isinstance(condition, DateRange):
        return qe.FieldCondition(condition.key, range=qe.RangeDateTime(gte=_rfc3339(condition.gte),
                                                                       lt=_rfc3339(condition.lt)))
    if len(condition.values) == 1:
        return qe.FieldCondition(condition.key, match=qe.MatchValue(condition.values[0]))
    strings = [value for value in condition.values if isinstance(value, str)]
    if len(strings) == len(condition.values):
        return qe.FieldCondition(condition.key, match=qe.MatchAny(strings))
    return qe.FieldCondition(condition.key, match=qe.MatchAny([int(value) for value in condition.values]))


def edge_filter(spec: FilterSpec) -> qe.Filter | None:
    if spec.empty:
        return None
    return qe.Filter(
        must=[_condition(c) for c in spec.must] or None,
        must_not=[_condition(c) for c in spec.must_not] or None,
    )


# ----------------------------------------------------------------------------------------------------------
# Generations
# ----------------------------------------------------------------------------------------------------------


def _dense_dim(shard_dir: Path) -> int | None:
    # edge_config.json is Edge's persisted config (EdgeShard.load documents writing it); no getter exists.
    try:
        config = json.loads((shard_dir / "edge_config.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    try:
        return int(config["vectors"][DENSE_VECTOR]["size"])
    except (KeyError, TypeError) as error:
        raise ValueError(
            f"{shard_dir} holds no '{DENSE_VECTOR}' vector: it was not built by Convergenze; "
            "re-ingest into a new data dir."
        ) from error


def _check_dim(shard_dir: Path, dense_dim: int) -> None:
    existing = _dense_dim(shard_dir)
    if existing is not None and existing != dense_dim:
        raise ValueError(
            f"The index at {shard_dir.parent} holds {existing}-d vectors but the embedding model makes "
            f"{dense_dim}-d ones: re-ingest into a new data dir (CONVERGENZE_DATA) or go back to the model "
            "the index was built with."
        )


def _edge_config(dense_dim: int) -> qe.EdgeConfig:
    return qe.EdgeConfig(
        vectors={DENSE_VECTOR: qe.EdgeVectorParams(size=dense_dim, distance=qe.Distance.Cosine)},
        sparse_vectors={SPARSE_VECTOR: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
        # A generation is discarded unless committed, and commit flushes: a WAL would add nothing but cost,
        # and with it on a second process could not open the generation at all (it locks the WAL).
        wal_enabled=False,
    )


@dataclass(slots=True)
class _Opened:
    key: tuple[int, int] | None
    name: str | None
    shard: qe.EdgeShard | None


# ----------------------------------------------------------------------------------------------------------
# Store
# ----------------------------------------------------------------------------------------------------------


class EdgeStore(VectorStore):
    """A reader over ``root``: answers from the committed generation and follows CURRENT when it changes.

    Before the first commit it behaves as an empty index. ``follow=False`` pins the generation open at the
    first call (a consistent view for a long export). Safe to share between threads. Writing goes through
    ``EdgeStore.begin_write(root)``.
    """

    def __init__(self, root: Path, *, follow: bool = True, **options: Any) -> None:
        super().__init__(**options)
        self.root = Path(root)
        self.follow = follow
        self._lock = threading.Lock()
        self._opened = _Opened(key=None, name=None, shard=None)
        self._loaded = False

    @classmethod
    def open_reader(cls, root: Path, *, follow: bool = True, **options: Any) -> EdgeStore:
        return cls(root, follow=follow, **options)

    @staticmethod
    def begin_write(root: Path, **options: Any) -> EdgeWriter:
        """Start an ingestion: a private copy of the committed generation, published by ``commit()``."""
        return EdgeWriter.start(Path(root), **options)

    @property
    def generation(self) -> str | None:
        """The generation this store reads (after at least one call), for diagnostics."""
        return self._opened.name

    def version(self) -> tuple[int, int] | None:
        """CURRENT's identity: a commit replaces the file, so this changes at every commit (one stat)."""
        return self._current_key() if self.follow else self._opened.key

    # ---- the shard to use ----

    def _current_key(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.root / CURRENT_FILE)
        except FileNotFoundError:
            return None
        # os.replace gives CURRENT a new inode, so this changes at every commit.
        return (stat.st_ino, stat.st_mtime_ns)

    def _read_shard(self) -> qe.EdgeShard | None:
        opened = self._opened
        if self._loaded and (not self.follow or opened.key == self._current_key()):
            return opened.shard
        with self._lock:
            key = self._current_key()
            if self._loaded and self._opened.key == key:
                return self._opened.shard
            name = read_current(self.root)
            shard = qe.EdgeShard.load(str(self.root / name)) if name is not None else None
            # The previous shard is not closed here: a query on another thread may still be using it. Dropping
            # the last reference releases it; its directory may already be gone, which mmap tolerates.
            self._opened = _Opened(key=key, name=name, shard=shard)
            self._loaded = True
            return shard

    def _check_writable(self) -> None:
        raise ValueError(
            f"This EdgeStore reads {self.root} and cannot write: open a writer with "
            "EdgeStore.begin_write(root) (or index.store.factory.store_writer) and commit it."
        )

    def _write_shard(self) -> qe.EdgeShard:
        self._check_writable()
        raise AssertionError("unreachable: _check_writable raises for readers")

    # ---- schema & lifecycle ----

    def ensure_schema(self, dense_dim: int) -> None:
        """For a reader, only checks: the committed index (if any) must hold ``dense_dim``-d vectors."""
        self._read_shard()
        if self._opened.name is not None:
            _check_dim(self.root / self._opened.name, dense_dim)

    def schema_dim(self) -> int | None:
        self._read_shard()
        return _dense_dim(self.root / self._opened.name) if self._opened.name is not None else None

    def flush(self) -> None:
        """Nothing to flush: readers never write."""

    def optimize(self) -> None:
        self._write_shard()

    def close(self) -> None:
        with self._lock:
            if self._opened.shard is not None:
                self._opened.shard.close()
            self._opened = _Opened(key=None, name=None, shard=None)
            self._loaded = False

    # ---- primitives ----

    def _upsert_points(self, points: Sequence[StoredPoint]) -> None:
        edge_points = [
            qe.Point(
                id=point.id,
                vector={
                    DENSE_VECTOR: point.dense,
                    SPARSE_VECTOR: qe.SparseVector(point.sparse.indices, point.sparse.values),
                },
                payload=point.payload,
            )
            for point in points
        ]
        self._write_shard().update(qe.UpdateOperation.upsert_points(edge_points))

    def delete_points(self, point_ids: Sequence[str]) -> None:
        if point_ids:
            self._write_shard().update(qe.UpdateOperation.delete_points(list(point_ids)))

    def _delete_where(self, spec: FilterSpec) -> None:
        flt = edge_filter(spec)
        if flt is None:
            raise ValueError("Refusing to delete with an empty filter (it would delete everything).")
        self._write_shard().update(qe.UpdateOperation.delete_points_by_filter(flt))

    def _set_payload_where(self, spec: FilterSpec, values: dict[str, Any], key: str | None) -> None:
        flt = edge_filter(spec)
        if flt is None:
            raise ValueError("Refusing to update payloads with an empty filter (it would touch everything).")
        self._write_shard().update(qe.UpdateOperation.set_payload_by_filter(flt, values, key))

    def _scroll(
        self, spec: FilterSpec, fields: Sequence[str] | None, page: int = SCROLL_PAGE
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        shard = self._read_shard()
        if shard is None:
            return
        with_payload = _payload_selector(fields)
        flt = edge_filter(spec)
        offset: Any = None
        while True:
            records, offset = shard.scroll(qe.ScrollRequest(
                offset=offset, limit=page, filter=flt, with_payload=with_payload,
                with_vector=False,
            ))
            for record in records:
                yield str(record.id), dict(record.payload or {})
            if offset is None:
                return

    def _payloads(self, point_ids: Sequence[str], fields: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        shard = self._read_shard()
        if shard is None:
            return {}
        records = shard.retrieve(point_ids=list(point_ids), with_payload=_payload_selector(fields), with_vector=False)
        return {str(record.id): dict(record.payload or {}) for record in records}

    def _dense_vectors(self, point_ids: Sequence[str]) -> dict[str, list[float]]:
        shard = self._read_shard()
        if shard is None:
            return {}
        records = shard.retrieve(point_ids=list(point_ids), with_payload=False, with_vector=[DENSE_VECTOR])
        out: dict[str, list[float]] = {}
        for record in records:
            vector = record.vector.get(DENSE_VECTOR) if isinstance(record.vector, dict) else None
            if isinstance(vector, list):
                out[str(record.id)] = [float(x) for x in vector]  # type: ignore[arg-type]
        return out

    def _count(self, spec: FilterSpec) -> int:
        shard = self._read_shard()
        return 0 if shard is None else shard.count(qe.CountRequest(exact=True, filter=edge_filter(spec)))

    def _facet(self, key: str, spec: FilterSpec, limit: int) -> dict[str, int]:
        shard = self._read_shard()
        if shard is None:
            return {}
        response = shard.facet(qe.FacetRequest(key, limit=limit, exact=True, filter=edge_filter(spec)))
        # An exact facet still lists values whose points were all deleted (until the segment is optimised),
        # with count 0; they are not values of the index any more.
        return {str(hit.value): hit.count for hit in response.hits if hit.count > 0}

    def _query_chunks(
        self,
        dense: list[float] | None,
        sparse: SparseVector | None,
        spec: FilterSpec,
        limit: int,
        mode: SearchMode,
        legs: Sequence[FilterSpec] = (ALL,),
    ) -> list[ScoredChunk]:
        shard = self._read_shard()
        if shard is None:
            return []
        flt = edge_filter(spec)
        nearest: dict[str, qe.Query] = {}
        if dense is not None:
            nearest[DENSE_VECTOR] = qe.Query.Nearest(dense, using=DENSE_VECTOR)
        if sparse is not None:
            nearest[SPARSE_VECTOR] = qe.Query.Nearest(
                qe.SparseVector(sparse.indices, sparse.values), using=SPARSE_VECTOR)
        names = (DENSE_VECTOR, SPARSE_VECTOR) if mode == SearchMode.HYBRID else (
            DENSE_VECTOR if mode == SearchMode.DENSE else SPARSE_VECTOR,)
        if len(names) * len(legs) > 1:
            request = qe.QueryRequest(
                limit=limit,
                prefetches=[qe.Prefetch(limit=limit, query=nearest[name], filter=edge_filter(spec.narrow(leg)))
                            for name in names for leg in legs],
                # The stub's ScoringQueryType lists Fusion but not its Rrf variant, which is what it accepts.
                query=qe.Fusion.Rrf(k=RRF_K),  # type: ignore[arg-type]
                filter=flt,
                with_payload=False,
                with_vector=False,
            )
        else:
            request = qe.QueryRequest(
                limit=limit,
                query=nearest[names[0]],
                filter=edge_filter(spec.narrow(legs[0])),
                with_payload=False,
                with_vector=False,
            )
        return [ScoredChunk(str(p.id), p.score, {}) for p in shard.query(request)]


class EdgeWriter(EdgeStore, VectorWriter):
    """The one writer of ``root``: works on a private generation until ``commit()`` publishes it."""

    def __init__(
        self, root: Path, name: str, shard: qe.EdgeShard | None, lock: WriteLock, **options: Any
    ) -> None:
        super().__init__(root, follow=False, **options)
        self.name = name
        self._shard = shard
        self._write_lock: WriteLock | None = lock
        self._finished: str | None = None

    @classmethod
    def start(cls, root: Path, **options: Any) -> EdgeWriter:
        root.mkdir(parents=True, exist_ok=True)
        lock = WriteLock(root / LOCK_FILE)
        try:
            name, shard = fork(root, read_current(root))
        except BaseException:
            lock.release()
            raise
        return cls(root, name, shard, lock, **options)

    def _live(self) -> None:
        if self._finished is not None:
            raise ValueError(f"This writer was already {self._finished}: start a new one with begin_write().")

    def _check_writable(self) -> None:
        self._live()

    def _read_shard(self) -> qe.EdgeShard | None:
        self._live()
        return self._shard

    def _write_shard(self) -> qe.EdgeShard:
        self._live()
        if self._shard is None:
            raise ValueError("The store has no schema yet: call ensure_schema(dense_dim) before writing.")
        return self._shard

    @property
    def generation(self) -> str | None:
        return self.name

    @property
    def path(self) -> Path:
        return self.root / self.name

    def ensure_schema(self, dense_dim: int) -> None:
        self._live()
        if dense_dim < 1:
            raise ValueError(f"dense_dim must be positive, got {dense_dim}.")
        if self._shard is None:
            self._shard = qe.EdgeShard.create(str(self.path), _edge_config(dense_dim))
        else:
            _check_dim(self.path, dense_dim)
        existing = self._shard.info().payload_schema
        for field, schema in _INDEX_SCHEMAS.items():
            if field not in existing:
                self._shard.update(qe.UpdateOperation.create_field_index(field, schema))

    def schema_dim(self) -> int | None:
        self._live()
        return _dense_dim(self.path) if self._shard is not None else None

    def flush(self) -> None:
        self._write_shard().flush()

    def optimize(self) -> None:
        self._write_shard().optimize()

    def commit(self) -> None:
        self._publish(optimize=True)
        self._finished = "committed"
        try:
            remove_stale_generations(self.root, self.name)
        finally:
            self._release()

    def checkpoint(self) -> None:
        """Publish what is written so far and go on in a new generation, keeping the write lock: a long
        ingestion serves each source as soon as it is in. Costs a flush and a sparse copy of the shard; HNSW is
        built by the commit alone. Built at every checkpoint, it was built again and again as segments merged
        (`python -m benchmarks.store --points 50000 --checkpoints 10`: 57 s of checkpoints and 19 s of commit,
        against 5.5 s and 36 s, x0.54 in all); what is published meanwhile is searched without it (a filtered
        dense search 3.6 -> 4.5 ms there)."""
        self._publish(optimize=False)
        try:
            self.name, self._shard = fork(self.root, self.name)
        except BaseException:
            self._finished = "aborted"  # what was published stays; nothing more can be written
            self._release()
            raise

    def _publish(self, *, optimize: bool) -> None:
        shard = self._write_shard()
        if optimize:
            shard.optimize()  # builds HNSW where segments passed the indexing threshold
        shard.flush()
        self._shard = None
        shard.close()
        write_current(self.root, self.name)

    def abort(self) -> None:
        if self._finished is not None:
            return
        if self._shard is not None:
            self._shard.close()
            self._shard = None
        shutil.rmtree(self.path, ignore_errors=True)
        self._finished = "aborted"
        self._release()

    def close(self) -> None:
        """Closing an unfinished writer aborts it: nothing half-written ever becomes visible."""
        self.abort()

    def _release(self) -> None:
        if self._write_lock is not None:
            self._write_lock.release()
            self._write_lock = None
