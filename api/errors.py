"""Fixed error messages: clients and tests rely on these exact strings."""

DOCUMENT_NOT_FOUND = "Document not found."
QUERY_EMPTY = "The query is empty: give a few words to search for."
TEXT_EMPTY = "The project description is empty."
INDEX_EMPTY = "The index is empty: run `convergenze ingest` first."
