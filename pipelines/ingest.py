"""The ingestion flow: sources -> documents -> language and extraction -> chunks, vectors -> Qdrant.

The flow is thin orchestration over small typed tasks; only the I/O task (fetching a source's files)
retries. A source that fails is reported and the batch goes on. One writer holds the index for the whole run
and publishes it after each source (and every ``CONVERGENZE_COMMIT_EVERY`` documents of a long one): readers
see each source as soon as it is in, and a crash loses only the part not yet published, never leaving the
index half-written (each publication is a new store generation swapped in whole).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.states import State

from convergenze.core.embedding import Embedder
from convergenze.core.payload import objective_texts
from convergenze.core.records import Document, Skipped
from convergenze.core.settings import Settings, available_cores
from convergenze.corpora.connectors.base import ConnectorResult, SourceSpec
from convergenze.corpora.http import FetchPolicy, HttpFetcher
from convergenze.corpora.live import ListingOutcome
from convergenze.corpora.registry import (
    SOURCES_FILE,
    SourceResolver,
    SourceUnavailable,
    build_connector,
    load_sources,
    select_sources,
)
from convergenze.corpora.state import StateStore
from convergenze.extractors.enrich import Enricher
from convergenze.index.embeddings import create_embedder
from convergenze.index.indexer import BatchEmbedder, Indexer
from convergenze.index.mission_examples import mission_labeller
from convergenze.index.search import SearchService
from convergenze.index.sparse import Bm25SparseEncoder
from convergenze.index.store.base import VectorStore, VectorWriter
from convergenze.index.store.factory import open_store, store_writer
from convergenze.index.text_vectors import TextVectors
from convergenze.matching.catalog_build import CatalogBuilder

from .alerts import AlertEvaluator, AlertRun, AlertStore
from .backfill import dask_runner, distributed_batches, worker_settings
from .changes import ChangeDetector, SourceChanges
from .delivery import deliver_alerts
from .report import IngestReport, SourceReport
from .runtime import IngestionLock

if TYPE_CHECKING:
    from prefect.futures import PrefectFuture
    from prefect.task_runners import TaskRunner


@task(cache_policy=NO_CACHE)
def build_catalog(settings: Settings, today: date) -> dict[str, int]:
    """The document-level catalog (actors, territories, duplicates) from the committed index."""
    store = open_store(settings.qdrant, settings.data, write=False)
    try:
        stats = CatalogBuilder(settings.data.catalog_path, today=today).run(store)
    finally:
        store.close()
    return {"documents": stats.documents, "actors": stats.actors, "duplicates": stats.duplicates}


def _transient(task: object, task_run: object, state: State) -> bool:
    """Retry a fetch only when the network failed; a file missing from the mirror will not appear."""
    return bool(getattr(state.data, "retryable", False))


@task(retries=3, retry_delay_seconds=[2, 10, 30], retry_condition_fn=_transient, cache_policy=NO_CACHE)
def fetch_source(spec: SourceSpec, resolver: SourceResolver) -> dict[str, Path]:
    return resolver.resolve(spec)


@task(cache_policy=NO_CACHE)
def read_source(spec: SourceSpec, files: dict[str, Path], today: date, limit: int | None) -> ConnectorResult:
    result = build_connector(spec, files, today=today).run()
    if limit is not None:
        result.documents = result.documents[:limit]
    return result


@task(cache_policy=NO_CACHE)
def enrich_documents(documents: list[Document], enricher: Enricher) -> list[Document]:
    return [enricher.run(d) for d in documents]


@task(cache_policy=NO_CACHE)
def index_documents(
    documents: list[Document], indexer: Indexer, store: VectorStore, stored: set[str], label: str, progress: bool,
    embed_batches: BatchEmbedder | None = None,
) -> int:
    return indexer.run(
        documents, store, replace=[d.id for d in documents if d.id in stored], progress=progress, label=label,
        embed_batches=embed_batches,
    )


@task(cache_policy=NO_CACHE)
def embed_objectives(documents: list[Document], vectors: TextVectors) -> int:
    """The objectives a match compares with a description, embedded here once (those not stored yet, unchanged
    documents' too) rather than in the first request that meets them."""
    return vectors.ensure([text for d in documents for text in objective_texts(d.metadata)])


@task(cache_policy=NO_CACHE)
def detect_changes(
    detector: ChangeDetector, source: str, documents: list[Document], complete: bool
) -> SourceChanges:
    return detector.run(source, documents, complete=complete)


def _apply_payload_updates(store: VectorStore, changes: SourceChanges, reindexed: set[str]) -> None:
    """Status changes of documents that were not re-indexed (closed, withdrawn, listed again)."""
    for document_id, values in changes.payload_updates.items():
        if document_id not in reindexed:
            store.set_document_fields(document_id, values)


@task(cache_policy=NO_CACHE)
def evaluate_alerts(state: StateStore, embedder: Embedder, settings: Settings) -> AlertRun:
    """Saved alerts against the documents this run (or a crashed one before it) added or changed, on the
    index as committed: cheap (one dense search per alert), so it stays on the ingestion's path."""
    alerts = AlertStore(state)
    if not alerts.all():
        return AlertRun()
    reader = open_store(settings.qdrant, settings.data, write=False)
    try:
        return AlertEvaluator(alerts, SearchService(reader, embedder, Bm25SparseEncoder())).run()
    finally:
        reader.close()


class _Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 2)


