"""Retries get the original answer; other callers' ids are not revealed."""

from __future__ import annotations

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
