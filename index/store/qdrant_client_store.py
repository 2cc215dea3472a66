"""The scale path: a Qdrant server through qdrant-client (its in-memory mode stands in for it in tests).

The server serves reads while it is written to, so the writer is the same store with a trivial commit: the
pipeline uses the same calling shape for both backends. There is no transaction on the server: ``abort()``
cannot take back what was written; each document is still replaced whole (``delete_document`` then
``upsert``), so an interrupted ingestion leaves every document either old or new.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from qdrant_client import QdrantClient, models

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
from convergenze.index.store.filters import ALL, Condition, DateRange, FilterSpec, NumberRange

_INDEX_SCHEMAS: dict[str, models.PayloadSchemaType] = {
    **{field: models.PayloadSchemaType.KEYWORD for field in KEYWORD_FIELDS},
    **{field: models.PayloadSchemaType.DATETIME for field in DATETIME_FIELDS},
    **{field: models.PayloadSchemaType.INTEGER for field in INTEGER_FIELDS},
    **{field: models.PayloadSchemaType.FLOAT for field in FLOAT_FIELDS},
}


# ----------------------------------------------------------------------------------------------------------
# Filters: the one place FilterSpec becomes qdrant-client models
# ----------------------------------------------------------------------------------------------------------


def _condition(condition: Condition) -> models.FieldCondition:
    if isinstance(condition, NumberRange):
        return models.FieldCondition(key=condition.key, range=models.Range(gte=condition.gte, lte=condition.lte))
    if isinstance(condition, DateRange):
        return models.FieldCondition(key=condition.key,
                                     range=models.DatetimeRange(gte=condition.gte, lt=condition.lt))
    if len(condition.values) == 1:
        return models.FieldCondition(key=condition.key, match=models.MatchValue(value=condition.values[0]))
    strings = [value for value in condition.values if isinstance(value, str)]
    if len(strings) == len(condition.values):
        return models.FieldCondition(key=condition.key, match=models.MatchAny(any=strings))
    return models.FieldCondition(key=condition.key,
                                 match=models.MatchAny(any=[int(value) for value in condition.values]))


def client_filter(spec: FilterSpec) -> models.Filter | None:
    if spec.empty:
        return None
    must: list[models.Condition] = [_condition(c) for c in spec.must]
    must_not: list[models.Condition] = [_condition(c) for c in spec.must_not]
    return models.Filter(must=must or None, must_not=must_not or None)


def _payload_selector(fields: Sequence[str] | None) -> bool | list[str]:
    """``fields`` as the client asks for them: None, the whole payload; empty, none."""
    return True if fields is None else list(fields) if fields else False


class QdrantClientStore(VectorStore):
    """One collection on a Qdrant server (or ``QdrantClient(":memory:")``).

    ``owns_client``: whether ``close()`` closes the client (not when a writer shares the reader's client).
    """

    def __init__(
        self, client: QdrantClient, collection: str, *, owns_client: bool = True, shards: int = 1,
        replicas: int = 1, **options: Any
    ) -> None:
        super().__init__(**options)
        if not collection:
            raise ValueError("collection must be a non-empty name (CONVERGENZE_COLLECTION).")
        if shards < 1 or replicas < 1:
            raise ValueError(f"shards and replicas must be at least 1 (QDRANT_SHARDS, QDRANT_REPLICAS), got "
                             f"{shards} and {replicas}.")
        self.client = client
        self.collection = collection
        self.owns_client = owns_client
        self.shards = shards  # how a collection this store creates is spread over a cluster
        self.replicas = replicas
        self._dim: int | None = None

    def begin_write(self) -> QdrantClientWriter:
        """A writer on the same client and collection (so ``:memory:`` data is shared)."""
        return QdrantClientWriter(self.client, self.collection, owns_client=False, shards=self.shards,
                                  replicas=self.replicas, chunk_oversampling=self.chunk_oversampling,
                                  batch_size=self.batch_size, max_facet_values=self.max_facet_values)

    # ---- schema & lifecycle ----

    def schema_dim(self) -> int | None:
        if self._dim is None and self.client.collection_exists(self.collection):
            vectors = self.client.get_collection(self.collection).config.params.vectors
            params = vectors.get(DENSE_VECTOR) if isinstance(vectors, dict) else None
            if params is None:
                raise ValueError(
                    f"Collection {self.collection!r} has no '{DENSE_VECTOR}' vector: it was not built by "
                    "Convergenze; choose another CONVERGENZE_COLLECTION."
                )
            self._dim = params.size
        return self._dim

    def ensure_schema(self, dense_dim: int) -> None:
        if dense_dim < 1:
            raise ValueError(f"dense_dim must be positive, got {dense_dim}.")
        existing = self.schema_dim()
        if existing is None:
            dense = models.VectorParams(size=dense_dim, distance=models.Distance.COSINE)
            sparse = models.SparseVectorParams(modifier=models.Modifier.IDF)
            # Shards and replicas are fixed when a collection is created; a cluster spreads them over its nodes.
            self.client.create_collection(
                self.collection,
                vectors_config={DENSE_VECTOR: dense},
                sparse_vectors_config={SPARSE_VECTOR: sparse},
                shard_number=self.shards,
                replication_factor=self.replicas,
            )
            self._dim = dense_dim
        elif existing != dense_dim:
            raise ValueError(
                f"Collection {self.collection!r} holds {existing}-d vectors but the embedding model makes "
                f"{dense_dim}-d ones: re-ingest into a new collection (CONVERGENZE_COLLECTION) or go back to "
                "the model the index was built with."
            )
        indexed = self.client.get_collection(self.collection).payload_schema
        for field, schema in _INDEX_SCHEMAS.items():
            if field not in indexed:
                self.client.create_payload_index(self.collection, field, field_schema=schema)

    def flush(self) -> None:
        """Nothing to do: the server persists every acknowledged write (``wait=True``)."""

    def optimize(self) -> None:
        """Nothing to do: the server's optimizers build HNSW in the background."""

    def close(self) -> None:
        if self.owns_client:
            self.client.close()

    # ---- primitives ----

    def _upsert_points(self, points: Sequence[StoredPoint]) -> None:
        self.client.upsert(
            self.collection,
            points=[
                models.PointStruct(
                    id=point.id,
                    vector={
                        DENSE_VECTOR: point.dense,
                        SPARSE_VECTOR: models.SparseVector(indices=point.sparse.indices,
                                                           values=point.sparse.values),
                    },
                    payload=point.payload,
                )
                for point in points
            ],
            wait=True,
        )

    def delete_points(self, point_ids: Sequence[str]) -> None:
        if point_ids:
            self.client.delete(self.collection, points_selector=models.PointIdsList(points=list(point_ids)),
                               wait=True)

    def _delete_where(self, spec: FilterSpec) -> None:
        flt = client_filter(spec)
        if flt is None:
            raise ValueError("Refusing to delete with an empty filter (it would delete everything).")
        self.client.delete(self.collection, points_selector=models.FilterSelector(filter=flt), wait=True)

    def _set_payload_where(self, spec: FilterSpec, values: dict[str, Any], key: str | None) -> None:
        flt = client_filter(spec)
        if flt is None:
            raise ValueError("Refusing to update payloads with an empty filter (it would touch everything).")
        self.client.set_payload(self.collection, payload=values, points=models.FilterSelector(filter=flt), key=key,
                                wait=True)

    def _scroll(
        self, spec: FilterSpec, fields: Sequence[str] | None, page: int = SCROLL_PAGE
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        if self.schema_dim() is None:
            return
        with_payload = _payload_selector(fields)
        flt = client_filter(spec)
        offset: Any = None
        while True:
            records, offset = self.client.scroll(
                self.collection, scroll_filter=flt, limit=page, offset=offset,
                with_payload=with_payload, with_vectors=False,
            )
            for record in records:
                yield str(record.id), dict(record.payload or {})
            if offset is None:
                return

    def _payloads(self, point_ids: Sequence[str], fields: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        if self.schema_dim() is None:
            return {}
        records = self.client.retrieve(self.collection, list(point_ids), with_payload=_payload_selector(fields),
                                       with_vectors=False)
        return {str(record.id): dict(record.payload or {}) for record in records}

    def _dense_vectors(self, point_ids: Sequence[str]) -> dict[str, list[float]]:
        if self.schema_dim() is None:
            return {}
        records = self.client.retrieve(self.collection, list(point_ids), with_payload=False,
                                       with_vectors=[DENSE_VECTOR])
        return {str(r.id): list(r.vector[DENSE_VECTOR]) for r in records  # type: ignore[arg-type]
                if isinstance(r.vector, dict)}

    def _count(self, spec: FilterSpec) -> int:
        if self.schema_dim() is None:
            return 0
        return self.client.count(self.collection, count_filter=client_filter(spec), exact=True).count

    def _facet(self, key: str, spec: FilterSpec, limit: int) -> dict[str, int]:
        if self.schema_dim() is None:
            return {}
        response = self.client.facet(self.collection, key, facet_filter=client_filter(spec), limit=limit,
                                     exact=True)
        return {str(hit.value): hit.count for hit in response.hits}

    def _query_chunks(
        self,
        dense: list[float] | None,
        sparse: SparseVector | None,
        spec: FilterSpec,
        limit: int,
        mode: SearchMode,
        legs: Sequence[FilterSpec] = (ALL,),
    ) -> list[ScoredChunk]:
        if self.schema_dim() is None:
            return []
        flt = client_filter(spec)
        nearest: dict[str, list[float] | models.SparseVector] = {}
        if dense is not None:
            nearest[DENSE_VECTOR] = dense
        if sparse is not None:
            nearest[SPARSE_VECTOR] = models.SparseVector(indices=sparse.indices, values=sparse.values)
        names = (DENSE_VECTOR, SPARSE_VECTOR) if mode == SearchMode.HYBRID else (
            DENSE_VECTOR if mode == SearchMode.DENSE else SPARSE_VECTOR,)
        if len(names) * len(legs) > 1:
            response = self.client.query_points(
                self.collection,
                prefetch=[models.Prefetch(query=nearest[name], using=name, limit=limit,
                                          filter=client_filter(spec.narrow(leg)))
                          for name in names for leg in legs],
                # RrfQuery, not FusionQuery(fusion=Fusion.RRF): the same RRF with k pinned, as on Edge.
                query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
                query_filter=flt,
                limit=limit,
                with_payload=False,
                with_vectors=False,
            )
        else:
            response = self.client.query_points(
                self.collection, query=nearest[names[0]], using=names[0],
                query_filter=client_filter(spec.narrow(legs[0])), limit=limit,
                with_payload=False, with_vectors=False,
            )
        return [ScoredChunk(str(p.id), p.score, {}) for p in response.points]


class QdrantClientWriter(QdrantClientStore, VectorWriter):
    """The same store under the writer's calling shape: writes are live on the server as they happen."""

    def commit(self) -> None:
        self.close()

    def checkpoint(self) -> None:
        """Nothing to publish: the server serves every write as it lands."""

    def abort(self) -> None:
        self.close()
