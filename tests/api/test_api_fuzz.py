"""Schemathesis fuzzes every operation of the OpenAPI spec: no input may cause a 5xx.

Examples per operation are bounded so the whole run stays within seconds per database.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

#: Bounded for CI; set GONGPEI_FUZZ_EXAMPLES higher for a deeper local run.
EXAMPLES_PER_OPERATION = int(os.environ.get("GONGPEI_FUZZ_EXAMPLES", "10"))
pytestmark = pytest.mark.slow


def _role(path: str) -> str:
    if path.startswith(("/v1/firms", "/v1/centres")) or path == "/v1/lockers":
        return "admin"
    if path.startswith("/v1/siting-runs"):
        return "planner"
    return "a"


def _fuzz(operation, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def fuzz(case):
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    fuzz()


def test_fuzzed_requests_never_get_a_server_error(client, auth, lockers):
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        _fuzz(operation, auth[_role(operation.path)])
