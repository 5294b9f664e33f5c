"""First plans made ahead of the flight being submitted, on other threads or in forked
processes (the :class:`~airgrid.simulation.runner.PlanAhead` that
:func:`~airgrid.simulation.runner.fly_day` takes).

A flight's first route and intent depend only on the flight and the planner's graph (see
:func:`~airgrid.simulation.runner.first_plan`), so any thread or process holding a
planner over that graph makes the same plan.

- :func:`plan_in_threads`: one :meth:`~airgrid.simulation.planning.FlightPlanner.twin`
  per thread. The A* search and the line-of-sight walks release the interpreter lock;
  building the route and its intent around them holds it, which the submitting thread
  needs too.
- :func:`plan_in_processes`: processes forked once the planner is ready. They share its
  graph, masks and components copy-on-write, each searches with the router it
  inherited, and none holds the submitting process's interpreter lock. Flights go to
  them and plans come back pickled (a route's arrays, an intent's volumes as WKB).
  Forking needs the ``fork`` start method (Linux and other POSIX systems, not the
  macOS default). A child forked from a process that has run a parallel Numba kernel
  under GNU OpenMP (Numba's ``omp`` threading layer on Linux) is killed when it starts
  one, so the planner's corridor-search zone plan, made on first use by such a kernel,
  is made before the fork and inherited; planning itself runs serial kernels only.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager

from airgrid.routing.search.strategy import zone_planner_for
from airgrid.simulation.errors import TrafficError
from airgrid.simulation.planning import FlightPlanner
from airgrid.simulation.runner import FirstPlan, PlanAhead, first_plan
from airgrid.simulation.schedule import Flight

#: Flights whose first plans may be under way ahead of the one being submitted, per
#: thread or process making them.
LOOKAHEAD_PER_WORKER = 32

#: Planning processes a day may fork, at most (each holds a copy-on-write share of the
#: planner and writes its own search state and hull table pages).
MAX_PLAN_PROCESSES = 8

#: The planner, operator and intent id prefix of a planning process (set as it starts).
_JOB: tuple[FlightPlanner, str, str] | None = None


@contextmanager
def plan_in_threads(
    planner: FlightPlanner, threads: int, operator: str, id_prefix: str
) -> Iterator[PlanAhead]:
    """First plans made on ``threads`` threads, each with its own twin of ``planner``, for
    the life of the ``with`` block (intent ids ``<id_prefix>-<flight>-0``).

    Raises
    ------
    TrafficError
        ``threads`` is not positive.
    """
    if threads < 1:
        raise TrafficError(f"planning threads must be >= 1, got {threads}")
    free: queue.SimpleQueue[FlightPlanner] = queue.SimpleQueue()
    for _ in range(threads):
        free.put(planner.twin())

    def plan(f: Flight) -> FirstPlan:
        p = free.get()
        try:
            return first_plan(f, p, operator, id_prefix)
        finally:
            free.put(p)

    with ThreadPoolExecutor(threads, thread_name_prefix="first-plan") as pool:
        try:
            yield PlanAhead(lambda f: pool.submit(plan, f), LOOKAHEAD_PER_WORKER * threads)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _start(planner: FlightPlanner, operator: str, id_prefix: str) -> None:
    """Keep what a forked planning process inherited (fork copies it; nothing is pickled)."""
    global _JOB
    _JOB = (planner, operator, id_prefix)


def _plan(flight: Flight) -> FirstPlan:
    """:func:`first_plan` of ``flight`` in a planning process."""
    if _JOB is None:
        raise TrafficError("a planning process got a flight before it started")
    planner, operator, id_prefix = _JOB
    return first_plan(flight, planner, operator, id_prefix)


@contextmanager
def plan_in_processes(
    planner: FlightPlanner, processes: int, operator: str, id_prefix: str
) -> Iterator[PlanAhead]:
    """First plans made in ``processes`` processes forked with ``planner``, for the life
    of the ``with`` block (intent ids ``<id_prefix>-<flight>-0``).

    Raises
    ------
    TrafficError
        ``processes`` is not in 1..:data:`MAX_PLAN_PROCESSES`, or this platform cannot
        fork.
    """
    if not 1 <= processes <= MAX_PLAN_PROCESSES:
        raise TrafficError(f"planning processes must be 1..{MAX_PLAN_PROCESSES}, got {processes}")
    if "fork" not in mp.get_all_start_methods():
        raise TrafficError("planning in processes needs the 'fork' start method (POSIX)")
    zone_planner_for(planner.graph, planner.router)
    with ProcessPoolExecutor(
        processes,
        mp_context=mp.get_context("fork"),
        initializer=_start,
        initargs=(planner, operator, id_prefix),
    ) as pool:
        try:
            yield PlanAhead(lambda f: pool.submit(_plan, f), LOOKAHEAD_PER_WORKER * processes)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


__all__ = ["LOOKAHEAD_PER_WORKER", "MAX_PLAN_PROCESSES", "plan_in_processes", "plan_in_threads"]
