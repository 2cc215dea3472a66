"""Embeddings through sentence-transformers: the default e5-small directory, or any model a user names."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from convergenze.core.embedding import Embedder

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model, loaded on first use (importing this module loads nothing).

    Queries and passages use the model's own prompts (``query_prompt_name``/``passage_prompt_name``, e.g.
    e5's ``"query: "``/``"passage: "``). A model saved without such prompts gets the literal
    ``query_prefix``/``passage_prefix`` instead (empty by default: most symmetric models want none).
    """

    def __init__(
        self,
        model: str | Path,
        *,
        name: str | None = None,
        dim: int | None = None,
        device: str = "cpu",
        batch_size: int = 32,
        query_prompt_name: str = "query",
        passage_prompt_name: str = "passage",
        query_prefix: str = "",
        passage_prefix: str = "",
        local_files_only: bool = False,
        threads: int | None = None,
        max_length: int | None = None,
    ) -> None:
        if not str(model).strip():
            raise ValueError("model must be a sentence-transformers model name or a local directory, got ''.")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        if dim is not None and dim < 1:
            raise ValueError(f"dim must be positive or None (read from the model), got {dim}.")
        self.model = model
        self.device = device
        self.batch_size = batch_size
        self.query_prompt_name = query_prompt_name
        self.passage_prompt_name = passage_prompt_name
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.local_files_only = local_files_only
        self.threads = threads
        self.max_length = max_length
        self._name = name or str(model)
        self._dim = dim
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._load()  # sets it, or raises
        return cast(int, self._dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt_name, self.query_prefix, show_progress=False)

    def embed_passages(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.passage_prompt_name, self.passage_prefix, show_progress=show_progress)

    def _encode(
        self, texts: Sequence[str], prompt_name: str, prefix: str, *, show_progress: bool
    ) -> np.ndarray:
        if isinstance(texts, str):
            raise ValueError("texts must be a sequence of strings; wrap a single text in a list: [text].")
        items = list(texts)
        if not all(isinstance(text, str) for text in items):
            raise ValueError("texts must contain only strings (convert or drop None/non-text values first).")
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        # An explicit prompt (even "") also stops the model's default_prompt_name from being applied.
        prompt: dict[str, Any] = (
            {"prompt_name": prompt_name} if prompt_name in model.prompts else {"prompt": prefix}
        )
        vectors = model.encode(
            items,
            batch_size=self.batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
            **prompt,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(items), self.dim)

    def _load(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                # A bar per model load clutters CLI output and logs; loading takes under a second.
                transformers_logging.disable_progress_bar()

                logger.info("Loading embedding model %s on %s", self.model, self.device)
                model = SentenceTransformer(
                    str(self.model), device=self.device, local_files_only=self.local_files_only
                )
                found = model.get_embedding_dimension()
                if found is None and self._dim is None:
                    raise ValueError(f"{self.model} does not report its vector size; pass dim=<size>.")
                if found is not None and self._dim is not None and found != self._dim:
                    raise ValueError(
                        f"{self.model} makes {found}-dimensional vectors: pass dim={found} or leave dim out."
                    )
                for prompt_name, prefix in (
                    (self.query_prompt_name, self.query_prefix),
                    (self.passage_prompt_name, self.passage_prefix),
                ):
                    if prompt_name not in model.prompts:
                        logger.info(
                            "%s has no %r prompt; using the prefix %r", self.model, prompt_name, prefix
                        )
                if self.max_length is not None:
                    model.max_seq_length = min(self.max_length, model.max_seq_length or self.max_length)
                if self.threads is not None:
                    import torch

                    torch.set_num_threads(self.threads)  # per process: the last embedder loaded sets it
                self._dim = self._dim or found
                self._model = model
            return self._model
