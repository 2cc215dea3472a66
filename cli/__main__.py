"""``python -m convergenze.cli``: the same command as ``convergenze`` (``serve --ingest`` starts its child so)."""

from convergenze.cli.app import app

app()
