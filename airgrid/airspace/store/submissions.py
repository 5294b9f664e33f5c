"""Recorded answers of idempotent submissions, per (operator, key).

A caller that submits under a key passes a :class:`SubmissionKey` to
:meth:`~airgrid.airspace.store.service.Store.submit`. When the intent is accepted, the
acceptance transaction itself records the key with the request's hash and the intent's
id, so a retry recognises an accepted submission even if the caller stopped before it
recorded its answer (:meth:`_SubmissionsPart.record_submission`). A refusal writes
nothing in the store; its answer is recorded afterwards.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from airgrid.airspace.store.backends import _Postgres, _Sqlite
from airgrid.airspace.store.core import _StoreCore


@dataclass(frozen=True)
class SubmissionKey:
    """Who submitted under which key, and what.

    Attributes
    ----------
    operator
        The submitting principal.
    key
        The caller's idempotency key.
    request_hash
        Hash of the request body (a retry must carry the same).
    """

    operator: str
    key: str
    request_hash: str


@dataclass(frozen=True)
class Submission:
    """What is recorded under a :class:`SubmissionKey`.

    Attributes
    ----------
    request_hash
        Hash of the request that was submitted.
    intent_id
        The intent the submission accepted; None for a refused one.
    status, body
        The recorded answer; both None while only the acceptance is recorded.
    """

    request_hash: str
    intent_id: str | None
    status: int | None
    body: bytes | None


def _hold_submission(db: _Sqlite | _Postgres, key: SubmissionKey, intent_id: str) -> None:
    """Inside an acceptance transaction: record that ``key`` accepted ``intent_id``, with
    no answer yet (replacing a recorded refusal under that key, never an acceptance)."""
    db.execute(
        "INSERT INTO submissions (operator, key, request_hash, intent_id, status, body, created_at) "
        "VALUES (?, ?, ?, ?, NULL, NULL, ?) ON CONFLICT (operator, key) DO UPDATE SET "
        "request_hash = excluded.request_hash, intent_id = excluded.intent_id, status = NULL, "
        "body = NULL, created_at = excluded.created_at WHERE submissions.intent_id IS NULL",
        (key.operator, key.key, key.request_hash, intent_id, time.time()),
    )


class _SubmissionsPart(_StoreCore):
    """The ``submissions`` table."""

    def submission(self, operator: str, key: str) -> Submission | None:
        """What is recorded under ``(operator, key)``, or None."""
        row = self._db.execute(
            "SELECT request_hash, intent_id, status, body FROM submissions "
            "WHERE operator = ? AND key = ?",
            (operator, key),
        ).fetchone()
        if row is None:
            return None
        digest, intent_id, status, body = row
        return Submission(
            digest,
            intent_id,
            None if status is None else int(status),
            None if body is None else body.encode(),
        )

    def record_submission(
        self, key: SubmissionKey, status: int, body: bytes, intent_id: str | None = None
    ) -> None:
        """Record the answer to a submission.

        A refusal (``intent_id`` None) is recorded only if nothing is recorded under the
        key yet (a concurrent identical request may have been first). An acceptance fills
        in the answer its transaction left out, once.

        The record's commit does not wait for the disk: a crash may lose it (never part
        of it). Nothing is decided on it: an accepted submission's key and intent are
        already durable (a retry rebuilds the answer from the intent), and a retry of a
        refusal whose record was lost is decided again, as one that came before the
        record was written is.

        Parameters
        ----------
        key
            The submission.
        status, body
            The answer.
        intent_id
            The intent the submission accepted; None for a refusal.
        """
        db = self._db
        db.run_unsynced(
            lambda: db.execute(
                "INSERT INTO submissions (operator, key, request_hash, intent_id, status, body, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (operator, key) DO UPDATE "
                "SET status = excluded.status, body = excluded.body "
                "WHERE submissions.body IS NULL AND submissions.intent_id = excluded.intent_id",
                (
                    key.operator,
                    key.key,
                    key.request_hash,
                    intent_id,
                    status,
                    body.decode(),
                    time.time(),
                ),
            )
        )


__all__ = ["Submission", "SubmissionKey"]
