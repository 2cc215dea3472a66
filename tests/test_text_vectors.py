"""Objectives embedded once by the ingestion, read by match's reasons: stored by text and model, never embedded
again, and used instead of embedding in the request."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from convergenze.core.embedding import Embedder
from convergenze.core.payload import objective_texts
from convergenze.core.settings import DataSettings, EmbeddingSettings
from convergenze.index.embeddings import create_embedder
from convergenze.index.store import EdgeStore
from convergenze.index.text_vectors import TextVectors
from convergenze.matching.explain import Explainer
from tests.test_generations import CountingEmbedder, _hit
from tests.test_store_edge import commit, corpus

OBJECTIVES = ["Ridurre i consumi energetici degli edifici pubblici", "Formare il personale tecnico",
              "Increase the uptake of renewable energy communities"]


@pytest.fixture(scope="module")
def embedder(models_dir: Path) -> Embedder:
    return create_embedder(EmbeddingSettings(), DataSettings(CONVERGENZE_MODELS=models_dir))


class Renamed(CountingEmbedder):
    @property
    def name(self) -> str:
        return "another-model"


def test_texts_are_embedded_once_and_read_back_for_the_same_model(embedder: Embedder, tmp_path: Path) -> None:
    counting = CountingEmbedder(embedder)
    vectors = TextVectors(tmp_path / "text-vectors.sqlite", counting)
    assert vectors.get_many(OBJECTIVES) == {}  # no file yet
    assert vectors.ensure(OBJECTIVES[:2] + [" ", OBJECTIVES[0]]) == 2
    assert counting.passages == OBJECTIVES[:2]
    assert vectors.ensure(OBJECTIVES) == 1 and counting.passages == OBJECTIVES  # only the new one
    stored = vectors.get_many(OBJECTIVES + ["mai vista"])
    assert sorted(stored) == sorted(OBJECTIVES)
    direct = embedder.embed_passages(OBJECTIVES)
    assert min(float(stored[t] @ direct[i]) for i, t in enumerate(OBJECTIVES)) >= 0.9999
    other = TextVectors(tmp_path / "text-vectors.sqlite", Renamed(embedder))
    assert other.get_many(OBJECTIVES) == {}  # another model's vectors are never read


def test_match_reasons_use_the_stored_objectives_instead_of_embedding_them(
    embedder: Embedder, tmp_path: Path
) -> None:
    root = tmp_path / "edge"
    commit(root, corpus(2))
    store = EdgeStore.open_reader(root)
    stored = TextVectors(tmp_path / "text-vectors.sqlite", embedder)
    stored.ensure(OBJECTIVES[:2])
    counting = CountingEmbedder(embedder)
    explainer = Explainer(counting, store, objective_vectors=stored)
    plain = Explainer(embedder, store)
    read = explainer.read("Il comune vuole ridurre i consumi energetici degli edifici scolastici e formare il "
                          "personale sulla gestione dell'energia.", "it")
    hits = [_hit("call:a", "Efficienza energetica delle scuole comunali.", OBJECTIVES),
            _hit("call:b", "Corsi per tecnici dell'energia.", OBJECTIVES[1:2])]
    counting.passages.clear()
    explained = explainer.run(read, hits)
    # Snippets have no stored vector (they are not index points here); of the objectives only the unstored one.
    assert sorted(counting.passages) == sorted([h.snippet for h in hits] + [OBJECTIVES[2]])
    assert [[(p.query, p.document) for p in e.objectives] for e in explained] == [
        [(p.query, p.document) for p in e.objectives] for e in plain.run(read, hits)]
    store.close()


def test_the_ingestion_stores_the_objectives_of_what_it_indexed(ingested: dict) -> None:
    data = DataSettings(CONVERGENZE_DATA=ingested["data_dir"], CONVERGENZE_MODELS=ingested["models_dir"])
    store = EdgeStore.open_reader(data.index_dir / "edge")
    texts = [t for head in store.document_heads(("metadata",)) for t in objective_texts(head.get("metadata") or {})]
    store.close()
    assert len(texts) >= 5, "the sample should hold calls with stated objectives"
    found = TextVectors(data.text_vectors_path, create_embedder(EmbeddingSettings(), data)).get_many(texts)
    assert set(found) == set(texts)
    assert all(np.isclose(np.linalg.norm(v), 1.0, atol=1e-4) for v in found.values())
