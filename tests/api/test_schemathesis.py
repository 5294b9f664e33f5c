"""Property tests over the OpenAPI document: no 5xx, every answer matches its schema.

Time-bounded: a few positive and negative examples per operation, all in-process over ASGI.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from airgrid.api.app import create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_openapi_contract(settings, services, tokens, mode):
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings, services=services))
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 25
    for op in operations:
        if mode is GenerationMode.NEGATIVE and not (len(op.query) or len(op.path_parameters) or len(op.body)):
            continue  # nothing to make invalid

        @given(case=op.as_strategy(generation_mode=mode))
        @hsettings(max_examples=6, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def run(case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()
