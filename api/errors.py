"""Fixed error messages: clients and tests rely on these exact strings."""

DOCUMENT_NOT_FOUND = "Document not found."
QUERY_EMPTY = "The query is empty: give a few words to search for."
TEXT_EMPTY = "The project description is empty."
BAD_DEADLINE_RANGE = "deadline_from is after deadline_to."
BAD_BUDGET_RANGE = "budget_min is more than budget_max."
INDEX_EMPTY = "The index is empty: run `convergenze ingest` first."
