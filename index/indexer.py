"""Documents -> chunks -> dense and sparse vectors (-> mission labels) -> store points."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np
from tqdm.auto import tqdm

from convergenze.core.embedding import Embedder
from convergenze.core.payload import document_payload
from convergenze.core.records import Chunk, Document, IndexedChunk, MissionLabel
from convergenze.core.vocabulary import DocType

from .chunking import Chunker
from .sparse import Bm25SparseEncoder
from .store.base import VectorStore


class DocumentLabeller(Protocol):
    """Labels a document, and each of its sections, from the passage vectors the indexer already computed."""

    def run(
        self,
        document: Document,
        passage_vectors: np.ndarray | None = None,
        *,
        passage_texts: Sequence[str] | None = None,
    ) -> list[MissionLabel]: ...

    def run_sections(
        self,
        document: Document,
        section_vectors: Sequence[np.ndarray] | None = None,
        section_texts: Sequence[Sequence[str]] | None = None,
    ) -> list[list[MissionLabel]]: ...


# Calls, programmes and policies have parts worth telling apart; a project or a measure is one record.
SECTIONED_TYPES = (DocType.CALL, DocType.PROGRAMME, DocType.POLICY)


def embedding_text(document: Document, chunk: Chunk) -> str:
    """The title travels with every passage: a passage about "the call" means little without it."""
    heading = f"{chunk.heading}: " if chunk.heading else ""
    if chunk.position == 0 and chunk.text.startswith(document.title):
        return f"{heading}{chunk.text}"
    return f"{document.title}\n{heading}{chunk.text}"


def section_missions(
    labeller: DocumentLabeller, document: Document, chunks: Sequence[Chunk], vectors: np.ndarray
) -> list[dict[str, Any]]:
    """Per-section labels for documents with several sections (a call's parts, a PDF's pages), from the same
    passage vectors; sections without text are left out."""
    numbers = sorted({c.section for c in chunks})
    if len(numbers) < 2:
        return []
    sections = [document.sections[n] for n in numbers]
    part = dataclasses.replace(document, sections=sections, metadata={})
    per_section = [vectors[[i for i, c in enumerate(chunks) if c.section == n]] for n in numbers]
    texts = [[c.text for c in chunks if c.section == n] for n in numbers]
    labelled = labeller.run_sections(part, per_section, texts)
    return [
        {
            "section": n,
            "heading": s.heading,
            "missions": [
                {"framework": m.framework, "code": m.code, "label": m.label, "score": m.score} for m in labels
            ],
        }
        for n, s, labels in zip(numbers, sections, labelled, strict=True)
        if labels
    ]


def attach_missions(document: Document, labels: list[MissionLabel]) -> None:
    """Labels go to ``metadata.missions``; their codes join ``mission_codes``, the field the mission filter uses
    (codes are unique across frameworks: M2, M2C1, SDG7, PO2, CL5, climate...)."""
    document.metadata["missions"] = [dataclasses.asdict(label) for label in labels]
    codes = set(document.metadata.get("mission_codes") or []) | {label.code for label in labels}
    document.metadata["mission_codes"] = sorted(codes)


# Embeds a list of batches of passage texts, giving one array per batch in order: in process by default, or
# fanned out over workers (pipelines/backfill.py); the batches are the indexer's, so the vectors are the same.
BatchEmbedder = Callable[[list[list[str]]], Iterable[np.ndarray]]


class Indexer:
    def __init__(
        self,
        embedder: Embedder,
        sparse: Bm25SparseEncoder,
        chunker: Chunker | None = None,
        labeller: DocumentLabeller | None = None,
        batch_size: int = 512,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1.")
        self.embedder = embedder
        self.sparse = sparse
        self.chunker = chunker or Chunker()
        self.labeller = labeller
        self.batch_size = batch_size

    def run(
        self,
        documents: Sequence[Document],
        store: VectorStore,
        *,
        replace: Collection[str] | None = None,
        progress: bool = True,
        label: str = "indexing",
        embed_batches: BatchEmbedder | None = None,
    ) -> int:
        """Index ``documents``; returns points written. The previous points of the documents named in ``replace``
        (all of ``documents`` when None) are deleted first: pass the ids the store already has, so a first
        load does not spend a filtered delete on each new document. ``embed_batches`` embeds the groups'
        passages elsewhere (all groups at once, so that workers run them side by side); this process still
        labels, encodes BM25 and writes, one group at a time."""
        chunked = [(d, self.chunker.run(d)) for d in documents]
        for document_id in [d.id for d in documents] if replace is None else replace:
            store.delete_document(document_id)
        groups = list(self._groups(chunked))
        texts = [[embedding_text(d, c) for d, chunks in group for c in chunks] for group in groups]
        vectors = (embed_batches or self._embed_here)(texts)
        written = 0
        with tqdm(total=sum(len(t) for t in texts), desc=label, unit="passage", disable=not progress) as bar:
            for group, dense in zip(groups, vectors, strict=True):
                written += self._write_group(group, dense, store)
                bar.update(len(dense))
        return written

    def _embed_here(self, batches: list[list[str]]) -> Iterator[np.ndarray]:
        for texts in batches:  # lazily: a group is written before the next one is embedded
            yield self.embedder.embed_passages(texts)

    def _groups(self, chunked: list[tuple[Document, list[Chunk]]]) -> Iterator[list[tuple[Document, list[Chunk]]]]:
        """Whole documents per batch: a document's labels need all of its passage vectors at once."""
        group: list[tuple[Document, list[Chunk]]] = []
        size = 0
        for item in chunked:
            group.append(item)
            size += len(item[1])
            if size >= self.batch_size:
                yield group
                group, size = [], 0
        if group:
            yield group

    def _write_group(self, group: list[tuple[Document, list[Chunk]]], dense: np.ndarray, store: VectorStore) -> int:
        pairs = [(d, c) for d, chunks in group for c in chunks]
        if len(dense) != len(pairs):
            raise ValueError(f"{len(dense)} vectors for {len(pairs)} passages: the embedder lost or added some.")
        # The hash is taken before labelling: labels derive from the content, and the flow compares this hash.
        hashes = {d.id: d.content_hash for d, _ in group}
        sparse = self.sparse.encode_documents(
            [f"{d.title}\n{c.text}" if c.position else c.text for d, c in pairs],
            [c.language or d.language for d, c in pairs],
        )
        start = 0
        payloads = {}
        for document, chunks in group:
            if self.labeller is not None:
                vectors = dense[start : start + len(chunks)]
                attach_missions(document, self.labeller.run(document, vectors, passage_texts=[c.text for c in chunks]))
                if document.type in SECTIONED_TYPES:
                    document.metadata["section_missions"] = section_missions(self.labeller, document, chunks, vectors)
            start += len(chunks)
            payloads[document.id] = {**document_payload(document), "content_hash": hashes[document.id],
                                     "embedder": self.embedder.name}
        store.upsert(
            [
                IndexedChunk(chunk=c, dense=dense[i].tolist(), sparse=sparse[i], payload=payloads[d.id])
                for i, (d, c) in enumerate(pairs)
            ]
        )
        return len(pairs)
