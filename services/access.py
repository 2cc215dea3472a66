"""API keys with roles, and the audit log of writes, in the state store (``data/state/state.sqlite``).

A key is ``cvz_<id>_<secret>``: the id (8 hex) names it in lists and in the audit log; the secret is 32 random
bytes. Only ``HMAC-SHA256(server secret, key)`` is stored, and the key is shown once, when it is made. Why not
a slow KDF: a key has 256 random bits, so no dictionary or brute force reaches it and a KDF's cost would buy
nothing but CPU on every request (and a lever for anyone sending bogus keys); the HMAC's server secret
(``keys.secret`` beside the database, mode 0600, made on first use) means a copied database alone does not
even let one check a guessed key.

``CONVERGENZE_API_KEY`` adds one admin key from the environment (containers, tests): compared in constant time,
never stored, named ``env`` in the audit log.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from convergenze.core.errors import InvalidInput
from convergenze.core.vocabulary import Role
from convergenze.corpora.state import StateStore, now_iso

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    status INTEGER,
    address TEXT
);
"""
ENV_KEY_ID = "env"
PREFIX = "cvz_"


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    role: Role
    created_at: str
    revoked_at: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: str
    actor: str
    role: str
    action: str
    target: str
    status: int | None  # the HTTP status; None for the command line
    address: str | None


class AccessError(InvalidInput):
    """A key command that cannot be done (an unknown id, an empty name)."""


class AccessStore:
    """Keys (create, list, revoke, verify) and the audit log."""

    def __init__(self, state: StateStore, env_key: str | None = None) -> None:
        self.state = state
        self.env_key = env_key or None
        with state.connect() as db:
            db.executescript(_SCHEMA)
        self._secret = _server_secret(state.path.parent / "keys.secret")

    def _digest(self, key: str) -> str:
        return hmac.new(self._secret, key.encode("utf-8"), hashlib.sha256).hexdigest()

    def create(self, name: str, role: Role) -> tuple[ApiKey, str]:
        """A new key and its plain text, which is not kept: show it once."""
        name = " ".join(name.split())[:100]
        if not name:
            raise AccessError("give the key a name (who or what uses it).")
        key_id = secrets.token_hex(4)
        plain = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        created = ApiKey(key_id, name, Role(role), now_iso())
        with self.state.connect() as db:
            db.execute(
                "INSERT INTO api_keys (id, name, role, digest, created_at) VALUES (?, ?, ?, ?, ?)",
                (created.id, created.name, created.role.value, self._digest(plain), created.created_at),
            )
        return created, plain

    def all(self) -> list[ApiKey]:
        with self.state.connect() as db:
            rows = db.execute("SELECT * FROM api_keys ORDER BY created_at, id").fetchall()
        return [ApiKey(r["id"], r["name"], Role(r["role"]), r["created_at"], r["revoked_at"]) for r in rows]

    def revoke(self, key_id: str) -> ApiKey:
        with self.state.connect() as db:
            done = db.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (now_iso(), key_id)
            ).rowcount
        found = next((k for k in self.all() if k.id == key_id), None)
        if found is None or not done and found.revoked_at is None:
            raise AccessError(f"no key with id {key_id!r}: see `convergenze keys list`.")
        return found

    def verify(self, plain: str) -> ApiKey | None:
        """The live key ``plain`` is, or None (unknown, revoked, malformed)."""
        if self.env_key and hmac.compare_digest(plain.encode("utf-8"), self.env_key.encode("utf-8")):
            return ApiKey(ENV_KEY_ID, "CONVERGENZE_API_KEY", Role.ADMIN, "")
        if not plain.startswith(PREFIX) or len(plain) > 200:
            return None
        with self.state.connect() as db:
            row = db.execute(
                "SELECT * FROM api_keys WHERE digest = ? AND revoked_at IS NULL", (self._digest(plain),)
            ).fetchone()
        return None if row is None else ApiKey(row["id"], row["name"], Role(row["role"]), row["created_at"])

    def get(self, key_id: str) -> ApiKey | None:
        """The live key with this id (the web pages' session keeps the id, never the key), or None."""
        if key_id == ENV_KEY_ID:
            return ApiKey(ENV_KEY_ID, "CONVERGENZE_API_KEY", Role.ADMIN, "") if self.env_key else None
        with self.state.connect() as db:
            row = db.execute("SELECT * FROM api_keys WHERE id = ? AND revoked_at IS NULL", (key_id,)).fetchone()
        return None if row is None else ApiKey(row["id"], row["name"], Role(row["role"]), row["created_at"])

    def feed_token(self, alert_id: str) -> str:
        """The token in an alert's feed address: feed readers (Outlook, Thunderbird) send no headers, so the
        address itself is the credential, good for that one feed only."""
        return hmac.new(self._secret, f"feed:{alert_id}".encode(), hashlib.sha256).hexdigest()[:32]

    def feed_token_ok(self, alert_id: str, token: str) -> bool:
        return hmac.compare_digest(self.feed_token(alert_id).encode(), token.encode("utf-8", "replace"))

    # ---- the audit log: who did what, when; never a secret or a body ----

    def audit(self, actor: str, role: str, action: str, target: str, status: int | None, address: str | None) -> None:
        with self.state.connect() as db:
            db.execute(
                "INSERT INTO audit_log (at, actor, role, action, target, status, address) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (now_iso(), actor, role, action, target[:300], status, address),
            )

    def audit_log(self, limit: int = 100) -> list[AuditEntry]:
        with self.state.connect() as db:
            rows = db.execute("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [AuditEntry(r["at"], r["actor"], r["role"], r["action"], r["target"], r["status"], r["address"])
                for r in rows]


def _server_secret(path: Path) -> bytes:
    """32 random bytes kept in ``path`` (0600), made on first use; a racing second process reads the first's."""
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process made it a moment ago and may still be writing it
            if len(secret := path.read_bytes()) >= 32:
                return secret
            time.sleep(0.01)
        raise AccessError(f"{path} is damaged: remove it and make the keys again.") from None
    with os.fdopen(handle, "wb") as out:
        out.write(secrets.token_bytes(32))
    return path.read_bytes()
