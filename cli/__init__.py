"""The `convergenze` command, a thin layer over the same services as the API."""
