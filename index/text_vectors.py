"""Passage vectors of texts that are not points of the index, kept on disk: the calls' stated objectives.

A match explains each hit with the call's objectives that meet the description's sentences, which needs the
objectives embedded. Embedded at request time they were most of a match the first time its hits came back
(2.0 of 2.2 s: forty objectives of up to 180 tokens in one request, on two cores); the ingestion embeds them
once instead, source by source, and the API reads them here.

A vector is keyed by the embedder's name and the text's hash, so it never goes stale: a changed objective is
another text, another model another name. Nothing here depends on an index generation, and vectors of texts
no document holds any more cost only their bytes (1.5 KB each). One SQLite file in WAL mode: the ingestion
writes while the API reads.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import numpy as np

from convergenze.core.embedding import Embedder

logger = logging.getLogger(__name__)

_SCHEMA = "CREATE TABLE IF NOT EXISTS vectors (embedder TEXT, key TEXT, vector BLOB, PRIMARY KEY (embedder, key))"
# SQLite's default limit on the variables of one statement is 32766 on current builds, 999 on old ones.
_CHUNK = 500


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class TextVectors:
    """The passage vectors ``embedder`` gives to texts, stored in ``path``."""

    def __init__(self, path: Path, embedder: Embedder) -> None:
        self.path = Path(path)
        self.embedder = embedder

    def get_many(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of ``texts``, by text (those not stored are left out; no file, none)."""
        if not texts or not self.path.is_file():
            return {}
        by_key = {_key(text): text for text in texts}
        found: dict[str, np.ndarray] = {}
        keys = list(by_key)
        try:
            with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)) as db:
                for start in range(0, len(keys), _CHUNK):
                    part = keys[start : start + _CHUNK]
                    rows = db.execute(
                        f"SELECT key, vector FROM vectors WHERE embedder = ? AND key IN ({','.join('?' * len(part))})",
                        [self.embedder.name, *part],
                    ).fetchall()
                    for key, blob in rows:
                        vector = np.frombuffer(blob, dtype=np.float32)
                        if vector.shape == (self.embedder.dim,):
                            found[by_key[key]] = vector
        except sqlite3.Error as error:  # a file being created or replaced: the caller embeds what it needs
            logger.warning("Stored text vectors unreadable (%s): %s", self.path, error)
            return {}
        return found

    def ensure(self, texts: Sequence[str]) -> int:
        """Embed and store those of ``texts`` not stored yet; returns how many were embedded."""
        wanted = list(dict.fromkeys(t for t in texts if t.strip()))
        stored = self.get_many(wanted)
        missing = [t for t in wanted if t not in stored]
        if not missing:
            return 0
        vectors = self.embedder.embed_passages(missing, show_progress=len(missing) > 256)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)
            with db:
                db.executemany(
                    "INSERT OR REPLACE INTO vectors (embedder, key, vector) VALUES (?, ?, ?)",
                    [(self.embedder.name, _key(text), np.asarray(vector, dtype=np.float32).tobytes())
                     for text, vector in zip(missing, vectors, strict=True)],
                )
        return len(missing)
