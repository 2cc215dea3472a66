"""Pick the embedder from the settings: the built-in e5-small (its int8 export on ONNX Runtime or OpenVINO, or
PyTorch float32), or any sentence-transformers model."""

from __future__ import annotations

import os
import re
from pathlib import Path

from convergenze.core.embedding import Embedder
from convergenze.core.settings import DataSettings, EmbeddingSettings
from convergenze.core.vocabulary import EmbedBackend
from convergenze.index.embeddings.e5_builder import build_e5_small
from convergenze.index.embeddings.export import export_model
from convergenze.index.embeddings.exported import ExportedE5Embedder, RuntimeConfig
from convergenze.index.embeddings.sentence_transformers import SentenceTransformerEmbedder

DEFAULT_MODEL = "e5-small"
DEFAULT_MODEL_DIRNAME = "multilingual-e5-small"
EXPORT_DIRNAME = "multilingual-e5-small-export"
OPENVINO_CACHE_DIRNAME = "openvino-cache"  # compiled models, beside the export they come from
E5_SMALL_DIM = 384


def model_name(backend: EmbedBackend) -> str:
    """What made the vectors, as stored with every point: another backend means other vectors, so a change
    of backend re-embeds the index (int8 vectors are within cosine 0.99 of float32 ones, not equal)."""
    return DEFAULT_MODEL if backend == EmbedBackend.TORCH else f"{DEFAULT_MODEL}/{backend}-int8"


def prepare_default_model(data: DataSettings, backend: EmbedBackend = EmbedBackend.TORCH, *,
                          force: bool = False) -> Path:
    """Build (or reuse) the default model under ``data.models_dir``, and its export for ``backend``; returns
    the file or directory that backend runs. What ``convergenze setup-model`` runs."""
    model_dir = build_e5_small(data.models_dir / DEFAULT_MODEL_DIRNAME, force=force)
    if backend == EmbedBackend.TORCH:
        return model_dir
    return export_model(model_dir, data.models_dir / EXPORT_DIRNAME, backend, force=force)


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
        backend = settings.backend
        built = prepare_default_model(data, backend)
        if backend == EmbedBackend.TORCH:
            return SentenceTransformerEmbedder(
                built, name=model_name(backend), dim=E5_SMALL_DIM, device=settings.device,
                batch_size=settings.batch_size, local_files_only=True, threads=settings.threads,
                max_length=settings.max_length,
            )
        cache = data.models_dir / EXPORT_DIRNAME / OPENVINO_CACHE_DIRNAME if backend == EmbedBackend.OPENVINO else None
        config = RuntimeConfig(backend, settings.cores, settings.max_length, settings.batch_size, cache)
        tokenizer = data.models_dir / DEFAULT_MODEL_DIRNAME / "tokenizer.json"
        return ExportedE5Embedder(built, tokenizer, config, name=model_name(backend), dim=E5_SMALL_DIM)
    # e5 checkpoints saved without prompts still expect their prefixes; other models get none.
    is_e5 = re.search(r"(?:^|[-_.])e5(?:[-_.]|$)", Path(model).name.lower()) is not None
    return SentenceTransformerEmbedder(
        model,
        device=settings.device,
        batch_size=settings.batch_size,
        query_prefix="query: " if is_e5 else "",
        passage_prefix="passage: " if is_e5 else "",
        threads=settings.threads,
        max_length=settings.max_length,
    )
