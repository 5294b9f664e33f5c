"""One audit job as it runs in its own process: read the logs, audit, write the results.

:func:`run_task` is the whole life of a worker process. It takes the job (``queued`` ->
``running``), records progress in the store as the audit goes, and ends the job
``succeeded`` with its result files or ``failed`` with the reason. A watchdog thread ends
the process as soon as the server that started it is gone, and the process stops as soon
as its job is no longer ``running`` (failed by a restarted server), so no orphan keeps
computing or writes over a decided job.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airgrid.airspace.geofences.airports import airport_zones
from airgrid.airspace.grid.tiers import TierTable
from airgrid.airspace.store.service import Store, open_store
from airgrid.settings import Settings
from airgrid.terrain import Dem
from airgrid.terrain.geoid import Geoid

if TYPE_CHECKING:
    import pandas as pd

    from airgrid.audit.audit import AuditResult
    from airgrid.audit.tracks import Tracks

log = logging.getLogger(__name__)

#: Seconds between the watchdog's looks at the parent process.
WATCH_INTERVAL_S = 0.5
#: Exit code of a worker whose server is gone.
ORPHANED = 3


@dataclass(frozen=True)
class AuditTask:
    """Everything a worker process needs to run one audit job (picklable).

    Attributes
    ----------
    job_id
        The job.
    store
        Location of the service's store (see :func:`~airgrid.airspace.store.service.open_store`).
    out
        Folder for the result files.
    logs
        The flight logs, as absolute paths.
    names
        The name the client knows each log by (messages use these, never server paths).
    t_from, t_to
        Unix-time window of the fixes audited (None: open).
    strict
        Fail the job if any row is rejected.
    operator
        Operator of logs that name none.
    contingent_after_s
        Seconds of nonconformance before Contingent.
    tiers
        The tier table of the served grid.
    dem_paths, geoid_path, data_dir
        Terrain, geoid and the folder of the shipped airport zones.
    max_points
        Most fixes the job may audit.
    parent_pid
        The server process; the worker ends when it is gone.
    """

    job_id: str
    store: str | Path
    out: Path
    logs: tuple[str, ...]
    names: tuple[str, ...]
    t_from: float | None
    t_to: float | None
    strict: bool
    operator: str
    contingent_after_s: float
    tiers: TierTable
    dem_paths: tuple[Path, ...]
    geoid_path: Path
    data_dir: Path
    max_points: int
    parent_pid: int


class JobLimitError(ValueError):
    """A job asks for more than the server allows one job (fixes)."""


class _Abandoned(Exception):
    """The job is no longer running (failed by someone else): stop quietly."""


def _watch_parent(parent_pid: int) -> None:
    """End this process as soon as ``parent_pid`` is no longer its parent."""
    while True:
        if os.getppid() != parent_pid:
            os._exit(ORPHANED)
        time.sleep(WATCH_INTERVAL_S)


def run_task(task: AuditTask) -> None:
    """Run one audit job to its end (the target of a worker process).

    A bad log, rejected rows under ``strict`` or a job over its limits fail the job with
    the reader's message (file, row, field); any other error fails it as internal.
    """
    threading.Thread(target=_watch_parent, args=(task.parent_pid,), daemon=True).start()
    with open_store(task.store) as store:
        if not store.start_job(task.job_id):
            return

        def progress(step: str, fraction: float) -> None:
            if not store.job_progress(task.job_id, fraction, step):
                raise _Abandoned

        from airgrid.audit.errors import LogError

        try:
            result = _audit(task, progress)
            progress("writing results", 0.9)
            store.finish_job(task.job_id, result=_write(result, task), result_dir=str(task.out))
        except _Abandoned:
            return
        except (LogError, JobLimitError) as exc:
            store.finish_job(task.job_id, error=_public(str(exc), task))
        except Exception as exc:
            log.exception("audit job %s failed", task.job_id)
            _fail_internal(store, task.job_id, exc)


def _fail_internal(store: Store, job_id: str, exc: Exception) -> None:
    store.finish_job(job_id, error=f"internal error ({type(exc).__name__}); see the server log")


def _audit(task: AuditTask, progress: Any) -> AuditResult:
    """Assemble the inputs and run the audit, within the job's point limit."""
    from airgrid.audit.audit import audit_tracks, run_audit
    from airgrid.audit.inputs import audit_inputs
    from airgrid.audit.rules import RuleSettings

    progress("loading geofences, intents and terrain", 0.0)
    dem = Dem.open(list(task.dem_paths))
    inputs = audit_inputs(airport_zones(data_dir=task.data_dir), store=task.store, dem=dem)
    settings = RuleSettings(contingent_after_s=task.contingent_after_s)

    def bounded(tracks: Tracks) -> tuple[pd.DataFrame, pd.DataFrame]:
        if len(tracks) > task.max_points:
            raise JobLimitError(
                f"the logs hold {len(tracks)} fixes in the window; one audit job may audit "
                f"at most {task.max_points}: split the logs or narrow from/to"
            )
        return audit_tracks(
            tracks, index=inputs.index, tiers=task.tiers, intents=inputs.intents, settings=settings
        )

    return run_audit(
        list(task.logs),
        index=inputs.index,
        dem=dem,
        geoid=Geoid(task.geoid_path),
        tiers=task.tiers,
        intents=inputs.intents,
        t_from=task.t_from,
        t_to=task.t_to,
        settings=settings,
        strict=task.strict,
        operator=task.operator,
        progress=progress,
        executor=bounded,
    )


