"""The one place where the services are built from the settings, for the API, the web pages and the CLI.

Each part opens on first use, so a command pays only for what it needs: ``convergenze actors`` reads the
catalog and never loads the model, ``convergenze search`` never builds the mission classifier. For the same
reason the modules behind each part are imported when the part is first built (spaCy, the model runtime and
Qdrant take seconds to import). The API warms every part up before it answers (``Services.warm_up``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from convergenze.core.settings import Settings, available_cores
from convergenze.corpora.state import StateStore
from convergenze.extractors.gazetteer import Gazetteer, default_gazetteer
from convergenze.matching.catalog import Catalog

from .access import AccessStore
from .workers import ModelWorkers

if TYPE_CHECKING:
    from convergenze.core.embedding import Embedder
    from convergenze.extractors.missions import MissionClassifier
    from convergenze.extractors.taxonomy import Taxonomy
    from convergenze.index.search import SearchService
    from convergenze.index.store.base import VectorStore
    from convergenze.matching.service import ConvergenceService

    from .extraction import ExtractionService


@dataclass(frozen=True, slots=True)
class IndexStats:
    documents: int
    points: int
    by_type: dict[str, int]
    by_source: dict[str, int]
    last_ingestion: dict[str, Any] | None  # the last ingestion report (pipelines/report.py), as saved


@dataclass(frozen=True, slots=True)
class IngestionProgress:
    """Where the last (or the running) ingestion is: sources done of those planned, what the index holds."""

    state: str  # running, finished, failed
    started: str
    finished: str | None
    sources_done: int
    sources_planned: int
    current: str | None  # the source being read while running
    documents: int
    points: int

    @classmethod
    def from_report(cls, report: dict[str, Any]) -> IngestionProgress:
        sources = [s for s in report.get("sources") or [] if isinstance(s, dict)]
        done = [s for s in sources if s.get("seconds") or s.get("error")]
        planned = report.get("planned") or [s.get("source") for s in sources]
        state = str(report.get("state") or ("finished" if report.get("finished") else "running"))
        current = sources[-1].get("source") if state == "running" and len(sources) > len(done) else None
        return cls(state, str(report.get("started") or ""), report.get("finished"), len(done), len(planned),
                   current, int(report.get("documents") or 0), int(report.get("points") or 0))


T = TypeVar("T")
# What an index without generations (a Qdrant server) is cached for: its counts may change at any moment.
_UNVERSIONED_SECONDS = 10.0


class Services:
    """The store (a reader), the model, search, convergence, extraction, the catalog, the gazetteer, the taxonomy
    and the ingestion state, all from one ``Settings``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._memo: dict[str, tuple[Hashable, Any]] = {}
        self._report: tuple[tuple[int, int], dict[str, Any] | None] | None = None

    @property
    def call_threads(self) -> int:
        """Threads one model call gets here: ``CONVERGENZE_EMBED_THREADS``, else one. Queries are short and come
        several at once: one thread per call and as many calls at once as cores keeps every core busy without
        oversubscribing them (two threads per call, two calls at once, on two cores shared with other work:
        a query took 1.4-2.3x as long as with one thread, measured in one interleaved run). Ingestion embeds
        large batches one after another and keeps its threads (pipelines/ingest.py)."""
        return self.settings.embedding.threads or 1

    @cached_property
    def workers(self) -> ModelWorkers:
        """The pool the model's work runs in (``services/workers.py``): the cores, divided among the calls."""
        return ModelWorkers(max(1, available_cores() // self.call_threads))

    def per_generation(self, name: str, compute: Callable[[], T]) -> T:
        """``compute()``, kept until the index changes (a new Edge generation; on a server, a few seconds):
        counts and facets that every page repeats are read once per generation, not per request."""
        version = self.store.version()
        key = version if version is not None else int(time.monotonic() // _UNVERSIONED_SECONDS)
        found = self._memo.get(name)
        if found is not None and found[0] == key:
            return found[1]
        value = compute()
        self._memo[name] = (key, value)
        return value

    @property
    def backend(self) -> str:
        return "qdrant-server" if self.settings.qdrant.url else "qdrant-edge"

    @cached_property
    def store(self) -> VectorStore:
        from convergenze.index.store.factory import open_store

        return open_store(self.settings.qdrant, self.settings.data, write=False)

    @cached_property
    def embedder(self) -> Embedder:
        from convergenze.index.embeddings import create_embedder

        return create_embedder(self.settings.embedding.model_copy(update={"threads": self.call_threads}),
                               self.settings.data)

    @cached_property
    def search(self) -> SearchService:
        from convergenze.index.search import SearchService
        from convergenze.index.sparse import Bm25SparseEncoder

        return SearchService(self.store, self.embedder, Bm25SparseEncoder())

    @cached_property
    def catalog(self) -> Catalog:
        return Catalog(self.settings.data.catalog_path)

    @cached_property
    def gazetteer(self) -> Gazetteer:
        return default_gazetteer()

    @cached_property
    def taxonomy(self) -> Taxonomy:
        from convergenze.extractors.taxonomy import Taxonomy

        return Taxonomy.load()

    @cached_property
    def state(self) -> StateStore:
        """Notice versions, change events and alerts (``data/state/state.sqlite``)."""
        return StateStore(self.settings.data.state_dir / "state.sqlite")

    @cached_property
    def access(self) -> AccessStore:
        """API keys and the audit log, beside the state (``data/state/state.sqlite``)."""
        return AccessStore(self.state, self.settings.security.api_key)

    @cached_property
    def missions(self) -> MissionClassifier:
        """The ingestion's mission classifier: the model, the taxonomy and the vote of the examples the ingestion
        embedded (read from the models dir, not built here: a request must not embed the mirror)."""
        from convergenze.index.mission_examples import mission_labeller

        return mission_labeller(self.embedder, self.settings.data, build=False)

    @cached_property
    def convergence(self) -> ConvergenceService:
        from convergenze.index.text_vectors import TextVectors
        from convergenze.matching.explain import Explainer
        from convergenze.matching.service import ConvergenceService
        from convergenze.matching.supervision import ProjectVote

        explainer = Explainer(self.embedder, self.store, self.missions,
                              objective_vectors=TextVectors(self.settings.data.text_vectors_path, self.embedder))
        vote = ProjectVote(self.store) if self.settings.ranking.project_vote else None
        return ConvergenceService(self.search, self.catalog, explainer, self.gazetteer, vote=vote)

    @cached_property
    def extraction(self) -> ExtractionService:
        """What a call says, read without storing it (needs no index: the model and the extractors)."""
        from .extraction import ExtractionService

        return ExtractionService(self.gazetteer, self.missions)

    def counts(self) -> tuple[int, int]:
        """Documents and points in the index, read once per generation."""
        return self.per_generation("counts", lambda: (self.store.count_documents(), self.store.count_points()))

    def last_ingestion(self) -> dict[str, Any] | None:
        """The last ingestion report (``pipelines/report.py``), or the running one's progress; read again only
        when the flow has written it since."""
        latest = self.settings.data.reports_dir / "latest.json"
        stamp = _stamp(latest)
        if self._report is None or self._report[0] != stamp:
            try:
                report = json.loads(latest.read_text(encoding="utf-8")) if stamp != (0, 0) else None
            except (OSError, json.JSONDecodeError):  # replaced while read: the next call reads the new one
                report = None
            self._report = (stamp, report)
        return self._report[1]

    def progress(self) -> IngestionProgress | None:
        report = self.last_ingestion()
        return IngestionProgress.from_report(report) if report else None

    def stats(self) -> IndexStats:
        documents, points = self.counts()
        return IndexStats(
            documents=documents,
            points=points,
            by_type=self.per_generation("by_type", lambda: self.store.facet("type", None)),
            by_source=self.per_generation("by_source", lambda: self.store.facet("source", None)),
            last_ingestion=self.last_ingestion(),
        )

    def warm_up(self) -> None:
        """Open every part before the first request, and build the catalog of an index that predates it."""
        if not self.catalog.path.is_file() and self.store.count_points():
            from convergenze.matching.catalog_build import CatalogBuilder

            CatalogBuilder(self.catalog.path).run(self.store)
        self.convergence.warm_up()
        self.extraction.run("Avviso pubblico per le imprese: domande entro il 31 dicembre 2026.")

    def close(self) -> None:
        if "workers" in self.__dict__:  # only what was opened
            self.workers.close()
        if "store" in self.__dict__:
            self.store.close()


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (0, 0)
    return (stat.st_ino, stat.st_mtime_ns)


@contextmanager
def open_services(settings: Settings) -> Iterator[Services]:
    """``Services`` for the length of a command; the store is closed at the end."""
    services = Services(settings)
    try:
        yield services
    finally:
        services.close()
