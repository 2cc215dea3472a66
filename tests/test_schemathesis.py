"""Schemathesis against the live OpenAPI document of the session's server, over real HTTP: every operation, its
request bodies (JSON and multipart) fuzzed, no 5xx, status codes, content types and bodies as documented.
Bounded so that it fits the suite: a few examples per operation, no shrinking."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ADMIN_KEY

EXAMPLES = 6  # per operation: about 15 operations, under two minutes on two cores
schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(scope="session")
def api_schema(base_url: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_documented(case: schemathesis.Case) -> None:
    case.call_and_validate(
        headers={"X-API-Key": ADMIN_KEY}, timeout=60,
        checks=[schemathesis.checks.not_a_server_error, status_code_conformance, content_type_conformance,
                response_schema_conformance],
    )
