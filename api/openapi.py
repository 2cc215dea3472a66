"""The published OpenAPI document, completed where FastAPI cannot see: the request bodies that match and overlaps
read themselves (JSON or multipart) are defined in ``components``, and the errors every route may answer are
documented (413 for a body over the limit, 422 for invalid input)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .models import ConvergenceMatchRequest, OverlapRequest

# Models referenced by hand (inputs.upload_openapi) rather than through a route's signature.
BODY_MODELS = (ConvergenceMatchRequest, OverlapRequest)
_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
_BODY_ERRORS = {
    "413": {"description": "The request body is larger than the limit.", "content": _ERROR},
    "422": {"description": "Invalid input (the input is quoted at most 200 characters long)."},
}


def complete_openapi(app: FastAPI) -> None:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in BODY_MODELS:
            definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, nested in definition.pop("$defs", {}).items():
                components.setdefault(name, nested)
            components.setdefault(model.__name__, definition)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if "requestBody" in operation:
                    for status, answer in _BODY_ERRORS.items():
                        responses.setdefault(status, answer)
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]
