"""EdgeStore: idempotent writes, document replacement, and the generation swap that lets the API keep
answering while an ingestion runs."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from qdrant_client import QdrantClient

from convergenze.core.records import Chunk, IndexedChunk, SearchFilters, SparseVector
from convergenze.core.settings import DataSettings, QdrantSettings
from convergenze.index.store import EdgeStore, QdrantClientStore, StoreBusyError, store_writer
from convergenze.index.store.documents_of_points import DocumentsOfPoints
from convergenze.index.store.edge_generations import CURRENT_FILE, read_current

pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning")

DIM = 8
PROJECT = Path(__file__).resolve().parents[1]


def doc_points(document_id: str, texts: list[str], *, seed: int = 0, **payload: Any) -> list[IndexedChunk]:
    rng = random.Random(f"{document_id}-{seed}")
    base = {"content_hash": f"{document_id}-{seed}", "type": "call", "source": "test", **payload}
    return [
        IndexedChunk(
            chunk=Chunk(document_id=document_id, position=position, text=text),
            dense=[rng.gauss(0.0, 1.0) for _ in range(DIM)],
            sparse=SparseVector(sorted(rng.sample(range(40), 4)), [1.0, 2.0, 0.5, 1.5]),
            payload=base,
        )
        for position, text in enumerate(texts)
    ]


def corpus(n_documents: int, *, prefix: str = "call") -> list[IndexedChunk]:
    return [p for d in range(n_documents)
            for p in doc_points(f"{prefix}:{d}", [f"{prefix} {d} a", f"{prefix} {d} b"])]


def run_python(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in another process, from the project root so ``index`` and ``tests`` import."""
    return subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=PROJECT,
                          timeout=60)


def probe(store: EdgeStore) -> list[str]:
    """Every document id the store can find, through search (not just counts)."""
    query = [1.0] * DIM
    return sorted(h.document_id for h in store.search(query, None, SearchFilters(), 100, "dense"))


def thread_finished_cleanly(thread: threading.Thread, reads: list[int]) -> bool:
    # A reader thread that died early would leave few reads; an exception also surfaces as a warning -> error.
    return not thread.is_alive() and len(reads) > 5


def commit(root: Path, points: list[IndexedChunk], *, delete: tuple[str, ...] = ()) -> None:
    with EdgeStore.begin_write(root) as writer:
        writer.ensure_schema(DIM)
        for document_id in delete:
            writer.delete_document(document_id)
        writer.upsert(points)


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    return tmp_path / "edge"


def test_reader_before_first_commit_is_an_empty_index(root: Path) -> None:
    reader = EdgeStore.open_reader(root)
    assert reader.count_points() == 0 and reader.count_documents() == 0
    assert reader.search([1.0] * DIM, SparseVector([1], [1.0]), SearchFilters(), 5) == []
    assert reader.document_hashes() == {} and reader.facet("type") == {}
    with pytest.raises(ValueError, match="begin_write"):
        reader.upsert(corpus(1))


def test_reupserting_the_same_points_is_idempotent(root: Path) -> None:
    points = corpus(12)
    commit(root, points)
    reader = EdgeStore.open_reader(root)
    before = (reader.count_points(), reader.count_documents(), reader.point_ids("call:3"), probe(reader))
    commit(root, points)
    commit(root, points)
    after = (reader.count_points(), reader.count_documents(), reader.point_ids("call:3"), probe(reader))
    assert before == after
    assert before[0] == 24 and before[1] == 12 and len(before[2]) == 2


def test_replacing_a_document_leaves_no_stale_points(root: Path) -> None:
    commit(root, corpus(5) + doc_points("call:x", ["old 1", "old 2", "old 3", "old 4"]))
    reader = EdgeStore.open_reader(root)
    old_ids = reader.point_ids("call:x")
    assert len(old_ids) == 4
    new = doc_points("call:x", ["new 1", "new 2"], seed=1)
    commit(root, new, delete=("call:x",))
    assert reader.point_ids("call:x") == {p.chunk.point_id for p in new}
    assert not reader.point_ids("call:x") & old_ids
    assert [c["text"] for c in reader.get_document_chunks("call:x")] == ["new 1", "new 2"]
    assert reader.document_hashes()["call:x"] == "call:x-1"
    assert reader.count_points() == 10 + 2


