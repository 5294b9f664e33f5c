"""Periodic housekeeping of a server process: the contingent timer and audit retention.

Every ``housekeeping_interval_s`` one daemon thread

* makes contingent the intents nonconforming for longer than ``contingent_after_s`` by
  the clock (:meth:`~airgrid.airspace.store.Store.sweep_contingent`), so an intent whose
  telemetry stops while it is outside becomes contingent without another position (the
  conformance routes also sweep before they answer, so their reads are never late);
* deletes audit jobs that ended more than ``audit_retention_s`` ago, with their result
  folders (``<var dir>/audits/<job id>``).

Every worker process of a server runs one; the store re-checks each intent under its
lock, so two sweeps never record one change twice.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable

from airgrid.airspace.store.service import Store
from airgrid.airspace.traffic.conformance import IntentEvent
from airgrid.api.http.audit_jobs import KIND
from airgrid.api.http.audit_task import audit_folder
from airgrid.settings import Settings

log = logging.getLogger(__name__)


def expire_audits(store: Store, settings: Settings, now: float | None = None) -> list[str]:
    """Delete audit jobs that ended more than ``audit_retention_s`` before ``now``, and
    their folders; their ids."""
    now = time.time() if now is None else float(now)
    gone = store.expire_jobs(KIND, now - settings.audit_retention_s)
    for job_id, _ in gone:
        shutil.rmtree(audit_folder(settings, job_id), ignore_errors=True)
    return [job_id for job_id, _ in gone]


def sweep_contingent(store: Store, settings: Settings) -> list[IntentEvent]:
    """Make contingent the intents nonconforming for too long by the clock (see the
    module docstring)."""
    return store.sweep_contingent(settings.contingent_after_s)


class Housekeeping:
    """The housekeeping thread of one server process.

    Parameters
    ----------
    store
        Returns the calling thread's store.
    settings
        ``housekeeping_interval_s``, ``contingent_after_s``, ``audit_retention_s`` and
        ``var_dir``.
    """

    def __init__(self, store: Callable[[], Store], settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, now: float | None = None) -> tuple[list[IntentEvent], list[str]]:
        """One round: the contingent changes made and the audit jobs deleted."""
        store = self.store()
        return sweep_contingent(store, self.settings), expire_audits(store, self.settings, now)

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.housekeeping_interval_s):
            try:
                self.run_once()
            except Exception:
                log.exception("housekeeping round failed; trying again next round")

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="housekeeping", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the thread and wait for its round to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None


__all__ = ["Housekeeping", "expire_audits", "sweep_contingent"]
