"""Documents -> chunks -> dense and sparse vectors -> store points."""

from __future__ import annotations

from collections.abc import Sequence

from tqdm.auto import tqdm

from convergenze.records import Chunk, Document, IndexedChunk

from .chunking import Chunker
from .embeddings import Embedder
from .payload import document_payload
from .sparse import Bm25SparseEncoder
from .store.base import VectorStore


def embedding_text(document: Document, chunk: Chunk) -> str:
    """The title travels with every passage: a passage about "the call" means little without it."""
    heading = f"{chunk.heading}: " if chunk.heading else ""
    if chunk.position == 0 and chunk.text.startswith(document.title):
        return f"{heading}{chunk.text}"
    return f"{document.title}\n{heading}{chunk.text}"


class Indexer:
    def __init__(
        self,
        embedder: Embedder,
        sparse: Bm25SparseEncoder,
        chunker: Chunker | None = None,
        batch_size: int = 512,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1.")
        self.embedder = embedder
        self.sparse = sparse
        self.chunker = chunker or Chunker()
        self.batch_size = batch_size

    def run(
        self,
        documents: Sequence[Document],
        store: VectorStore,
        *,
        replace: bool = True,
        progress: bool = True,
        label: str = "indexing",
    ) -> int:
        """Index ``documents`` (with ``replace``, their previous points go first); returns points written."""
        pending: list[tuple[Document, Chunk]] = [(d, c) for d in documents for c in self.chunker.run(d)]
        payloads = {d.id: document_payload(d) for d in documents}
        if replace:
            for document in documents:
                store.delete_document(document.id)
        written = 0
        bar = tqdm(total=len(pending), desc=label, unit="passage", disable=not progress)
        for start in range(0, len(pending), self.batch_size):
            batch = pending[start : start + self.batch_size]
            dense = self.embedder.embed_passages([embedding_text(d, c) for d, c in batch])
            sparse = self.sparse.encode_documents(
                [f"{d.title}\n{c.text}" if c.position else c.text for d, c in batch],
                [c.language or d.language for d, c in batch],
            )
            store.upsert(
                [
                    IndexedChunk(chunk=c, dense=dense[i].tolist(), sparse=sparse[i], payload=payloads[d.id])
                    for i, (d, c) in enumerate(batch)
                ]
            )
            written += len(batch)
            bar.update(len(batch))
        bar.close()
        return written