def test_reader_sees_old_data_until_commit_then_the_new(root: Path) -> None:
    commit(root, corpus(4))
    reader = EdgeStore.open_reader(root)
    assert probe(reader) == [f"call:{d}" for d in range(4)]
    first_generation = reader.generation

    writer = EdgeStore.begin_write(root)
    writer.ensure_schema(DIM)
    writer.delete_document("call:0")
    writer.upsert(corpus(3, prefix="measure"))
    assert writer.count_documents() == 6  # the writer sees its own changes
    assert probe(reader) == [f"call:{d}" for d in range(4)]  # the reader does not, yet
    assert reader.count_points() == 8 and reader.generation == first_generation
    writer.commit()

    assert probe(reader) == sorted([f"call:{d}" for d in range(1, 4)] + [f"measure:{d}" for d in range(3)])
    assert reader.count_points() == 12 and reader.generation != first_generation
    assert read_current(root) == reader.generation


def test_a_checkpoint_publishes_and_the_writer_goes_on(root: Path) -> None:
    """What the ingestion does after each source: readers see it at once, the writer keeps the lock and writes
    on; an abort after a checkpoint drops only what came after it."""
    reader = EdgeStore.open_reader(root)
    writer = EdgeStore.begin_write(root)
    writer.ensure_schema(DIM)
    writer.upsert(corpus(2))
    writer.checkpoint()
    assert probe(reader) == ["call:0", "call:1"]
    with pytest.raises(StoreBusyError):
        EdgeStore.begin_write(root)
    writer.upsert(corpus(2, prefix="measure"))
    writer.checkpoint()
    assert probe(reader) == ["call:0", "call:1", "measure:0", "measure:1"]
    writer.upsert(corpus(1, prefix="project"))
    writer.abort()
    assert probe(EdgeStore.open_reader(root)) == ["call:0", "call:1", "measure:0", "measure:1"]
    assert len([p for p in root.iterdir() if p.name.startswith("gen-")]) <= 2  # old generations are dropped
    commit(root, corpus(1, prefix="project"))  # the lock was released
    assert "project:0" in probe(reader)


# Whatever the reading thread raises (the engine raises plain Exception) must fail the test.
@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_readers_keep_answering_while_a_write_commits(root: Path) -> None:
    commit(root, corpus(6))
    reader = EdgeStore.open_reader(root)
    seen: set[int] = set()
    reads: list[int] = []
    stop = threading.Event()

    def keep_reading() -> None:
        while not stop.is_set():
            seen.add(len(probe(reader)))
            reads.append(1)

    thread = threading.Thread(target=keep_reading)
    thread.start()
    try:
        time.sleep(0.2)
        commit(root, corpus(4, prefix="measure"))
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
    assert thread_finished_cleanly(thread, reads)
    assert seen <= {6, 10} and 10 in seen  # never a half-written state


def test_aborted_write_leaves_the_current_generation_untouched(root: Path) -> None:
    commit(root, corpus(3))
    current = read_current(root)
    reader = EdgeStore.open_reader(root)
    with pytest.raises(RuntimeError, match="boom"):
        with EdgeStore.begin_write(root) as writer:
            writer.ensure_schema(DIM)
            for d in range(3):
                writer.delete_document(f"call:{d}")
            writer.upsert(corpus(2, prefix="measure"))
            aborted = writer.path
            raise RuntimeError("boom")
    assert not aborted.exists()
    assert read_current(root) == current
    assert probe(reader) == ["call:0", "call:1", "call:2"]
    assert probe(EdgeStore.open_reader(root)) == ["call:0", "call:1", "call:2"]
    commit(root, corpus(1, prefix="measure"))  # the lock was released
    assert "measure:0" in probe(reader)


