"""What requests repeat is computed once per generation of what it comes from: the cache itself, the catalog's
aggregations behind match (kept until the catalog is rebuilt) and the hits' objectives the reasons embed
(kept until the index commits a new generation)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from convergenze.core.embedding import DelegatingEmbedder, Embedder
from convergenze.core.generations import PerGeneration
from convergenze.core.records import Hit
from convergenze.index.store import EdgeStore
from convergenze.matching.catalog import Catalog
from convergenze.matching.catalog_build import CatalogBuilder
from convergenze.matching.explain import Explainer
from convergenze.matching.service import ConvergenceService
from tests.test_catalog import PAYLOADS
from tests.test_store_edge import commit, corpus


class Clock:
    """A version that moves when told to, like an index generation."""

    def __init__(self) -> None:
        self.generation = 1

    def __call__(self) -> int:
        return self.generation


def test_a_value_is_kept_until_the_generation_changes() -> None:
    clock, calls = Clock(), []

    def compute() -> str:
        calls.append(clock.generation)
        return f"value of generation {clock.generation}"

    cache: PerGeneration[str, str] = PerGeneration(clock, size=4)
    assert cache.get("k", compute) == cache.get("k", compute) == "value of generation 1"
    assert calls == [1]
    clock.generation = 2
    assert cache.get("k", compute) == "value of generation 2"
    assert calls == [1, 2]


def test_the_cache_is_bounded_dropping_the_least_recently_used() -> None:
    cache: PerGeneration[int, int] = PerGeneration(Clock(), size=2)
    computed: list[int] = []

    def square(k: int) -> int:
        computed.append(k)
        return k * k

    for k in (1, 2, 1, 3):  # 1 is used again before 3 comes: 2 is the one dropped
        cache.get(k, lambda k=k: square(k))
    assert len(cache) == 2
    assert cache.get(1, lambda: square(1)) == 1 and computed == [1, 2, 3]
    assert cache.get(2, lambda: square(2)) == 4 and computed == [1, 2, 3, 2]


def test_missing_keys_are_computed_together_once() -> None:
    cache: PerGeneration[str, int] = PerGeneration(Clock(), size=10)
    batches: list[list[str]] = []

    def lengths(keys: list[str]) -> list[int]:
        batches.append(keys)
        return [len(k) for k in keys]

    assert cache.get_many(["a", "bb", "a"], lengths) == [1, 2, 1]
    assert cache.get_many(["bb", "ccc", "a"], lengths) == [2, 3, 1]
    assert batches == [["a", "bb"], ["ccc"]]
    with pytest.raises(ValueError, match="2 keys"):
        cache.get_many(["x", "y"], lambda keys: [0])
    with pytest.raises(ValueError, match="at least one"):
        PerGeneration(Clock(), size=0)


def _service(catalog: Catalog) -> ConvergenceService:
    # active_actors and mission_map read the catalog only: the search, the explainer and the gazetteer are unused.
    return ConvergenceService(None, catalog, None, None)  # type: ignore[arg-type]


def test_match_partners_from_the_catalog_are_read_again_after_a_rebuild(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite"
    CatalogBuilder(path, today=date(2026, 11, 24)).build(PAYLOADS)
    service = _service(Catalog(path))
    first = service.active_actors("digital", "Transizione digitale", None, 8)
    assert [p.name for p in first] == ["Comune di Bari"]
    assert service.active_actors("digital", "Transizione digitale", None, 8) == first
    before = service.mission_map("convergenze")
    assert service.mission_map("convergenze") is before  # not aggregated again
    # The rebuild drops Bari's digital project: the next match sees the new catalog, not the kept answer.
    CatalogBuilder(path, today=date(2026, 11, 24)).build([p for p in PAYLOADS if p["document_id"] != "pnrr-project:A"])
    assert service.active_actors("digital", "Transizione digitale", None, 8) == []
    assert service.mission_map("convergenze") is not before
    path.unlink()
    assert service.active_actors("digital", "Transizione digitale", None, 8) == []  # no catalog, no partners


class CountingEmbedder(DelegatingEmbedder):
    """The real embedder, counting the passages it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        super().__init__(inner)
        self.passages: list[str] = []

    def embed_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self.passages += list(texts)
        return self.inner.embed_passages(texts)


def _hit(document_id: str, snippet: str, objectives: list[str]) -> Hit:
    payload: dict[str, Any] = {"metadata": {"objectives": [{"text": o} for o in objectives]}}
    return Hit(document_id, 0.9, snippet, payload, point_id="")


def test_the_hits_objectives_are_embedded_once_per_index_generation(models_dir: Path, tmp_path: Path) -> None:
    from convergenze.core.settings import DataSettings, EmbeddingSettings
    from convergenze.index.embeddings import create_embedder

    root = tmp_path / "edge"
    commit(root, corpus(2))
    store = EdgeStore.open_reader(root)
    embedder = CountingEmbedder(create_embedder(EmbeddingSettings(), DataSettings(CONVERGENZE_MODELS=models_dir)))
    explainer = Explainer(embedder, store)
    read = explainer.read("Il comune vuole ridurre i consumi energetici degli edifici scolastici con il "
                          "fotovoltaico e formare il personale sulla gestione dell'energia.", "it")
    objectives = ["Ridurre i consumi energetici degli edifici pubblici", "Formare il personale tecnico"]
    hits = [_hit("call:a", "Efficienza energetica delle scuole comunali.", objectives),
            _hit("call:b", "Corsi per tecnici dell'energia.", objectives[1:])]

    embedder.passages.clear()
    first = explainer.run(read, hits)
    assert sorted(embedder.passages) == sorted([h.snippet for h in hits] + objectives)  # each objective once
    embedder.passages.clear()
    again = explainer.run(read, hits)
    assert sorted(embedder.passages) == sorted(h.snippet for h in hits)  # the snippets have no stored vector
    assert again == first
    commit(root, corpus(3))  # a new generation: what was kept may describe documents that changed
    embedder.passages.clear()
    assert explainer.run(read, hits) == first
    assert sorted(embedder.passages) == sorted([h.snippet for h in hits] + objectives)
    store.close()


def test_peek_reads_what_is_kept_of_this_generation_and_computes_nothing() -> None:
    clock = Clock()
    cache: PerGeneration[str, str] = PerGeneration(clock, size=2)
    assert cache.peek("k") is None and len(cache) == 0
    cache.get("k", lambda: "v")
    assert cache.peek("k") == "v"
    clock.generation = 2
    assert cache.peek("k") is None
