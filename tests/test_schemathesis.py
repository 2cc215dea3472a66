"""Schemathesis against the OpenAPI document the session's server publishes, over real HTTP: every operation,
its request bodies (JSON and multipart) fuzzed, no 5xx, status codes, content types and bodies as documented.
Bounded so that it fits the suite: a few examples per operation, no shrinking.

The document is built at collection time by the same ``create_app()`` the server runs (schemathesis 4.32's lazy
fixture loader does not work with pytest 9), and the first test checks that the live one is the same."""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from convergenze.api.main import create_app
from tests.conftest import ADMIN_KEY

EXAMPLES = 6  # per operation: about 15 operations, a couple of minutes on two cores
DOCUMENT = create_app().openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT)
pytestmark = pytest.mark.slow


def test_the_fuzzed_document_is_the_one_the_server_publishes(base_url: str) -> None:
    assert httpx.get(f"{base_url}/openapi.json", timeout=30).json() == DOCUMENT


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_documented(case: schemathesis.Case, base_url: str) -> None:
    case.call_and_validate(
        base_url=base_url, headers={"X-API-Key": ADMIN_KEY}, timeout=60,
        checks=[schemathesis.checks.not_a_server_error, status_code_conformance, content_type_conformance,
                response_schema_conformance],
    )