@flow(name="convergenze-ingest", log_prints=True)
def ingest_flow(
    sources: list[str] | None = None,
    limit: int | None = None,
    today: str | None = None,
    progress: bool = True,
    distributed: bool = False,
) -> dict:
    """Ingest the named sources (all when empty); ``limit`` caps documents per source (for samples);
    ``distributed`` embeds on the flow's Dask task runner (``run_ingestion`` sets it up). One at a time per data
    directory, alerts included (``IngestionLock``)."""
    settings = Settings.load()
    with IngestionLock(settings.data.data_dir):
        return _ingest(settings, sources, limit, today, progress, distributed)


def _ingest(settings: Settings, sources: list[str] | None, limit: int | None, today: str | None,
            progress: bool, distributed: bool) -> dict:
    data, qdrant, fetching = settings.data, settings.qdrant, settings.fetch
    specs = select_sources(load_sources(fetching.sources_file or SOURCES_FILE), sources)
    as_of = date.fromisoformat(today) if today else date.today()
    report = IngestReport(started=datetime.now(UTC).isoformat(timespec="seconds"), planned=[s.name for s in specs])
    clock = _Clock()
    state = StateStore(data.state_dir / "state.sqlite")
    fetcher = HttpFetcher(
        FetchPolicy.from_settings(fetching),
        state=state,
        cache_dir=data.data_dir / "cache" / "http",
    )
    resolver = SourceResolver(
        data.corpora_dir if data.corpora_dir.is_dir() else None,
        data.data_dir / "cache",
        timeout=fetching.timeout,
        fetcher=fetcher,
        state=state,
    )
    with clock.stage("load model"):
        embedder = create_embedder(settings.embedding, data)
        indexer = Indexer(embedder, Bm25SparseEncoder(), labeller=mission_labeller(embedder, data))
        objective_vectors = TextVectors(data.text_vectors_path, embedder)
    embed_batches = None
    if distributed:
        workers = settings.ingest.dask_workers or available_cores()
        embed_batches = distributed_batches(worker_settings(settings.embedding, workers), data)
    # Distributed, the indexing step runs in the flow's own context rather than as a task: the batches it sends
    # to the cluster would otherwise carry the parent task's parameters (indexer, store, their locks) along.
    index = index_documents.fn if distributed else index_documents
    enricher = Enricher(today=as_of)
    detector = ChangeDetector(state, as_of)
    run = _Run(report, clock, state, data.reports_dir)
    report.save_progress(data.reports_dir)
    try:
        with store_writer(qdrant, data) as store:
            store.ensure_schema(embedder.dim)
            # Documents embedded by another model (or backend) count as changed: their vectors are not comparable.
            stored = store.document_hashes(embedder=embedder.name)
            stored_ids = set(stored)
            for number, spec in enumerate(specs):
                source_report = SourceReport(spec.name)
                report.sources.append(source_report)
                started = time.perf_counter()
                # Deadlines pass whether or not the source answers: close those calls from the state alone.
                closing = detector.close_expired(spec.name)
                _apply_payload_updates(store, closing, set())
                run.pending.append(closing)
                source_report.closed = len(closing.closed)
                try:
                    with clock.stage("fetch"):
                        files = fetch_source(spec, resolver)
                except SourceUnavailable as error:
                    source_report.error = str(error)
                    continue
                with clock.stage("read"):
                    result = read_source(spec, files, as_of, limit)
                listings = [o for o in (ListingOutcome.load(path) for path in files.values()) if o is not None]
                source_report.read = len(result.documents)
                source_report.skipped = [
                    Skipped(spec.name, s["ref"], s["reason"]) for o in listings for s in o.skipped
                ] + result.skipped
                source_report.requests = sum(o.requests for o in listings)
                source_report.not_modified = sum(o.not_modified for o in listings)
                with clock.stage("extract"):
                    documents = enrich_documents(result.documents, enricher)
                # Missing notices mean withdrawn only when the run saw the whole listing: not a sample, not a
                # listing with a bad page, not a file that could not be read at all.
                unreadable = any(s.reason.startswith("malformed file") for s in result.skipped)
                complete = limit is None and all(o.complete for o in listings) and bool(documents) and not unreadable
                changes = detect_changes(detector, spec.name, documents, complete)
                run.pending.append(changes)
                source_report.new, source_report.changed = len(changes.new), len(changes.changed)
                source_report.withdrawn = len(changes.withdrawn)
                changed = [d for d in documents if stored.get(d.id) != d.content_hash]
                source_report.unchanged = len(documents) - len(changed)
                step = settings.ingest.commit_every
                for first in range(0, len(changed), step):
                    part = changed[first : first + step]
                    with clock.stage("embed and index"):
                        source_report.points += index(
                            part, indexer, store, stored_ids, spec.name, progress, embed_batches
                        )
                    source_report.indexed += len(part)
                    if first + step < len(changed):  # a long source: publish what is in, then go on
                        run.checkpoint(store, save_state=False)
                with clock.stage("embed objectives"):
                    embed_objectives(documents, objective_vectors)
                _apply_payload_updates(store, changes, {d.id for d in changed})
                source_report.seconds = round(time.perf_counter() - started, 1)
                if number < len(specs) - 1:  # the last source is published by the commit below
                    run.checkpoint(store)
            report.documents, report.points = store.count_documents(), store.count_points()
            committing = time.perf_counter()
        # Leaving the block commits: flush, HNSW build and the generation swap on Qdrant Edge.
        clock.seconds["commit"] = round(clock.seconds.get("commit", 0.0) + time.perf_counter() - committing, 2)
        # Only now the last sources' state: a run killed before the commit leaves it as it was, and the next run
        # redoes the same.
        run.save_state()
        fetcher.close()
        with clock.stage("alerts"):
            # Deliveries get a bounded pass here; what is left (a slow or failing receiver) is retried with
            # backoff by the next pass, of this flow or of deliver_flow.
            report.alerts = asdict(deliver_alerts(state, settings, evaluate_alerts(state, embedder, settings)))
        with clock.stage("catalog"):
            report.catalog = build_catalog(settings, as_of)
    except BaseException:
        report.state = "failed"
        report.save_progress(data.reports_dir)
        raise
    report.state = "finished"
    report.finished = datetime.now(UTC).isoformat(timespec="seconds")
    report.stage_seconds = clock.seconds
    report.save(data.reports_dir)
    print(report.render())
    return report.to_dict()


