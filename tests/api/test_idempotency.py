"""Retries get the original answer; other callers' ids are not revealed."""

from __future__ import annotations

from airgrid.airspace.store.schema import SCHEMA_VERSION
from airgrid.airspace.traffic.models import IntentRequest
from airgrid.api.http.routes.intents import _request
from tests.api.conftest import volume


def _post(client, headers, body, key=None):
    h = {**headers, **({"Idempotency-Key": key} if key else {})}
    return client.post("/v1/intents", json={"tier": "T2", **body}, headers=h)


def _ids(client, headers):
    return [i["id"] for i in client.get("/v1/intents", headers=headers).json()["intents"]]


def test_a_retry_with_the_same_intent_id_returns_the_original_answer(client, auth):
    h = auth["operator"]
    body = {"intent_id": "retry-1", "volumes": [volume()]}
    first = _post(client, h, body)
    again = _post(client, h, body)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert _ids(client, auth["admin"]) == ["retry-1"]


def test_a_retry_of_a_refused_intent_returns_the_same_refusal(client, auth):
    assert _post(client, auth["operator"], {"volumes": [volume()]}).status_code == 201
    body = {"intent_id": "late", "preempt": False, "volumes": [volume()]}
    first = _post(client, auth["operator2"], body)
    again = _post(client, auth["operator2"], body)
    assert first.status_code == again.status_code == 409
    assert (
        first.json()["type"] == "urn:airgrid:problem:intent-conflict"
        and again.content == first.content
    )


def test_an_idempotency_key_without_intent_id_names_one_intent(client, auth):
    h = auth["operator"]
    body = {"volumes": [volume()]}
    first = _post(client, h, body, key="order-7")
    again = _post(client, h, body, key="order-7")
    assert (
        first.status_code == again.status_code == 201 and again.json()["id"] == first.json()["id"]
    )
    assert len(_ids(client, auth["admin"])) == 1


def test_another_body_under_the_same_key_is_a_409_in_the_documented_shape(client, auth):
    h = auth["operator"]
    assert _post(client, h, {"intent_id": "k1", "volumes": [volume()]}).status_code == 201
    other = _post(client, h, {"intent_id": "k1", "volumes": [volume(112.99, 28.2)]})
    body = other.json()
    assert other.status_code == 409 and body["type"] == "urn:airgrid:problem:idempotency-key-reused"
    doc = client.get("/openapi.json").json()
    required = doc["components"]["schemas"]["IntentConflictProblem"]["required"]
    assert set(required) <= set(body)


def test_an_answer_lost_after_the_store_committed_is_rebuilt_from_the_stored_intent(
    client, auth, services
):
    """The server stopped between storing the intent and recording the answer."""
    me = services.keys.authenticate(auth["operator"]["Authorization"].split()[1])
    from airgrid.api.http.schemas.intents import IntentCreate

    store = services.stores.get()
    body = {"tier": "T2", "intent_id": "lost-1", "volumes": [volume()]}
    other = {"tier": "T2", "intent_id": "lost-2", "volumes": [volume(112.99, 28.2)]}
    for b in (body, other):
        req = _request(IntentCreate.model_validate(b), me, services)
        assert isinstance(req, IntentRequest) and store.submit(req).accepted
    r = _post(client, auth["operator"], body)
    assert r.status_code == 201 and r.json()["id"] == "lost-1"
    changed = _post(client, auth["operator"], {**other, "volumes": [volume(113.02, 28.22)]})
    assert (
        changed.status_code == 409
        and changed.json()["type"] == "urn:airgrid:problem:duplicate-intent-id"
    )
    assert len(_ids(client, auth["admin"])) == 2


def test_other_operators_intent_ids_are_not_revealed(client, auth):
    theirs = _post(client, auth["operator2"], {"intent_id": "secret-1", "volumes": [volume()]})
    assert theirs.status_code == 201
    unknown = client.get("/v1/intents/nope", headers=auth["operator"])
    for r in (
        client.get("/v1/intents/secret-1", headers=auth["operator"]),
        client.post("/v1/intents/secret-1/cancel", headers=auth["operator"]),
        client.post("/v1/intents/secret-1/activate", headers=auth["operator"]),
        _post(
            client, auth["operator"], {"intent_id": "secret-1", "volumes": [volume(112.99, 28.2)]}
        ),
    ):
        assert r.status_code == 404 == unknown.status_code, r.text
        assert r.json()["type"] == unknown.json()["type"]
    assert client.get("/v1/intents/secret-1", headers=auth["regulator"]).status_code == 200


def _crash_after_the_acceptance(monkeypatch):
    """Make recording an answer fail as a server stopping there would (the acceptance has
    committed by then)."""
    from airgrid.airspace.store.service import Store

    def crash(*args, **kwargs):
        raise OSError("power cut")

    monkeypatch.setattr(Store, "record_submission", crash)


