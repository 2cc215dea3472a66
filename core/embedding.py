"""The embedder interface every layer depends on (the classifier, the index, matching, the API), independent of
the engine behind it; the engines live in convergenze.index.embeddings."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np


class Embedder(ABC):
    """Turns texts into dense vectors: float32, shape ``(n, dim)``, L2-normalized (dot product = cosine).

    Queries and passages are embedded separately because asymmetric models (e5) mark them differently.
    An empty input gives an array of shape ``(0, dim)``.
    """

    @property
    @abstractmethod
    def name(self) -> str:
        """What produced the vectors: an index built with one model must not be queried with another."""

    @property
    @abstractmethod
    def dim(self) -> int:
        """Length of each vector (the vector store's collection is created with it)."""

    @abstractmethod
    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries."""

    @abstractmethod
    def embed_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Embed indexed passages (chunks)."""

    def embed_query_and_passages(self, query: str, passages: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``query`` as a query vector and ``passages`` as passage vectors, the same as embedding them apart; an
        engine that can do it in one model call does (a match needs its description both ways)."""
        return self.embed_queries([query])[0], self.embed_passages(passages)


class DelegatingEmbedder(Embedder):
    """Another embedder with something added (a cache, a count): its name, size and vectors pass through;
    subclasses override only what they add to."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self.inner.embed_passages(texts, show_progress=show_progress)
