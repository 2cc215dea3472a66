"""Pick the embedder from the settings: the built-in e5-small, or any sentence-transformers model."""

from __future__ import annotations

import os
import re
from pathlib import Path

from convergenze.core.embedding import Embedder
from convergenze.core.settings import DataSettings, EmbeddingSettings
from convergenze.index.embeddings.e5_builder import build_e5_small
from convergenze.index.embeddings.sentence_transformers import SentenceTransformerEmbedder

DEFAULT_MODEL = "e5-small"
DEFAULT_MODEL_DIRNAME = "multilingual-e5-small"
E5_SMALL_DIM = 384


def prepare_default_model(data: DataSettings, *, force: bool = False) -> Path:
    """Build (or reuse) the default model under ``data.models_dir``; what ``convergenze setup-model`` runs."""
    return build_e5_small(data.models_dir / DEFAULT_MODEL_DIRNAME, force=force)


def create_embedder(settings: EmbeddingSettings, data: DataSettings) -> Embedder:
    """The embedder named by ``settings.model``; the model itself is loaded on first use, not here."""
    model = settings.model.strip()
    if not model:
        raise ValueError(
            f"CONVERGENZE_EMBED_MODEL is empty; set it to {DEFAULT_MODEL!r} (the default) or to a "
            "sentence-transformers model name or path."
        )
    if model == DEFAULT_MODEL:
        # The default never needs a hub: make sure nothing in this process tries one (huggingface_hub reads
        # this when it is first imported, which is why it is set before the model is loaded).
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        return SentenceTransformerEmbedder(
            prepare_default_model(data),
            name=DEFAULT_MODEL,
            dim=E5_SMALL_DIM,
            device=settings.device,
            batch_size=settings.batch_size,
            local_files_only=True,
        )
    # e5 checkpoints saved without prompts still expect their prefixes; other models get none.
    is_e5 = re.search(r"(?:^|[-_.])e5(?:[-_.]|$)", Path(model).name.lower()) is not None
    return SentenceTransformerEmbedder(
        model,
        device=settings.device,
        batch_size=settings.batch_size,
        query_prefix="query: " if is_e5 else "",
        passage_prefix="passage: " if is_e5 else "",
    )