def test_a_retry_after_a_crash_is_answered_from_the_acceptance_record(
    settings, services, tokens, auth, monkeypatch
):
    """The acceptance transaction recorded the key: the retry is recognised before the
    submission rules, which changed meanwhile (the grant was withdrawn), and another body
    under the key is the reused-key problem, not a duplicate id."""
    from fastapi.testclient import TestClient

    from airgrid.api.http.app import create_app

    settings.priority_grants["operator-1"] = 40
    body = {"priority": 40, "volumes": [volume()]}
    with TestClient(create_app(settings, services=services), raise_server_exceptions=False) as c:
        _crash_after_the_acceptance(monkeypatch)
        assert _post(c, auth["operator"], body, key="order-1").status_code == 500
        monkeypatch.undo()
        settings.priority_grants.clear()
        assert _post(c, auth["operator"], body, key="order-2").status_code == 403  # rules apply
        (stored,) = _ids(c, auth["admin"])
        again = _post(c, auth["operator"], body, key="order-1")
        assert again.status_code == 201 and again.json()["id"] == stored
        assert again.json()["priority"] == 40 and again.json()["state"] == "accepted"
        other = _post(c, auth["operator"], {"volumes": [volume(112.99, 28.2)]}, key="order-1")
        assert other.status_code == 409
        assert other.json()["type"] == "urn:airgrid:problem:idempotency-key-reused"
        assert _ids(c, auth["admin"]) == [stored]


def test_a_rebuilt_answer_names_what_the_acceptance_pre_empted(
    settings, services, tokens, auth, monkeypatch
):
    """The answer lost in a crash is rebuilt from the store with the intents the acceptance
    pre-empted, and the same terrain notices as the original answer."""
    from fastapi.testclient import TestClient

    from airgrid.api.http.app import create_app

    settings.priority_grants["operator-1"] = 40
    low = {"intent_id": "low-1", "volumes": [volume(floor=600.0, ceiling=1000.0)]}
    body = {"priority": 40, "volumes": [volume(floor=600.0, ceiling=1000.0)]}
    with TestClient(create_app(settings, services=services), raise_server_exceptions=False) as c:
        assert _post(c, auth["operator2"], low).status_code == 201
        _crash_after_the_acceptance(monkeypatch)
        assert _post(c, auth["operator"], body, key="order-9").status_code == 500
        monkeypatch.undo()
        again = _post(c, auth["operator"], body, key="order-9")
        assert again.status_code == 201, again.text
        assert again.json()["preempted"] == ["low-1"]
    from airgrid.api.http.schemas.intents import IntentCreate

    me = services.keys.authenticate(auth["operator"]["Authorization"].split()[1])
    req = _request(IntentCreate.model_validate({"tier": "T2", **body}), me, services)
    assert isinstance(req, IntentRequest)
    notices = services.stores.get().check(req)
    assert notices.high_volumes, "the case is meant to carry a terrain notice"
    assert [v["volume"] for v in again.json()["high_volumes"]] == [
        v.volume for v in notices.high_volumes
    ]
    assert [v["volume"] for v in again.json()["low_volumes"]] == [
        v.volume for v in notices.low_volumes
    ]


def test_an_answer_recorded_before_the_upgrade_is_replayed_after_it(settings, tmp_path):
    """A database of schema 3 whose ``api_keys`` and ``submissions`` tables the API made
    itself: after the upgrade, keys still authenticate and answers are replayed as recorded."""
    from fastapi.testclient import TestClient

    from airgrid.api.http.app import create_app, load_services
    from tests.airspace.test_store_accounts import to_schema_3

    services = load_services(settings)
    op = {"Authorization": f"Bearer {services.keys.create('operator-1', 'operator')[0]}"}
    admin = {"Authorization": f"Bearer {services.keys.create('admin-1', 'admin')[0]}"}
    body = {"intent_id": "kept-1", "priority": 40, "volumes": [volume()]}
    with TestClient(create_app(settings, services=services)) as c:
        assert _post(c, op, {"intent_id": "low", "volumes": [volume()]}).status_code == 201
        first = _post(c, admin, body)
        assert first.status_code == 201 and first.json()["preempted"] == ["low"]
    store = services.stores.get()
    to_schema_3(store)
    assert store.schema_version() == 3
    with TestClient(create_app(settings)) as c:  # loads the services anew: migrates
        assert c.app.state.services.stores.get().schema_version() == SCHEMA_VERSION
        assert c.get("/v1/whoami", headers=op).json()["name"] == "operator-1"
        again = _post(c, admin, body)  # replayed, not rebuilt (that would name no pre-empted)
        assert again.status_code == 201 and again.content == first.content
