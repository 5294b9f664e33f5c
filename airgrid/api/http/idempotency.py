"""Idempotent intent submissions: a retry gets the original answer, not a duplicate.

A submission is idempotent when it carries an ``Idempotency-Key`` header or an
``intent_id``. Its answer (201 or the 409 refusal) is recorded under (operator, key)
with a hash of the request body, in the service database:

* a retry with the same body gets the recorded status and body again;
* a request with another body under the same key is a 409 problem
  (``urn:airgrid:problem:idempotency-key-reused``);
* if the server stopped after the store committed the intent but before the answer was
  recorded, the retry finds the stored intent; when it is the one the request
  describes, the answer is rebuilt from it (201), otherwise it is a 409
  (``duplicate-intent-id``).

An ``Idempotency-Key`` without an ``intent_id`` names the intent
(``k-<hash of operator and key>``), so that window is closed for it too.
"""

from __future__ import annotations

import hashlib
import time

import shapely

from airgrid.airspace.traffic.models import FlightIntent, IntentRequest
from airgrid.api.http.auth import Database

#: Longest accepted ``Idempotency-Key``.
MAX_KEY_LENGTH = 200


class Submissions:
    """The ``submissions`` table: recorded answers per (operator, key).

    Parameters
    ----------
    db
        The service database.
    """

    _SCHEMA = (
        "CREATE TABLE IF NOT EXISTS submissions ("
        " operator TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,"
        " status INTEGER NOT NULL, body TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,"
        " PRIMARY KEY (operator, key))"
    )

    def __init__(self, db: Database) -> None:
        self.db = db
        db.execute(self._SCHEMA)

    def get(self, operator: str, key: str) -> tuple[str, int, bytes] | None:
        """``(request hash, status, body)`` recorded for the key, or None."""
        rows = self.db.execute(
            "SELECT request_hash, status, body FROM submissions WHERE operator = ? AND key = ?",
            (operator, key),
        )
        return None if not rows else (rows[0][0], int(rows[0][1]), rows[0][2].encode())

    def put(self, operator: str, key: str, request_hash: str, status: int, body: bytes) -> None:
        """Record an answer (a concurrent identical request may have recorded it first)."""
        self.db.execute(
            "INSERT INTO submissions (operator, key, request_hash, status, body, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (operator, key) DO NOTHING",
            (operator, key, request_hash, status, body.decode(), time.time()),
        )


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
