"""Request bodies that may be JSON or a file upload, and the checks shared by the convergence routes."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from convergenze.core.vocabulary import TextSource
from convergenze.extractors.gazetteer import Gazetteer
from convergenze.extractors.taxonomy import Taxonomy
from convergenze.extractors.uploads import UploadedText, text_from_upload
from convergenze.matching import profiles

from . import errors

Body = TypeVar("Body", bound=BaseModel)

# Room for the multipart envelope and the JSON options around the file itself.
_ENVELOPE_BYTES = 64 * 1024
# What of an uploaded file's text is read (the limit of a typed description).
MAX_TEXT_CHARS = 20_000


def upload_openapi(model: type[BaseModel]) -> dict[str, Any]:
    """The request body documented both ways: JSON, or multipart with a file and the same JSON as options."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary",
                                     "description": "A PDF, DOCX or TXT file (CONVERGENZE_MAX_UPLOAD_BYTES)."},
                            "request": {"type": "string", "description": f"Options as JSON ({model.__name__}, "
                                        "without 'text')."},
                        },
                    }
                },
            },
        }
    }


def _validate(model: type[Body], data: Any) -> Body:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise RequestValidationError(error.errors(include_url=False)) from error


async def read_body(request: Request, model: type[Body], max_upload_bytes: int) -> tuple[Body, TextSource]:
    """The request's options and where its text came from ('text', 'pdf', 'docx', 'txt')."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": "Invalid JSON",
                                           "input": None}]) from error
        return _validate(model, data), TextSource.TEXT
    if upload_too_large(request, max_upload_bytes):
        raise HTTPException(status_code=413, detail=errors.UPLOAD_TOO_LARGE)
    form = await request.form(max_files=1, max_fields=5)
    try:
        upload, options = form.get("file"), form.get("request") or "{}"
        if not isinstance(upload, UploadFile) or not isinstance(options, str):
            raise HTTPException(status_code=400, detail=errors.BAD_MULTIPART)
        try:
            parsed = json.loads(options)
        except json.JSONDecodeError as error:
            raise HTTPException(status_code=400, detail=errors.BAD_MULTIPART) from error
        if not isinstance(parsed, dict):
            raise HTTPException(status_code=400, detail=errors.BAD_MULTIPART)
        if str(parsed.get("text") or "").strip():
            raise HTTPException(status_code=400, detail=errors.TEXT_AND_FILE)
        extracted = await read_upload(upload, max_upload_bytes)
    finally:
        await form.close()
    body = _validate(model, {**parsed, "text": extracted.text[:MAX_TEXT_CHARS]})
    return body, extracted.kind


async def read_upload(upload: UploadFile, max_upload_bytes: int) -> UploadedText:
    """An uploaded file's text (the API's multipart and the pages' forms); raises ``UploadError``."""
    content = await upload.read(max_upload_bytes + 1)
    # PDF text takes seconds on a long file: off the event loop, so other requests keep being answered.
    return await run_in_threadpool(text_from_upload, upload.filename or "", content, max_upload_bytes)


def upload_too_large(request: Request, max_upload_bytes: int) -> bool:
    """The declared body is larger than any allowed upload (checked before the body is read)."""
    declared = request.headers.get("content-length")
    return bool(declared and declared.isdigit() and int(declared) > max_upload_bytes + _ENVELOPE_BYTES)


def canonical_region(name: str | None, gazetteer: Gazetteer) -> str | None:
    """'emilia romagna' -> 'Emilia-Romagna'; an unknown name is a 400 with a fixed message."""
    return None if name is None else profiles.canonical_region(name, gazetteer)


def canonical_mission(code: str | None, taxonomy: Taxonomy) -> str | None:
    """A mission code of any framework ('SDG7', 'm2', 'climate'), as the taxonomy spells it; else a 400."""
    return None if code is None else profiles.canonical_mission(code, taxonomy)
