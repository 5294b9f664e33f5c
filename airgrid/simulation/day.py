"""A traffic day end to end: the day's start, and the day flown in-process or through
HTTP with its report (and the brute-force check when a store is at hand)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from airgrid.airspace.grid import Grid
from airgrid.airspace.store.service import Store
from airgrid.simulation.ahead import plan_in_processes, plan_in_threads
from airgrid.simulation.departures import LOCAL_UTC_OFFSET_S
from airgrid.simulation.errors import TrafficError
from airgrid.simulation.http_runner import fly_day_http
from airgrid.simulation.planning import FlightPlanner
from airgrid.simulation.report import CpuClock, TrafficReport, conflicting_pairs, summarise
from airgrid.simulation.runner import TAKE_FIX, FlightOutcome, PlanAhead, fly_day
from airgrid.simulation.schedule import Flight

#: The operator name of in-process intents.
OPERATOR = "traffic-day"
#: Seconds from a day's local midnight over which its flights may be airborne: the day,
#: plus six hours for the latest departures' delays (at most 30 min) and flight times (an
#: intercity route of 300 km, a third longer than the great circle, at 30 m/s takes
#: 3.7 hours).
DAY_WINDOW_S = 30 * 3600.0

_LOCAL = timezone(timedelta(seconds=LOCAL_UTC_OFFSET_S))


def day_start(day: date | None = None) -> float:
    """POSIX time of local midnight (UTC+8) of ``day`` (default: tomorrow, local)."""
    if day is None:
        day = (datetime.now(_LOCAL) + timedelta(days=1)).date()
    return datetime(day.year, day.month, day.day, tzinfo=_LOCAL).timestamp()


def check_report(
    report: TrafficReport, store: Store | None, outcomes: Sequence[FlightOutcome]
) -> TrafficReport:
    """``report`` with its accepted intents checked pairwise in ``store`` (a sample: see
    :func:`~airgrid.simulation.report.conflicting_pairs`); unchanged without a store."""
    if store is None:
        return report
    ids = [o.intent_id for o in outcomes if o.intent_id is not None]
    checked, pairs = conflicting_pairs(store, ids)
    return replace(report, checked=checked, pairs_in_conflict=pairs)


def run_in_process(
    planner: FlightPlanner,
    flights: Sequence[Flight],
    store: Store,
    *,
    id_prefix: str,
    check: bool = True,
    progress: Callable[[int], None] | None = None,
    plan_threads: int = 1,
    plan_processes: int = 0,
) -> tuple[TrafficReport, list[FlightOutcome]]:
    """The day flown in this process with ``planner`` against ``store`` (no pre-emption,
    fixes taken by the store: :data:`~airgrid.simulation.runner.TAKE_FIX`), the flights' first routes and intents planned ahead on
    ``plan_threads`` threads or, when ``plan_processes`` is positive, in that many forked
    processes instead (both 0: each when its flight's turn comes; see
    :mod:`airgrid.simulation.ahead`). Submissions, fixes and re-routes stay in this
    thread, in departure order.

    Raises
    ------
    TrafficError
        A negative count, or processes asked for where the platform cannot fork.
    """
    if plan_threads < 0 or plan_processes < 0:
        raise TrafficError(
            f"plan_threads and plan_processes must be >= 0, got {plan_threads} and {plan_processes}"
        )
    ahead: AbstractContextManager[PlanAhead | None] = nullcontext(None)
    if plan_processes:
        ahead = plan_in_processes(planner, plan_processes, OPERATOR, id_prefix)
    elif plan_threads:
        ahead = plan_in_threads(planner, plan_threads, OPERATOR, id_prefix)
    t0, clock = time.perf_counter(), CpuClock()
    with ahead as plans:
        out = fly_day(
            flights,
            planner,
            lambda r, room_s: store.submit(
                r, preempt=False, propose=False, max_shift_s=room_s, take_fix=TAKE_FIX
            ),
            operator=OPERATOR,
            id_prefix=id_prefix,
            progress=progress,
            ahead=plans,
        )
    report = summarise(
        out,
        time.perf_counter() - t0,
        "in-process",
        children=plan_processes > 0,
        cpu=clock.split(),
    )
    return (check_report(report, store, out) if check else report), out


def run_over_http(
    grid: Grid,
    flights: Sequence[Flight],
    base_url: str,
    tokens: Sequence[str],
    *,
    clients: int,
    id_prefix: str,
    store: Store | None = None,
) -> tuple[TrafficReport, list[FlightOutcome]]:
    """The day flown through the API at ``base_url``; checked pairwise when the server's
    ``store`` is given."""
    t0 = time.perf_counter()
    out = fly_day_http(flights, grid, base_url, tokens, clients=clients, id_prefix=id_prefix)
    report = summarise(out, time.perf_counter() - t0, f"http, {clients} clients")
    return check_report(report, store, out), out


__all__ = [
    "DAY_WINDOW_S",
    "OPERATOR",
    "check_report",
    "day_start",
    "run_in_process",
    "run_over_http",
]