def test_second_writer_is_refused_with_a_clear_message(root: Path) -> None:
    commit(root, corpus(2))
    writer = EdgeStore.begin_write(root)
    with pytest.raises(StoreBusyError, match=rf"Another ingestion is writing to .*pid {os.getpid()}"):
        EdgeStore.begin_write(root)
    # ... also from another process (fcntl locks are per open file, and die with their process)
    script = (
        "import sys; from index.store import EdgeStore, StoreBusyError\n"
        "try:\n    EdgeStore.begin_write(sys.argv[1])\n"
        "except StoreBusyError as e:\n    print(e); sys.exit(3)\n"
    )
    other = run_python(script, str(root))
    assert other.returncode == 3, other.stderr
    assert "only one writer may run at a time" in other.stdout
    writer.abort()
    EdgeStore.begin_write(root).abort()


def test_a_crashed_writer_neither_blocks_nor_leaks(root: Path) -> None:
    commit(root, corpus(2))
    script = (
        "import os, sys; from index.store import EdgeStore\n"
        "from tests.test_store_edge import corpus, DIM\n"
        "w = EdgeStore.begin_write(sys.argv[1]); w.ensure_schema(DIM); w.upsert(corpus(5, prefix='x'))\n"
        "w.flush(); print(w.path); sys.stdout.flush(); os._exit(1)\n"
    )
    crashed = run_python(script, str(root))
    leftover = Path(crashed.stdout.strip())
    assert crashed.returncode == 1 and leftover.is_dir(), crashed.stderr
    assert probe(EdgeStore.open_reader(root)) == ["call:0", "call:1"]
    commit(root, corpus(1, prefix="measure"))
    assert not leftover.exists()


def test_a_reader_holding_a_deleted_generation_keeps_working(root: Path) -> None:
    commit(root, corpus(5))
    pinned = EdgeStore.open_reader(root, follow=False)
    expected = probe(pinned)
    old = root / str(pinned.generation)
    commit(root, corpus(2, prefix="measure"))  # old becomes the previous generation: kept
    assert old.is_dir()
    previous = read_current(root)
    commit(root, corpus(2, prefix="policy"))  # now it is older than the previous one: deleted
    assert not old.exists()
    # Its files are unlinked but still mapped: queries, scrolls, counts and facets still answer.
    assert probe(pinned) == expected
    assert pinned.count_points() == 10 and pinned.count_documents() == 5
    assert pinned.facet("type") == {"call": 5}
    assert len(pinned.get_document_chunks("call:1")) == 2
    hits = pinned.search(None, SparseVector([1, 2, 3, 5, 8, 13], [1.0] * 6), SearchFilters(), 5, "sparse")
    assert hits and all(h.document_id.startswith("call:") for h in hits)
    pinned.close()
    assert {p.name for p in root.iterdir() if p.name.startswith("gen-")} == {read_current(root), previous}


def test_two_processes_can_read_the_same_generation(root: Path) -> None:
    commit(root, corpus(3))
    reader = EdgeStore.open_reader(root)
    expected = probe(reader)  # this process has the generation open
    script = (
        "import sys; from index.store import EdgeStore\n"
        "from tests.test_store_edge import probe\n"
        "print(','.join(probe(EdgeStore.open_reader(sys.argv[1]))))\n"
    )
    other = run_python(script, str(root))
    assert other.returncode == 0, other.stderr
    assert other.stdout.strip().split(",") == expected
    assert probe(reader) == expected


def test_schema_dim_mismatch_raises_value_error(root: Path) -> None:
    commit(root, corpus(1))
    with pytest.raises(ValueError, match="re-ingest into a new data dir"):
        with EdgeStore.begin_write(root) as writer:
            writer.ensure_schema(DIM * 2)
    with pytest.raises(ValueError, match="re-ingest into a new data dir"):
        EdgeStore.open_reader(root).ensure_schema(DIM * 2)
    EdgeStore.open_reader(root).ensure_schema(DIM)  # the right size passes
    client = QdrantClientStore(QdrantClient(":memory:"), "dims")
    client.ensure_schema(DIM)
    client.ensure_schema(DIM)
    with pytest.raises(ValueError, match="re-ingest into a new collection"):
        client.ensure_schema(DIM * 2)