@dataclass(slots=True)
class _Run:
    """What a run publishes at each checkpoint: the index so far, the change state of the sources it holds,
    and the progress report that /health and the status page show."""

    report: IngestReport
    clock: _Clock
    state: StateStore
    reports_dir: Path
    pending: list[SourceChanges] = field(default_factory=list)

    def checkpoint(self, store: VectorWriter, *, save_state: bool = True) -> None:
        with self.clock.stage("commit"):
            store.checkpoint()
        if save_state:  # a source's change state goes with its last part, once that part is published
            self.save_state()
        self.report.documents, self.report.points = store.count_documents(), store.count_points()
        self.report.stage_seconds = self.clock.seconds
        self.report.save_progress(self.reports_dir)

    def save_state(self) -> None:
        for outcome in self.pending:
            outcome.save(self.state)
        self.pending.clear()


def run_ingestion(
    settings: Settings,
    sources: list[str] | None = None,
    limit: int | None = None,
    today: str | None = None,
    progress: bool = True,
    distributed: bool = False,
) -> dict:
    """Run the flow; ``distributed`` on a Dask task runner (``pipelines/backfill.py``), else as it is."""
    if not distributed:
        return ingest_flow(sources=sources, limit=limit, today=today, progress=progress)
    # with_options is typed for runners of plain PrefectFutures; DaskTaskRunner's futures are a subclass.
    runner = cast("TaskRunner[PrefectFuture[Any]]", dask_runner(settings.ingest))
    return ingest_flow.with_options(task_runner=runner)(
        sources=sources, limit=limit, today=today, progress=progress, distributed=True
    )
