"""Audit jobs of the API: a bounded queue, worker processes, and jobs that never get lost.

Each job runs in a process of its own (:func:`~airgrid.api.http.audit_task.run_task`,
started with ``spawn``), so an audit's numeric work never shares the server's GIL: health
probes and other requests stay fast while audits run. At most ``audit_workers`` jobs run
at once (one dispatcher thread per slot starts a process and waits for it); at most
``audit_queue`` more wait, and a submission beyond that is refused with 503.

The store's ``jobs`` table holds the truth. Every job names its runner, this server
process as ``host:pid:start-time``. When the service starts, and whenever jobs are read,
unfinished jobs whose runner on this host is gone are failed with "server restarted";
they are not re-queued (their inputs are kept, so the client can submit them again).
A worker process that ends without deciding its job (killed, crashed) fails it with its
exit code. Jobs of runners on other hosts are left to those hosts.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import socket
import threading
import uuid
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from airgrid.airspace.store.jobs import Job
from airgrid.airspace.store.service import Store
from airgrid.api.http.audit_task import AuditTask, run_task
from airgrid.api.http.errors import ApiError

log = logging.getLogger(__name__)

#: Job kind of audits in the store.
KIND = "audit"
#: Error of the jobs a dead server left unfinished.
RESTARTED = "server restarted before the job finished; submit it again"
#: Error of the jobs a server that stops leaves unfinished.
STOPPED = "server stopped before the job finished; submit it again"


def new_job_id() -> str:
    """A fresh job id (32 hex digits)."""
    return uuid.uuid4().hex


class AuditBusyError(ApiError, TimeoutError):
    """Every worker is busy and the queue is full (503, retry later)."""

    status = 503


def _start_ticks(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot; '' where /proc is missing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def this_runner() -> str:
    """This process as a job runner: ``host:pid:start-time``."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid)}"


def runner_alive(runner: str) -> bool:
    """Whether the process ``runner`` names still runs (True for other hosts: unknown)."""
    host, pid_text, ticks = runner.rsplit(":", 2)
    if host != socket.gethostname():
        return True
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not ticks or _start_ticks(pid) == ticks


class AuditJobs:
    """The audit jobs of one server process.

    Parameters
    ----------
    store
        Returns the calling thread's store (:meth:`~airgrid.api.http.stores.StorePool.get`).
    task
        Makes the worker's task for a job id, its result folder, its logs (absolute paths)
        and their client names, and its parameters.
    workers
        Most jobs running at once.
    queue_size
        Most jobs waiting beyond those.
    """

    def __init__(
        self,
        store: Callable[[], Store],
        task: Callable[[str, list[Path], list[str], dict[str, Any]], AuditTask],
        *,
        workers: int,
        queue_size: int,
    ) -> None:
        self.store = store
        self._task = task
        self.workers = workers
        self.limit = workers + queue_size
        self.runner = this_runner()
        self._queue: queue.Queue[AuditTask | None] = queue.Queue()
        self._lock = threading.Lock()
        self._pending = 0
        self._threads: list[threading.Thread] = []
        self._running: dict[str, BaseProcess] = {}
        self._ctx = multiprocessing.get_context("spawn")

    def start(self) -> list[str]:
        """Fail the jobs dead servers left unfinished and start the dispatchers; the ids failed."""
        failed = self.reap()
        if self._threads:
            return failed
        for k in range(self.workers):
            t = threading.Thread(target=self._dispatch, name=f"audit-{k}", daemon=True)
            t.start()
            self._threads.append(t)
        return failed

    def reap(self) -> list[str]:
        """Fail every unfinished job whose runner on this host is gone; their ids."""
        store = self.store()
        failed: list[str] = []
        for runner in store.unfinished_runners():
            if runner != self.runner and not runner_alive(runner):
                failed += store.fail_jobs_of(runner, RESTARTED)
        if failed:
            log.warning("failed %d audit job(s) of a dead server: %s", len(failed), failed)
        return failed

    def submit(
        self,
        job_id: str,
        owner: str,
        logs: list[Path],
        names: list[str],
        parameters: dict[str, Any],
    ) -> Job:
        """Record a queued job and hand it to a worker.

        Parameters
        ----------
        job_id
            A fresh id (:func:`new_job_id`).
        owner
            The submitting principal.
        logs
            The flight logs (absolute paths the worker reads).
        names
            The name the client knows each log by.
        parameters
            The job's parameters as recorded (``from``, ``to``, ``strict``, ``logs`` ...).

        Raises
        ------
        AuditBusyError
            Every worker is busy and the queue is full.
        """
        with self._lock:
            if self._pending >= self.limit:
                raise AuditBusyError(
                    f"{self._pending} audit job(s) are running or queued, the limit is "
                    f"{self.limit}; retry when one has finished"
                )
            self._pending += 1
        try:
            job = self.store().add_job(job_id, KIND, owner, parameters, self.runner)
            self._queue.put(self._task(job_id, logs, names, parameters))
        except BaseException:
            with self._lock:
                self._pending -= 1
            raise
        return job

    def _dispatch(self) -> None:
        """One worker slot: run queued jobs one after another, each in its own process."""
        while (task := self._queue.get()) is not None:
            try:
                self._run(task)
            except Exception:
                log.exception("audit job %s could not be run", task.job_id)
                self.store().finish_job(task.job_id, error="internal error; see the server log")
            finally:
                with self._lock:
                    self._pending -= 1

    def _run(self, task: AuditTask) -> None:
        proc = self._ctx.Process(target=run_task, args=(task,), name=f"audit-{task.job_id}")
        with self._lock:
            self._running[task.job_id] = proc
        try:
            proc.start()
            proc.join()
        finally:
            with self._lock:
                self._running.pop(task.job_id, None)
        if proc.exitcode != 0:
            self.store().finish_job(
                task.job_id,
                error=f"the audit process ended without a result (exit code {proc.exitcode})",
            )

    def close(self) -> None:
        """Stop: fail this server's unfinished jobs, then end its worker processes."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
            with self._lock:
                self._pending -= 1
        self.store().fail_jobs_of(self.runner, STOPPED)
        with self._lock:
            procs = list(self._running.values())
        for proc in procs:
            proc.terminate()
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout=10)
        self._threads.clear()


__all__ = [
    "KIND",
    "RESTARTED",
    "STOPPED",
    "AuditBusyError",
    "AuditJobs",
    "new_job_id",
    "runner_alive",
]
