"""Dense embeddings for the index: the ``Embedder`` interface and the factory that picks one from settings."""

from convergenze.index.embeddings.base import Embedder
from convergenze.index.embeddings.factory import create_embedder, prepare_default_model

__all__ = ["Embedder", "create_embedder", "prepare_default_model"]
