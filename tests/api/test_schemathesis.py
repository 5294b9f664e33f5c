"""Property tests over the OpenAPI document: no 5xx, every answer matches its schema.

Time-bounded: a few positive and negative examples per operation, all in-process over ASGI.
"""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from airgrid.api.http.app import create_app, load_services
from airgrid.api.http.auth import Role

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_openapi_contract(settings, services, tokens, mode):
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(settings, services=services)
    )
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 25
    for op in operations:
        if mode is GenerationMode.NEGATIVE and not (
            len(op.query) or len(op.path_parameters) or len(op.body)
        ):
            continue  # nothing to make invalid

        @given(case=op.as_strategy(generation_mode=mode))
        @hsettings(
            max_examples=6, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def run(case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()


@pytest.mark.slow
@pytest.mark.parametrize("role", ["operator", "planner", "regulator", "admin"])
def test_stateful_contract_for_every_role(settings, services, tmp_path, role):
    """Chains of calls (an answer's ids feed later calls, as the schema's links allow) under
    each role: no 5xx, every answer in its documented status, media type and schema."""
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(settings, services=services)
    )
    base = schema.as_state_machine()
    runs = itertools.count()

    class Workflow(base):  # type: ignore[misc, valid-type]
        def setup(self):
            # Every run gets its own empty database on the same grid: hypothesis
            # replays choice prefixes and needs a run's answers, and so its draws, to depend
            # only on that run's calls.
            run_dir = tmp_path / f"run-{next(runs)}"
            run_dir.mkdir()
            here = settings.model_copy(
                update={"var_dir": run_dir, "db_url": f"sqlite:///{run_dir / 'airgrid.sqlite'}"}
            )
            self.services = load_services(here)
            token = self.services.keys.create(f"{role}-1", Role(role))[0]
            self.headers = {"Authorization": f"Bearer {token}"}
            self.app = create_app(here, services=self.services)

        def teardown(self):
            self.services.stores.close()

        def get_call_kwargs(self, case):
            return {"headers": self.headers, "app": self.app}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    # no shrinking: schemathesis varies its auth-header generation with what it has seen,
    # which hypothesis' replay of a failing case reports as a flaky strategy
    Workflow.run(
        settings=hsettings(
            max_examples=25,
            stateful_step_count=8,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )


def test_every_link_names_an_operation_and_one_of_its_path_parameters(client):
    """The OpenAPI links the stateful test follows (submit -> get/activate/cancel, activate ->
    end/cancel, create geofence -> get/replace/delete) point at real operations."""
    doc = client.get("/openapi.json").json()
    params = {
        op["operationId"]: {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        for item in doc["paths"].values()
        for op in item.values()
    }
    found = []
    for item in doc["paths"].values():
        for op in item.values():
            for answer in op["responses"].values():
                for name, link in answer.get("links", {}).items():
                    assert link["operationId"] in params, name
                    assert set(link["parameters"]) <= params[link["operationId"]], name
                    found.append(name)
    assert sorted(found) == sorted(
        [
            "GetIntent",
            "ActivateIntent",
            "CancelIntent",
            "GetIntentHistory",
            "EndIntent",
            "CancelIntent",
            "SendTelemetry",
            "GetGeofence",
            "ReplaceGeofence",
            "DeleteGeofence",
            "GetAudit",
            "GetAuditViolations",
        ]
    )
