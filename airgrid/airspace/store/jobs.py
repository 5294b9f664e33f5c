"""Background jobs of the service (audits): who asked, their state, progress and results.

A job is ``queued`` when it is recorded, ``running`` once a worker has taken it, and ends
``succeeded`` or ``failed`` (with an error message). Each job names its ``runner``, the
server process that owns it, so a server that starts again can fail the jobs a dead
process left unfinished (:meth:`_JobsPart.fail_jobs_of`) instead of leaving them
``running`` for ever. Every state change is conditional on the state it leaves, so a late
write by a worker whose job was already failed changes nothing.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from airgrid.airspace.store.core import _StoreCore

#: Job states; the last two are final.
JOB_STATES = ("queued", "running", "succeeded", "failed")
#: States a job is still owned by its runner in.
UNFINISHED = ("queued", "running")


@dataclass(frozen=True)
class Job:
    """One row of the ``jobs`` table.

    Attributes
    ----------
    id
        Job id.
    kind
        What the job does (``"audit"``).
    owner
        Principal that submitted it.
    state
        One of :data:`JOB_STATES`.
    progress
        Fraction done, 0..1.
    step
        What the job is doing now (or did last).
    created_at, started_at, finished_at
        Unix times (the last two None until they happen).
    parameters
        What the job was asked to do (JSON object).
    error
        Why it failed ('' otherwise).
    result
        What it produced (JSON object; empty until it succeeds).
    result_dir
        Folder of its result files ('' until it has one).
    runner
        The server process that owns it (``host:pid:start``).
    """

    id: str
    kind: str
    owner: str
    state: str
    progress: float
    step: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    parameters: dict[str, Any]
    error: str
    result: dict[str, Any]
    result_dir: str
    runner: str


_COLUMNS = (
    "id, kind, owner, state, progress, step, created_at, started_at, finished_at, "
    "parameters, error, result, result_dir, runner"
)


def jobs_v6(real: str) -> list[str]:
    """The ``jobs`` table (``real``: the backend's floating-point type)."""
    return [
        "CREATE TABLE IF NOT EXISTS jobs ("
        " id TEXT PRIMARY KEY, kind TEXT NOT NULL, owner TEXT NOT NULL,"
        " state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),"
        f" progress {real} NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),"
        " step TEXT NOT NULL DEFAULT '',"
        f" created_at {real} NOT NULL, started_at {real}, finished_at {real},"
        " parameters TEXT NOT NULL, error TEXT NOT NULL DEFAULT '',"
        " result TEXT NOT NULL DEFAULT '{}', result_dir TEXT NOT NULL DEFAULT '',"
        " runner TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS jobs_created ON jobs(created_at)",
        "CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, runner)",
    ]


class _JobsPart(_StoreCore):
    """The ``jobs`` table."""

    def add_job(
        self, job_id: str, kind: str, owner: str, parameters: dict[str, Any], runner: str
    ) -> Job:
        """Record a new ``queued`` job and return it."""
        now = time.time()
        self._db.run(
            lambda: self._db.execute(
                "INSERT INTO jobs (id, kind, owner, state, created_at, parameters, runner) "
                "VALUES (?, ?, ?, 'queued', ?, ?, ?)",
                (job_id, kind, owner, now, json.dumps(parameters, sort_keys=True), runner),
            )
        )
        job = self.job(job_id)
        assert job is not None, "a job just written is readable"
        return job

    def job(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        row = self._db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _job(row)

    def list_jobs(
        self, *, kind: str, owner: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[Job]:
        """Jobs of a kind, newest first (only ``owner``'s when given)."""
        sql = f"SELECT {_COLUMNS} FROM jobs WHERE kind = ?"
        params: list[Any] = [kind]
        if owner is not None:
            sql += " AND owner = ?"
            params.append(owner)
        sql += " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
        rows = self._db.execute(sql, (*params, limit, offset)).fetchall()
        return [_job(r) for r in rows]

    def start_job(self, job_id: str) -> bool:
        """Move a ``queued`` job to ``running``; False if it is no longer queued."""
        return self._change(
            "SET state = 'running', started_at = ?, step = 'starting' "
            "WHERE id = ? AND state = 'queued'",
            (time.time(), job_id),
        )

    def job_progress(self, job_id: str, fraction: float, step: str) -> bool:
        """Record a running job's progress; False if it is no longer running."""
        return self._change(
            "SET progress = ?, step = ? WHERE id = ? AND state = 'running'",
            (min(max(float(fraction), 0.0), 1.0), step, job_id),
        )

    def finish_job(
        self,
        job_id: str,
        *,
        error: str | None = None,
        result: dict[str, Any] | None = None,
        result_dir: str = "",
    ) -> bool:
        """End an unfinished job: ``failed`` with ``error``, else ``succeeded`` with its
        ``result``; False if it had already ended."""
        if error is not None:
            return self._change(
                "SET state = 'failed', error = ?, finished_at = ? "
                "WHERE id = ? AND state IN ('queued', 'running')",
                (error, time.time(), job_id),
            )
        return self._change(
            "SET state = 'succeeded', progress = 1, step = 'done', result = ?, result_dir = ?, "
            "finished_at = ? WHERE id = ? AND state = 'running'",
            (json.dumps(result or {}, sort_keys=True), result_dir, time.time(), job_id),
        )

    def unfinished_runners(self) -> list[str]:
        """The runners that own unfinished jobs."""
        rows = self._db.execute(
            "SELECT DISTINCT runner FROM jobs WHERE state IN ('queued', 'running')"
        ).fetchall()
        return [r[0] for r in rows]

    def fail_jobs_of(self, runner: str, error: str) -> list[str]:
        """Fail every unfinished job of ``runner`` (a process that is gone); their ids."""
        db = self._db
        rows = db.run(
            lambda: db.execute(
                "UPDATE jobs SET state = 'failed', error = ? || ' (it was ' || state || ')', "
                "finished_at = ? WHERE runner = ? AND state IN ('queued', 'running') "
                "RETURNING id",
                (error, time.time(), runner),
            ).fetchall()
        )
        return [r[0] for r in rows]

    def expire_jobs(self, kind: str, before: float) -> list[tuple[str, str]]:
        """Delete the jobs of a kind that ended before ``before`` (POSIX seconds).

        Returns
        -------
        list of (str, str)
            Id and result folder of each job deleted (its files are the caller's).
        """
        db = self._db
        rows = db.run(
            lambda: db.execute(
                "DELETE FROM jobs WHERE kind = ? AND state IN ('succeeded', 'failed') "
                "AND finished_at < ? RETURNING id, result_dir",
                (kind, float(before)),
            ).fetchall()
        )
        return [(r[0], r[1]) for r in rows]

    def _change(self, assignment: str, params: tuple) -> bool:
        db = self._db
        rows = db.run(
            lambda: db.execute(f"UPDATE jobs {assignment} RETURNING id", params).fetchall()
        )
        return bool(rows)


def _job(row: tuple) -> Job:
    (jid, kind, owner, state, progress, step, created, started, finished, params, error,
     result, result_dir, runner) = row  # fmt: skip
    return Job(
        jid,
        kind,
        owner,
        state,
        float(progress),
        step,
        float(created),
        None if started is None else float(started),
        None if finished is None else float(finished),
        json.loads(params),
        error,
        json.loads(result),
        result_dir,
        runner,
    )


__all__ = ["JOB_STATES", "UNFINISHED", "Job"]
