"""The distributed backfill: the ingestion flow's embedding stage fanned out over a Dask cluster.

When a corpus outgrows one machine's cores (OpenCoesione's ~2M funded projects, the whole incentives catalogue),
the flow runs with prefect-dask's ``DaskTaskRunner``: each batch of passages the indexer would embed becomes
one task on a Dask worker of the flow's cluster, and the flow's process still labels, encodes BM25 and writes,
one writer as always. The batches are the indexer's own, so the vectors are those of a sequential run (a test
compares them).
Without an address the runner starts a ``LocalCluster`` of processes for the length of the run; with
``CONVERGENZE_DASK_ADDRESS`` it uses that scheduler (workers there need the project installed and the model
built: ``make setup``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from convergenze.core.embedding import Embedder
from convergenze.core.settings import DataSettings, EmbeddingSettings, IngestSettings, available_cores
from convergenze.index.indexer import BatchEmbedder

if TYPE_CHECKING:
    from prefect_dask import DaskTaskRunner


def dask_runner(ingest: IngestSettings) -> DaskTaskRunner:
    """A ``DaskTaskRunner`` on the configured scheduler, or on a local cluster of one process per worker."""
    from prefect_dask import DaskTaskRunner

    if ingest.dask_address:
        return DaskTaskRunner(address=ingest.dask_address)
    # Processes, one thread each: the model's work holds the GIL between operators, so threads would queue.
    workers = ingest.dask_workers or available_cores()
    return DaskTaskRunner(cluster_class="distributed.LocalCluster",
                          cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                          "dashboard_address": None})


def worker_settings(embedding: EmbeddingSettings, workers: int) -> EmbeddingSettings:
    """A worker's share of the cores: its embedder runs single-threaded when workers fill the machine."""
    threads = embedding.threads or max(1, available_cores() // max(1, workers))
    return embedding.model_copy(update={"threads": threads})


# Filled by each worker process's first task and kept for the next ones: loading the model costs seconds.
_EMBEDDERS: dict[str, Embedder] = {}


def _embedder(embedding: EmbeddingSettings, data: DataSettings) -> Embedder:
    from convergenze.index.embeddings import create_embedder

    key = embedding.model_dump_json() + data.model_dump_json()
    if key not in _EMBEDDERS:
        _EMBEDDERS[key] = create_embedder(embedding, data)
    return _EMBEDDERS[key]


def embed_texts(texts: list[str], embedding: EmbeddingSettings, data: DataSettings) -> np.ndarray:
    """One batch, on a Dask worker: a plain module-level function, so that workers import it by name."""
    return _embedder(embedding, data).embed_passages(texts)


def distributed_batches(embedding: EmbeddingSettings, data: DataSettings) -> BatchEmbedder:
    """The indexer's ``embed_batches`` for a flow running on a ``DaskTaskRunner``: every batch is sent to the
    runner's cluster at once, and the vectors come back in order, each as soon as its batch and those before it
    are done. Each batch is a plain Dask task (a module-level function workers import by name), sent through
    the runner's own client from the flow's context."""

    def run(batches: list[list[str]]) -> Iterator[np.ndarray]:
        from prefect.context import FlowRunContext
        from prefect_dask import DaskTaskRunner

        context = FlowRunContext.get()
        runner = context.task_runner if context is not None else None
        if not isinstance(runner, DaskTaskRunner):
            raise RuntimeError("distributed embedding needs a flow run on a DaskTaskRunner (run_ingestion sets it).")
        futures = runner.client.map(embed_texts, batches, embedding=embedding, data=data, pure=False)
        for future in futures:
            yield future.result()

    return run
