"""Store benchmark: Edge bulk load; filtered top-10 latency of Edge (after optimize) vs qdrant-client local.

    .venv/bin/python -m benchmarks.store --points 100000
    .venv/bin/python -m benchmarks.store --points 50000 --checkpoints 10

With ``--checkpoints N``: an ingestion's load instead, in N parts published one by one (as the flow publishes
each source), with HNSW built at every checkpoint (the code before, emulated with ``optimize()``) beside HNSW
built by the commit alone (now): seconds in checkpoints and commit, and a search on what was published
before the last part.

Synthetic but shaped like the corpus: 4 chunks per document, a 384-d dense vector (e5-small's size), ~20 BM25
terms out of 30k, payloads with type/region/status/deadline/missions. Queries go through the VectorStore API
(so they include the per-document grouping) with a filter that keeps roughly a tenth of the points.

qdrant-client local answers by brute force in Python (seconds per query at 100k points), so it gets fewer
queries (--client-queries). The Edge commit at 100k is dominated by the HNSW build; incremental commits
(a copy of the generation plus a few hundred points) take well under a second.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from qdrant_client import QdrantClient

from convergenze.core.records import Chunk, IndexedChunk, SearchFilters, SparseVector
from convergenze.core.vocabulary import SearchMode
from convergenze.index.store import EdgeStore, QdrantClientStore, VectorStore, VectorWriter

TYPES = ("call", "measure", "project", "programme", "policy")
REGIONS = ("lazio", "puglia", "lombardia", "sicilia", "campania")
STATUSES = ("open", "closed", "forthcoming")
MISSIONS = ("M1", "M2", "M3", "M4", "M5", "M6")
VOCABULARY = 30_000
CHUNKS_PER_DOCUMENT = 4
FILTERS = SearchFilters(types=("call", "measure"), status="open", deadline_from=date(2026, 1, 1))

Queries = list[tuple[list[float], SparseVector]]


def batches(points: int, dim: int, seed: int, batch_size: int) -> Iterator[list[IndexedChunk]]:
    """The same points for every backend, generated batch by batch so 100k x 384 floats never sit in lists."""
    rng = np.random.default_rng(seed)
    start_day = date(2025, 6, 1)
    for start in range(0, points, batch_size):
        size = min(batch_size, points - start)
        dense = rng.standard_normal((size, dim), dtype=np.float32)
        batch = []
        for row in range(size):
            n = start + row
            document = n // CHUNKS_PER_DOCUMENT
            doc_rng = np.random.default_rng([seed, document])  # payload fixed per document
            terms = np.unique(rng.integers(0, VOCABULARY, 20))
            batch.append(IndexedChunk(
                chunk=Chunk(document_id=f"call:{document:07d}", position=n % CHUNKS_PER_DOCUMENT,
                            text=f"passage {n % CHUNKS_PER_DOCUMENT} of document {document}"),
                dense=dense[row].tolist(),
                sparse=SparseVector(terms.tolist(), rng.uniform(0.5, 3.0, len(terms)).round(3).tolist()),
                payload={
                    "content_hash": f"h{document}",
                    "type": TYPES[doc_rng.integers(len(TYPES))],
                    "region": REGIONS[doc_rng.integers(len(REGIONS))],
                    "status": STATUSES[doc_rng.integers(len(STATUSES))],
                    "deadline": (start_day + timedelta(days=int(doc_rng.integers(900)))).isoformat(),
                    "mission_codes": sorted({MISSIONS[i] for i in doc_rng.integers(len(MISSIONS), size=2)}),
                    "source": "benchmark",
                },
            ))
        yield batch


def queries(count: int, dim: int, seed: int) -> Queries:
    rng = np.random.default_rng(seed + 1)
    out = []
    for _ in range(count):
        terms = np.unique(rng.integers(0, VOCABULARY, 5))
        out.append((rng.standard_normal(dim).tolist(), SparseVector(terms.tolist(), [1.0] * len(terms))))
    return out


def load(writer: VectorWriter, args: argparse.Namespace) -> tuple[float, float]:
    """Seconds spent in upsert (not generating data), and committing (flush + optimize/HNSW for Edge)."""
    writer.ensure_schema(args.dim)
    upserting = 0.0
    for batch in batches(args.points, args.dim, args.seed, args.batch):
        started = time.perf_counter()
        writer.upsert(batch)
        upserting += time.perf_counter() - started
    started = time.perf_counter()
    writer.commit()
    return upserting, time.perf_counter() - started


def checkpointed(root: Path, args: argparse.Namespace, *, hnsw_each_time: bool) -> tuple[float, float, float]:
    """Seconds in checkpoints, in the commit, and the p50 ms of a filtered dense search on the generation
    published before the last part (what the API serves while the ingestion goes on)."""
    writer = EdgeStore.begin_write(root)
    writer.ensure_schema(args.dim)
    parts = list(batches(args.points, args.dim, args.seed, -(-args.points // args.checkpoints)))
    checkpoints = 0.0
    for batch in parts[:-1]:
        writer.upsert(batch)
        started = time.perf_counter()
        if hnsw_each_time:
            writer.optimize()
        writer.checkpoint()
        checkpoints += time.perf_counter() - started
    reader = EdgeStore.open_reader(root)
    during = percentile(latencies(reader, queries(20, args.dim, args.seed), "dense"), 50)
    reader.close()
    writer.upsert(parts[-1])
    started = time.perf_counter()
    writer.commit()
    return checkpoints, time.perf_counter() - started, during


def compare_checkpoints(args: argparse.Namespace) -> None:
    print(f"{args.points:,} points in {args.checkpoints} parts, each published by a checkpoint")
    figures = {}
    for label, each_time in (("HNSW at every checkpoint (before)", True), ("HNSW at commit only (now)", False)):
        with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
            figures[label] = checkpointed(Path(tmp) / "edge", args, hnsw_each_time=each_time)
        checkpoints, commit, during = figures[label]
        print(f"  {label:<34} checkpoints {checkpoints:6.1f} s, commit {commit:6.1f} s, "
              f"total {checkpoints + commit:6.1f} s; dense search while loading p50 {during:6.2f} ms")
    before, now = figures.values()
    print(f"  now / before: total x{(now[0] + now[1]) / (before[0] + before[1]):.2f}, "
          f"search while loading x{now[2] / before[2]:.2f}")


def latencies(store: VectorStore, qs: Queries, mode: SearchMode) -> list[float]:
    dense, sparse = qs[0]  # warm the page cache and the thread pool (one query: brute force is slow)
    store.search(dense, sparse, FILTERS, 10, mode)
    out = []
    for dense, sparse in qs:
        started = time.perf_counter()
        hits = store.search(dense, sparse, FILTERS, 10, mode)
        out.append((time.perf_counter() - started) * 1000)
        if not hits:
            raise RuntimeError("a benchmark query found nothing: the filter is too narrow for this size")
    return out


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def report(name: str, values: list[float]) -> tuple[float, float]:
    p50, p95 = percentile(values, 50), percentile(values, 95)
    print(f"  {name:<34} p50 {p50:8.2f} ms   p95 {p95:8.2f} ms   mean {statistics.fmean(values):8.2f} ms")
    return p50, p95


def timed(label: str, action: Callable[[], tuple[float, float]], points: int) -> None:
    upsert_s, commit_s = action()
    total = upsert_s + commit_s
    print(f"  {label}: upsert {upsert_s:6.1f} s ({points / upsert_s:,.0f} points/s), "
          f"commit {commit_s:6.1f} s, total {total:6.1f} s ({points / total:,.0f} points/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--client-queries", type=int, default=5,
                        help="queries for qdrant-client local (brute force: seconds each at 100k points)")
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where the Edge index goes (default: a temp dir)")
    parser.add_argument("--client-path", type=Path, default=None,
                        help="QdrantClient(path=...) instead of the default QdrantClient(':memory:')")
    parser.add_argument("--checkpoints", type=int, default=0,
                        help="compare HNSW at every checkpoint with HNSW at commit, over this many parts")
    args = parser.parse_args()
    if args.points < 1000:
        raise SystemExit("--points must be at least 1000 for the filter to leave enough to rank.")
    if args.checkpoints:
        compare_checkpoints(args)
        return
    qs = queries(args.queries, args.dim, args.seed)
    print(f"{args.points:,} points, dim {args.dim}, {args.queries} queries, filter: {FILTERS}")

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        root = Path(tmp) / "edge"
        print("Qdrant Edge")
        timed("bulk load", lambda: load(EdgeStore.begin_write(root), args), args.points)
        edge = EdgeStore.open_reader(root)
        edge_dense = report("filtered dense top-10", latencies(edge, qs, "dense"))
        edge_hybrid = report("filtered hybrid (RRF) top-10", latencies(edge, qs, "hybrid"))
        edge.close()

        where = f"path={args.client_path}" if args.client_path else ":memory:"
        print(f"qdrant-client local ({where}), {len(qs[: args.client_queries])} queries")
        client = QdrantClient(path=str(args.client_path)) if args.client_path else QdrantClient(":memory:")
        store = QdrantClientStore(client, "benchmark")
        timed("bulk load", lambda: load(store.begin_write(), args), args.points)
        client_qs = qs[: args.client_queries]
        local_dense = report("filtered dense top-10", latencies(store, client_qs, "dense"))
        local_hybrid = report("filtered hybrid (RRF) top-10", latencies(store, client_qs, "hybrid"))
        store.close()

    print("local / Edge latency ratio (higher = Edge faster)")
    for name, local, edge_ in (("dense", local_dense, edge_dense), ("hybrid", local_hybrid, edge_hybrid)):
        print(f"  {name:<7} p50 x{local[0] / edge_[0]:.1f}   p95 x{local[1] / edge_[1]:.1f}")


if __name__ == "__main__":
    main()
