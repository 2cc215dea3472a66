"""Request bodies that may be JSON or a file upload, and the checks shared by the convergence routes."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.datastructures import Headers, UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from convergenze.core.vocabulary import TextSource
from convergenze.extractors.gazetteer import Gazetteer
from convergenze.extractors.pdf import PdfTextExtractor
from convergenze.extractors.pdf_sandbox import SandboxedPdfExtractor
from convergenze.extractors.taxonomy import Taxonomy
from convergenze.extractors.uploads import UploadedText, text_from_upload
from convergenze.matching import profiles

from . import errors
from .deps import get_services
from .limits import run_model

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


async def read_body(
    request: Request, model: type[Body], max_upload_bytes: int, max_chars: int = MAX_TEXT_CHARS
) -> tuple[Body, TextSource]:
    """The request's options and where its text came from ('text', 'pdf', 'docx', 'txt'); a file's text is cut
    at ``max_chars`` (the request model's own limit for a text)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        try:
            data = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": "Invalid JSON",
                                           "input": None}]) from error
        return _validate(model, data), TextSource.TEXT
    form = await request.form(max_files=1, max_fields=5)  # BodyLimit has bounded what it may read
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
        extracted = await read_upload(request, upload, max_upload_bytes)
    finally:
        await form.close()
    body = _validate(model, {**parsed, "text": extracted.text[:max_chars]})
    return body, extracted.kind


async def read_upload(request: Request, upload: UploadFile, max_upload_bytes: int) -> UploadedText:
    """An uploaded file's text (the API's multipart and the pages' forms); raises ``UploadError``."""
    content = await upload.read(max_upload_bytes + 1)
    # PDF text takes seconds on a long file: off the event loop, in a model slot (api/limits.py), and in a child
    # process with bounded memory and time (a crafted PDF can take either without limit).
    security = get_services(request).settings.security
    reader = SandboxedPdfExtractor(memory_bytes=security.pdf_memory_bytes, timeout=security.pdf_timeout,
                                   extractor=PdfTextExtractor(max_pages=100))
    return await run_model(request, text_from_upload, upload.filename or "", content, max_upload_bytes, 100, reader)


def upload_too_large(request: Request, max_upload_bytes: int) -> bool:
    """The declared body is larger than any allowed upload (the pages check it before reading, to answer with a
    page; ``BodyLimit`` answers the API's requests)."""
    declared = request.headers.get("content-length")
    return bool(declared and declared.isdigit() and int(declared) > max_upload_bytes + _ENVELOPE_BYTES)


class BodyLimit:
    """ASGI middleware: a request body larger than its limit is a 413, told from Content-Length before reading,
    or from the running count while the body streams in (chunked uploads have no Content-Length). Multipart
    uploads may carry ``max_upload_bytes`` plus an envelope; any other body ``max_json_bytes``."""

    def __init__(self, app: ASGIApp, max_json_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_json_bytes = max_json_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if headers.get("content-type", "").startswith("multipart/form-data"):
            limit, detail = self.max_upload_bytes + _ENVELOPE_BYTES, errors.UPLOAD_TOO_LARGE
        else:
            limit, detail = self.max_json_bytes, errors.BODY_TOO_LARGE
        declared = headers.get("content-length", "")
        # The web pages read the declared length themselves, to answer with a page in the visitor's language.
        if declared.isdigit() and int(declared) > limit and scope["path"].startswith("/v1/"):
            await JSONResponse({"detail": detail}, status_code=413, headers={"Connection": "close"})(
                scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # FastAPI and Starlette pass an HTTPException from the body on as it is
                    raise HTTPException(status_code=413, detail=detail, headers={"Connection": "close"})
            return message

        await self.app(scope, counted, send)


def canonical_region(name: str | None, gazetteer: Gazetteer) -> str | None:
    """'emilia romagna' -> 'Emilia-Romagna'; an unknown name is a 400 with a fixed message."""
    return None if name is None else profiles.canonical_region(name, gazetteer)


def canonical_mission(code: str | None, taxonomy: Taxonomy) -> str | None:
    """A mission code of any framework ('SDG7', 'm2', 'climate'), as the taxonomy spells it; else a 400."""
    return None if code is None else profiles.canonical_mission(code, taxonomy)
