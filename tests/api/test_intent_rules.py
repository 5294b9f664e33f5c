"""When, where and at which priority an intent may be submitted: each rule its own problem."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from airgrid.api.http.app import create_app, load_services
from tests.api.conftest import volume


def _at(delta: timedelta) -> str:
    return (datetime.now(UTC).replace(microsecond=0) + delta).isoformat()


def _submit(client, headers, **body):
    return client.post(
        "/v1/intents", json={"tier": "T2", "volumes": [volume()], **body}, headers=headers
    )


@pytest.mark.parametrize(
    ("start", "end", "slug"),
    [
        ("2001-01-01T08:00:00Z", "2001-01-01T08:20:00Z", "intent-ended"),
        ("1970-01-01T00:00:00Z", "1970-01-01T01:00:00Z", "intent-ended"),
        (None, None, "intent-too-far-ahead"),
        ("2199-01-01T08:00:00Z", "2199-01-01T09:00:00Z", "intent-too-far-ahead"),
        ("+2h", "+2h+30d", "intent-too-long"),
    ],
)
def test_time_rules_each_have_their_problem_type(client, auth, start, end, slug):
    if start is None:
        start, end = _at(timedelta(days=31)), _at(timedelta(days=31, minutes=20))
    elif start.startswith("+"):
        start, end = _at(timedelta(hours=2)), _at(timedelta(days=30, hours=2))
    r = _submit(client, auth["operator"], volumes=[volume(start=start, end=end)])
    assert r.status_code == 422 and r.json()["type"] == f"urn:airgrid:problem:{slug}", r.text
    assert client.get("/v1/intents", headers=auth["admin"]).json()["intents"] == []


def test_an_intent_in_flight_is_accepted(client, auth):
    r = _submit(
        client,
        auth["operator"],
        volumes=[volume(start=_at(-timedelta(minutes=5)), end=_at(timedelta(minutes=15)))],
    )
    assert r.status_code == 201, r.text


def test_an_intent_outside_the_grids_area_is_refused(client, auth):
    beijing = volume(116.39, 39.9)
    r = _submit(client, auth["operator"], volumes=[volume(), beijing])
    assert r.status_code == 422 and r.json()["type"] == "urn:airgrid:problem:intent-outside-area"
    assert "first: 1" in r.json()["detail"]


def test_priorities_above_the_operator_level_need_a_grant(settings, tokens):
    granting = settings.model_copy(update={"priority_grants": {"operator-2": 40}})
    app = create_app(granting, services=load_services(granting))
    with TestClient(app) as c:
        op = {"Authorization": f"Bearer {tokens['operator']}"}
        granted = {"Authorization": f"Bearer {tokens['operator2']}"}
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        for prio in (30, 40):
            r = _submit(c, op, priority=prio)
            assert (
                r.status_code == 403
                and r.json()["type"] == "urn:airgrid:problem:priority-not-granted"
            )
        assert _submit(c, op, priority=20).status_code == 201
        assert _submit(c, granted, priority=40, volumes=[volume(112.99, 28.2)]).status_code == 201
        r = _submit(c, granted, priority=41, volumes=[volume(113.02, 28.22)])
        assert r.status_code == 403 and "40" in r.json()["detail"]
        assert _submit(c, admin, priority=1000, volumes=[volume(113.02, 28.22)]).status_code == 201
