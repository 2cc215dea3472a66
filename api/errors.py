"""Fixed error messages (clients and tests rely on these exact strings) and how the project's named errors
become HTTP answers."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from convergenze.core.errors import ConvergenzeError, InvalidInput
from convergenze.extractors.uploads import UploadError
from convergenze.matching.catalog import CatalogMissing
from convergenze.matching.profiles import ProfileError

DOCUMENT_NOT_FOUND = "Document not found."
ALERT_NOT_FOUND = "Alert not found."
ALERT_NEEDS_ONE_TEXT = "Give either query (a saved search) or match_text (a match profile), not both."
ALERT_WEBHOOK_NEEDS_SECRET = "A webhook_url needs a secret: deliveries are signed with it."
QUERY_EMPTY = "The query is empty: give a few words to search for."
TEXT_EMPTY = "The project description is empty."
BAD_DEADLINE_RANGE = "deadline_from is after deadline_to."
BAD_BUDGET_RANGE = "budget_min is more than budget_max."
INDEX_EMPTY = "The index is empty: run `convergenze ingest` first."
UNKNOWN_REGION = "Unknown region: use an Italian region's name, e.g. 'Lazio' or 'Emilia-Romagna'."
UNKNOWN_MUNICIPALITY = "Unknown municipality: use its Italian name as ISTAT writes it, e.g. 'Reggio nell'Emilia'."
MUNICIPALITY_NOT_IN_REGION = "The profile contradicts itself: the municipality is not in the region."
NEEDED_BY_IN_PAST = "The profile contradicts itself: needed_by is in the past."
UNKNOWN_MISSION = "Unknown mission code: see GET /v1/taxonomy for the codes of every framework."
TEXT_AND_FILE = "Send either a text or a file, not both."
UPLOAD_TOO_LARGE = "The file is larger than the upload limit."
UPLOAD_UNSUPPORTED = "Only PDF, DOCX and TXT files are accepted."
UPLOAD_UNREADABLE = "The file could not be read: it is damaged or not what its name says."
UPLOAD_EMPTY = "No text could be extracted from the uploaded file."
BAD_MULTIPART = "A multipart request needs a 'file' part and may have a 'request' part with JSON options."
CATALOG_MISSING = "The catalog is not built yet: run `convergenze ingest`."
KEY_NEEDED = "An API key is needed: send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'."
BAD_KEY = "The API key is not valid (unknown or revoked)."
ROLE_NEEDED = "This API key's role does not allow this: it needs the '{role}' role."
ALERT_LIMIT = "This key has as many alerts as allowed: delete one first."
WEBHOOK_REFUSED = "The webhook_url is not allowed: {reason}."
RATE_LIMITED = "Too many requests: try again in a moment (see Retry-After)."
BUSY = "The server is busy with other requests: try again in a moment."
BODY_TOO_LARGE = "The request body is larger than the limit."


# --- the project's named errors as HTTP answers (registered on the app by create_app) ---

_PROFILE_ERRORS = {
    "unknown_region": UNKNOWN_REGION,
    "unknown_municipality": UNKNOWN_MUNICIPALITY,
    "municipality_not_in_region": MUNICIPALITY_NOT_IN_REGION,
    "needed_by_in_past": NEEDED_BY_IN_PAST,
    "unknown_mission": UNKNOWN_MISSION,
}
_UPLOAD_ERRORS = {
    "too_large": (413, UPLOAD_TOO_LARGE),
    "unsupported": (415, UPLOAD_UNSUPPORTED),
    "unreadable": (422, UPLOAD_UNREADABLE),
    "empty": (422, UPLOAD_EMPTY),
}


def http_answer(error: ConvergenzeError) -> tuple[int, str]:
    """The status and fixed message a named error gets: the caller's input is a 400 (uploads 413/415/422),
    what is not built yet or not reachable a 503."""
    if isinstance(error, ProfileError):
        return 400, _PROFILE_ERRORS.get(error.code, str(error))
    if isinstance(error, UploadError):
        return _UPLOAD_ERRORS.get(error.kind, (422, UPLOAD_UNREADABLE))
    if isinstance(error, CatalogMissing):
        return 503, CATALOG_MISSING
    if isinstance(error, InvalidInput):
        return 400, str(error)
    return 503, str(error)


async def named_error_handler(request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, ConvergenzeError):  # registered for ConvergenzeError only
        raise error
    status, detail = http_answer(error)
    return JSONResponse({"detail": detail}, status_code=status)


# A 422 names what was wrong, and shows at most this much of what was sent (never the whole body back).
_ECHO_CHARS = 200
_MAX_ERRORS = 20


def _short(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict | list | tuple):
        text = json.dumps(jsonable_encoder(value), ensure_ascii=False, default=str)
    else:
        text = str(value)
    return text if len(text) <= _ECHO_CHARS else text[:_ECHO_CHARS] + "…"


async def validation_error_handler(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422 body (type, loc, msg, input, ctx), with the input cut short and at most 20 errors."""
    if not isinstance(error, RequestValidationError):  # registered for RequestValidationError only
        raise error
    details = []
    for item in error.errors()[:_MAX_ERRORS]:
        detail = {"type": item.get("type"), "loc": list(item.get("loc", ())), "msg": _short(item.get("msg"))}
        if "input" in item:
            detail["input"] = _short(item["input"])
        if isinstance(item.get("ctx"), dict):
            detail["ctx"] = {key: _short(value) for key, value in item["ctx"].items()}
        details.append(detail)
    return JSONResponse({"detail": details}, status_code=422)
