"""Convergenze: document intelligence for Italian and EU funding calls, measures and programmes."""

__version__ = "0.1.0"
