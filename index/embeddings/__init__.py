"""Dense embedding engines for the index and the factory that picks one from the settings (the ``Embedder``
interface they implement is ``convergenze.core.embedding``)."""

from convergenze.index.embeddings.factory import create_embedder, prepare_default_model

__all__ = ["create_embedder", "prepare_default_model"]
