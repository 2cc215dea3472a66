"""``--server URL``: ask a running API instead of opening the index and loading the model in this process.

The answers are the API's own JSON, read into the same response models the local commands print, so the
output is the same either way. A 4xx is the caller's mistake (exit 2), anything else the server's (exit 1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from convergenze.core.errors import InvalidInput, Unavailable
from convergenze.services.responses import HitList, MatchOut, OverlapOut

Answer = TypeVar("Answer", bound=BaseModel)
# A match with reasons on a busy server takes seconds; an unreachable one should fail fast.
_TIMEOUT = httpx.Timeout(120.0, connect=5.0)


class RemoteApi:
    def __init__(self, url: str) -> None:
        if not url.startswith(("http://", "https://")):
            raise InvalidInput(f"--server takes the API's address, e.g. http://127.0.0.1:8000, got {url!r}.")
        self.url = url.rstrip("/")

    def search(self, params: dict[str, Any]) -> HitList:
        return self._ask("GET", "/v1/search", HitList, params={k: v for k, v in params.items() if v is not None})

    def match(self, body: dict[str, Any], file: Path | None) -> MatchOut:
        return self._post("/v1/match", MatchOut, body, file)

    def overlaps(self, body: dict[str, Any], file: Path | None) -> OverlapOut:
        return self._post("/v1/overlaps", OverlapOut, body, file)

    def _post(self, path: str, answer: type[Answer], body: dict[str, Any], file: Path | None) -> Answer:
        options = {k: v for k, v in body.items() if v is not None}
        if file is None:
            return self._ask("POST", path, answer, json=options)
        # The file goes as it is: the server reads its text, as it does for the web pages' uploads.
        options.pop("text", None)
        files = {"file": (file.name, file.read_bytes()), "request": (None, json.dumps(options))}
        return self._ask("POST", path, answer, files=files)

    def _ask(self, method: str, path: str, answer: type[Answer], **request: Any) -> Answer:
        try:
            response = httpx.request(method, self.url + path, timeout=_TIMEOUT, **request)
        except httpx.HTTPError as error:
            raise Unavailable(
                f"cannot reach the API at {self.url} ({error}); is `convergenze serve` running?"
            ) from error
        if response.is_success:
            return answer.model_validate(response.json())
        detail = _detail(response)
        if 400 <= response.status_code < 500:
            raise InvalidInput(detail)
        raise Unavailable(f"the API at {self.url} answered {response.status_code}: {detail}")


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return response.text[:300]
    if isinstance(detail, list):  # a validation error: where and what
        return "; ".join(f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg')}" for d in detail)
    return str(detail)
