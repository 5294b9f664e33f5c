"""Idempotent intent submissions: a retry gets the original answer, not a duplicate.

A submission is idempotent when it carries an ``Idempotency-Key`` header or an
``intent_id``. It is recorded under (operator, key) with a hash of the request body, in
the store's ``submissions`` table (:mod:`airgrid.airspace.store.submissions`): an
acceptance by the acceptance transaction itself, with the intent's id; then the answer
(201 or the 409 refusal).

* a retry with the same body gets the recorded status and body again;
* a request with another body under the same key is a 409 problem
  (``urn:airgrid:problem:idempotency-key-reused``), also when only the acceptance was
  recorded;
* if the server stopped after the acceptance committed but before the answer was
  recorded, the retry is answered 201 from the stored intent (without re-checking the
  submission rules, which may have changed since);
* a request whose intent id is taken without a record under its key (another key, or
  an intent submitted without one) is answered from the stored intent when it is the
  one the request describes (201), otherwise it is a 409 (``duplicate-intent-id``).

An ``Idempotency-Key`` without an ``intent_id`` names the intent
(``k-<hash of operator and key>``), so that window is closed for it too.
"""

from __future__ import annotations

import hashlib

import shapely

from airgrid.airspace.traffic.models import FlightIntent, IntentRequest

#: Longest accepted ``Idempotency-Key``.
MAX_KEY_LENGTH = 200


def request_hash(body_json: str) -> str:
    """Hash of a request body's canonical JSON."""
    return hashlib.sha256(body_json.encode()).hexdigest()


def key_intent_id(operator: str, key: str) -> str:
    """The intent id an ``Idempotency-Key`` names when the body gives none."""
    return "k-" + hashlib.sha256(f"{operator}\0{key}".encode()).hexdigest()[:40]


def same_intent(stored: FlightIntent, request: IntentRequest) -> bool:
    """Whether ``stored`` is what ``request`` describes (operator, priority, tier, volumes)."""
    if (stored.operator, stored.priority, stored.tier) != (
        request.operator,
        request.priority,
        request.tier,
    ):
        return False
    if len(stored.volumes) != len(request.volumes):
        return False
    return all(
        (a.floor_m, a.ceiling_m, a.t_start, a.t_end) == (b.floor_m, b.ceiling_m, b.t_start, b.t_end)
        and shapely.equals_exact(a.footprint, b.footprint, 1e-12)
        for a, b in zip(stored.volumes, request.volumes)
    )