def _public(text: str, task: AuditTask) -> str:
    """``text`` with every log's server path replaced by the name the client knows."""
    for path, name in zip(task.logs, task.names):
        text = text.replace(path, name)
    return text


def _write(result: AuditResult, task: AuditTask) -> dict[str, Any]:
    """Write the result files; the job's result: counts and the first rejected rows."""
    from airgrid.audit.report import write_results

    write_results(result, task.out)
    v = result.violations
    return {
        "violations": len(v),
        "certain": int((v["certainty"] == "certain").sum()) if len(v) else 0,
        "flights": int(result.operators["flights"].sum()),
        "fixes": int(result.operators["fixes"].sum()),
        "rejected_rows": result.n_rejected,
        "first_rejected": [_public(str(r), task) for r in result.rejected[:5]],
        "outside_window": result.outside_window,
    }


def audit_folder(settings: Settings, job_id: str) -> Path:
    """The folder of an audit job's uploaded logs and results: ``<var dir>/audits/<id>``."""
    return settings.var_dir / "audits" / job_id


def task_maker(
    settings: Settings, tiers: TierTable, store: str | Path
) -> Callable[[str, list[Path], list[str], dict[str, Any]], AuditTask]:
    """The :class:`AuditTask` of a job from its id, logs, their names and its recorded
    parameters (``from``/``to`` as ISO 8601, ``strict``, ``operator``,
    ``contingent_after_s``), run with ``settings`` on the served grid's ``tiers``."""

    def make(job_id: str, logs: list[Path], names: list[str], params: dict[str, Any]) -> AuditTask:
        def ts(key: str) -> float | None:
            text = params.get(key)
            return None if text is None else datetime.fromisoformat(text).timestamp()

        return AuditTask(
            job_id=job_id,
            store=store,
            out=audit_folder(settings, job_id),
            logs=tuple(str(p) for p in logs),
            names=tuple(names),
            t_from=ts("from"),
            t_to=ts("to"),
            strict=bool(params.get("strict", False)),
            operator=str(params.get("operator", "unknown")),
            contingent_after_s=float(params.get("contingent_after_s", 30.0)),
            tiers=tiers,
            dem_paths=tuple(settings.dem_paths),
            geoid_path=settings.geoid_path,
            data_dir=settings.data_dir,
            max_points=settings.max_audit_points,
            parent_pid=os.getpid(),
        )

    return make


__all__ = ["AuditTask", "JobLimitError", "audit_folder", "run_task", "task_maker"]
