"""The model's pool over real HTTP: while every model thread is busy, what needs no model still answers
(``/health``, BM25 search), and what needs it waits its turn instead of running beside the pool."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
import pytest

from convergenze.api.main import create_app
from convergenze.core.settings import Settings
from convergenze.services.wiring import Services
from tests.conftest import serve_app, use_environment

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(ingested: dict) -> Iterator[tuple[str, Services]]:
    with pytest.MonkeyPatch.context() as patch:
        use_environment(patch, ingested["data_dir"], ingested["mirror"], ingested["models_dir"])
        patch.setenv("CONVERGENZE_EMBED_THREADS", "1")  # a pool of one thread: one blocked call fills it
        services = Services(Settings.load())
        with serve_app(create_app(services)) as url:
            yield url, services


def _occupy(services: Services, gate: threading.Event) -> threading.Thread:
    """Work that holds one of the pool's threads until ``gate`` opens, submitted as the routes submit theirs."""
    thread = threading.Thread(target=lambda: asyncio.run(services.workers.run(gate.wait, 60)), daemon=True)
    thread.start()
    return thread


def test_health_and_bm25_answer_while_the_model_pool_is_full(served: tuple[str, Services], ingested: dict) -> None:
    url, services = served
    gate = threading.Event()
    holders = [_occupy(services, gate) for _ in range(services.workers.size)]
    try:
        with httpx.Client(base_url=url, timeout=30) as http, ThreadPoolExecutor(1) as pool:
            hybrid: Future[httpx.Response] = pool.submit(
                http.get, "/v1/search", params={"q": "digitalizzazione dei comuni", "mode": "hybrid"})
            health = http.get("/health")
            assert health.status_code == 200
            assert health.json()["documents"] == ingested["report"]["documents"]
            sparse = http.get("/v1/search", params={"q": "digitalizzazione dei comuni", "mode": "sparse"})
            assert sparse.status_code == 200 and sparse.json()["count"] > 0
            # The hybrid search embeds its query in the pool: it cannot have been answered while the pool is held.
            assert not hybrid.done()
            gate.set()
            answered = hybrid.result(timeout=60)
            assert answered.status_code == 200 and answered.json()["count"] > 0
    finally:
        gate.set()
        for holder in holders:
            holder.join(timeout=60)


def test_a_started_server_reads_which_document_each_passage_belongs_to(served: tuple[str, Services]) -> None:
    url, services = served
    store = services.store
    deadline = time.monotonic() + 60
    while len(store.documents_of_points) < store.count_points() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(store.documents_of_points) == store.count_points() > 0
    read: list[list[str]] = []
    original = store._document_ids
    store._document_ids = lambda ids: read.append(ids) or original(ids)  # type: ignore[method-assign]
    try:
        answer = httpx.get(f"{url}/v1/search", params={"q": "digitalizzazione delle imprese", "mode": "sparse"},
                           timeout=60)
    finally:
        del store._document_ids
    assert answer.status_code == 200 and answer.json()["data"]
    assert read == []  # every pooled passage's document was known already