def test_writer_misuse_raises_value_error(root: Path) -> None:
    writer = EdgeStore.begin_write(root)
    with pytest.raises(ValueError, match=r"call ensure_schema\(dense_dim\)"):
        writer.upsert(corpus(1))
    writer.ensure_schema(DIM)
    with pytest.raises(ValueError, match="model the index was built with"):
        writer.upsert([IndexedChunk(Chunk("call:1", 0, "x"), [0.1] * 3, SparseVector([], []),
                                    {"content_hash": "h"})])
    with pytest.raises(ValueError, match="content_hash"):
        writer.upsert([IndexedChunk(Chunk("call:1", 0, "x"), [0.1] * DIM, SparseVector([], []), {})])
    with pytest.raises(ValueError, match="ISO 8601"):
        writer.upsert(doc_points("call:1", ["x"], deadline="31/03/2026"))
    writer.commit()
    with pytest.raises(ValueError, match="already committed"):
        writer.upsert(corpus(1))
    assert EdgeStore.open_reader(root).count_points() == 0


def test_store_writer_uses_edge_under_the_data_dir_and_commits(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVERGENZE_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("QDRANT_URL", raising=False)
    data, qdrant = DataSettings(), QdrantSettings()
    with store_writer(qdrant, data) as writer:
        writer.ensure_schema(DIM)
        writer.upsert(corpus(2))
    root = data.index_dir / "edge"
    assert (root / CURRENT_FILE).is_file()
    assert probe(EdgeStore.open_reader(root)) == ["call:0", "call:1"]
    with pytest.raises(KeyError):
        with store_writer(qdrant, data) as writer:
            writer.delete_document("call:0")
            raise KeyError("fail")
    assert probe(EdgeStore.open_reader(root)) == ["call:0", "call:1"]


def test_a_search_reads_each_pooled_points_document_once_per_process(root: Path) -> None:
    commit(root, corpus(6))
    reader = EdgeStore.open_reader(root)
    reads: list[list[str]] = []
    original = reader._document_ids

    def counted(point_ids: list[str]) -> dict[str, str]:
        reads.append(point_ids)
        return original(point_ids)

    reader._document_ids = counted  # type: ignore[method-assign]
    first = probe(reader)
    assert first == [f"call:{d}" for d in range(6)] and len(reads[0]) == 12
    # A newer generation: the points seen before keep their document, only the new ones are read.
    commit(root, corpus(1, prefix="grant"), delete=("call:0",))
    assert probe(reader) == [f"call:{d}" for d in range(1, 6)] + ["grant:0"]
    assert sorted(reads[1]) == sorted(p.chunk.point_id for p in corpus(1, prefix="grant"))
    assert probe(reader) == [f"call:{d}" for d in range(1, 6)] + ["grant:0"] and len(reads) == 2


def test_documents_of_points_stay_bounded_and_forget_nothing_they_were_not_given() -> None:
    known = DocumentsOfPoints(size=3)
    assert known.lookup(["a", "b", "gone"], lambda ids: {i: f"doc-{i}" for i in ids if i != "gone"}) == {
        "a": "doc-a", "b": "doc-b"}
    assert len(known) == 2  # a point the store did not return is not remembered
    assert known.lookup(["a", "c", "d"], lambda ids: {i: f"doc-{i}" for i in ids}) == {
        "a": "doc-a", "c": "doc-c", "d": "doc-d"}
    assert len(known) <= 3
    with pytest.raises(ValueError):
        DocumentsOfPoints(size=0)


def test_remember_documents_reads_every_point_or_stops_when_told(root: Path) -> None:
    commit(root, corpus(40))
    reader = EdgeStore.open_reader(root)
    stop = threading.Event()
    stop.set()
    assert reader.remember_documents(stop, pause=0) == 32  # one page, then the stop is seen
    assert reader.remember_documents(pause=0) == 80 == len(reader.documents_of_points)
    reads: list[list[str]] = []
    original = reader._document_ids
    reader._document_ids = lambda ids: reads.append(ids) or original(ids)  # type: ignore[method-assign]
    assert len(probe(reader)) == 40 and reads == []
    reader.documents_of_points = DocumentsOfPoints(size=40)
    assert reader.remember_documents(pause=0) == 32 == len(reader.documents_of_points)  # a second page would not fit
