"""The indexer: passages, vectors and mission labels per document and per section, into a real Edge store."""

from __future__ import annotations

from pathlib import Path

import pytest

from convergenze.core.records import Document, Section
from convergenze.core.settings import DataSettings, EmbeddingSettings
from convergenze.core.vocabulary import DocType
from convergenze.extractors.missions import MissionClassifier
from convergenze.extractors.taxonomy import Taxonomy
from convergenze.index.embeddings import create_embedder
from convergenze.index.indexer import Indexer
from convergenze.index.sparse import Bm25SparseEncoder
from convergenze.index.store.edge import EdgeStore

pytestmark = pytest.mark.slow

ENERGY = (
    "Il bando finanzia impianti fotovoltaici, pompe di calore e la riqualificazione energetica degli edifici "
    "pubblici per ridurre le emissioni di gas serra e i consumi di energia fossile."
)
WELFARE = (
    "Il bando sostiene servizi sociali per anziani non autosufficienti, assistenza domiciliare, inclusione "
    "sociale delle persone con disabilità e contrasto alla povertà delle famiglie fragili."
)


def test_sections_get_their_own_missions_and_the_document_all_of_them(
    models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONVERGENZE_MODELS", str(models_dir))
    data = DataSettings()
    embedder = create_embedder(EmbeddingSettings(), data)
    indexer = Indexer(embedder, Bm25SparseEncoder(), labeller=MissionClassifier(Taxonomy.load(), embedder))
    doc = Document(
        id="t:two-parts",
        source="t",
        type=DocType.CALL,
        title="Avviso per i comuni",
        language="it",
        sections=[
            Section(" ".join([ENERGY] * 12), "Linea A", "it"),
            Section("", "vuota"),
            Section(WELFARE, "Linea B", "it"),
        ],
    )
    expected_hash = doc.content_hash
    with EdgeStore.begin_write(tmp_path / "edge") as writer:
        writer.ensure_schema(embedder.dim)
        # Regression: a section of several passages made the section labeller index past its evidence texts.
        assert indexer.run([doc], writer, progress=False) >= 4
    store = EdgeStore.open_reader(tmp_path / "edge")
    try:
        chunks = store.get_document_chunks("t:two-parts")
    finally:
        store.close()
    meta = chunks[0]["metadata"]
    assert chunks[0]["content_hash"] == expected_hash  # labels do not change what the flow compares
    codes = {m["code"] for m in meta["missions"] if m["framework"] == "convergenze"}
    # The whole document keeps only labels nearly as strong as its best one; its sections tell the parts apart.
    assert codes & {"climate", "welfare"} and codes <= set(meta["mission_codes"])
    by_section = {
        s["section"]: {m["code"] for m in s["missions"] if m["framework"] == "convergenze"}
        for s in meta["section_missions"]
    }
    assert set(by_section) == {0, 2}  # the empty section has no passage and no labels
    assert "climate" in by_section[0] and "welfare" not in by_section[0]
    assert "welfare" in by_section[2] and "climate" not in by_section[2]
