"""Prefect's environment: ephemeral (no server) by default, a real server when PREFECT_API_URL is set."""

from __future__ import annotations

import os
from pathlib import Path

# Prefect's first ephemeral start takes 10-25 s on two cores; its default 20 s timeout fails there.
_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "HF_HUB_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def configure_prefect(data_dir: Path) -> None:
    """Set Prefect's defaults before Prefect reads its settings; values the user exported win."""
    for key, value in _DEFAULTS.items():
        os.environ.setdefault(key, value)
    if not os.environ.get("PREFECT_API_URL"):
        # The ephemeral server keeps its SQLite database with the project's data, not in the user's home.
        os.environ.setdefault("PREFECT_HOME", str((data_dir / "prefect").resolve()))
    # Prefect's ephemeral server fails with "unable to open database file" when its home does not exist yet.
    Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect")).expanduser().mkdir(parents=True, exist_ok=True)
