"""Dense embeddings for the index: the ``Embedder`` interface and the factory that picks one from settings."""

from index.embeddings.base import Embedder
from index.embeddings.factory import create_embedder, prepare_default_model

__all__ = ["Embedder", "create_embedder", "prepare_default_model"]
