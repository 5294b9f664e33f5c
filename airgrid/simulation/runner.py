"""The day flown in-process: each flight routed, turned into an intent and submitted to a
:class:`~airgrid.airspace.store.service.Store`, conflicts resolved within bounds.

A refused flight is resolved in at most :data:`MAX_ATTEMPTS` submissions. Each submission
lets the store take the fixes of :data:`TAKE_FIX` itself, in the deciding transaction
(``take_fix`` of :meth:`~airgrid.airspace.store.service.Store.submit`), as an operator
would in this order:

1. an altitude offset (the flight flies that much higher or lower, inside its tier's band
   over the ground): it costs no delay;
2. else a departure shift that keeps the flight's total delay within ``max_delay_s``.

A submission the store could not fix is re-routed around the voxels near every conflict
(:meth:`~airgrid.simulation.planning.FlightPlanner.conflict_voxels`, added to the router's
blocked-voxel mask; the avoided voxels add up over the attempts), keeping the delay and
offset taken so far. A re-route gets a bounded search
(:data:`~airgrid.simulation.planning.REROUTE_BUDGET_FACTOR` times the first search's
expansions): one that needs more is given up, and the flight stays refused.

A flight still refused after that is counted with the reason of its last refusal.

A flight's first route and intent depend on nothing the store holds, so :func:`fly_day`
can have those of the flights ahead of the one being submitted made elsewhere
(:class:`PlanAhead`: other threads or processes, see :mod:`airgrid.simulation.ahead`),
while submissions, fixes and re-routes stay in departure order in the calling thread.
The outcomes are those of the sequential day.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from airgrid.airspace.errors import IntentError
from airgrid.airspace.store.answers import Decision
from airgrid.airspace.traffic.models import IntentRequest
from airgrid.geo.volumes import VolumeError
from airgrid.routing.search.route import Route, RouteStatus
from airgrid.simulation.planning import (
    REROUTE_BUDGET_FACTOR,
    REROUTE_MIN_BUDGET,
    FlightPlanner,
    crow_flies_m,
)
from airgrid.simulation.schedule import Flight

#: Submissions per flight, at most.
MAX_ATTEMPTS = 4
#: Largest total departure delay a flight accepts, seconds.
MAX_DELAY_S = 1_800.0

#: The fixes a refused submission lets the store take, in order of preference.
TAKE_FIX = ("altitude_offset", "departure_shift")
#: Why a flight was refused: no usable voxel near an end, no route (or the search budget
#: ran out), an intent the store rejects as invalid, a conflict no fix resolved, or an
#: active prohibited geofence.
REASONS = ("no endpoint", "no route", "invalid intent", "conflict", "geofence")


@dataclass(frozen=True)
class FlightOutcome:
    """What became of one flight.

    Attributes
    ----------
    index
        The flight's position in the day.
    cls
        Its class name.
    accepted
        Whether an intent of it is held.
    reason
        One of :data:`REASONS` when refused, else ``""``.
    delay_s
        Departure delay taken from fixes (accepted flights), seconds.
    offset_m
        Altitude offset taken from fixes (accepted flights), metres (negative: lower).
    reroutes
        Re-routes around conflicts.
    attempts
        Submissions made.
    route_m, crow_m
        Length of the flown (last) route and the great circle between its ends (nan
        without a route).
    latency_s
        The wall time of the flight's first plan (route and intent) plus that from its
        turn to submit to its final answer: a plan made ahead counts for its making, not
        for the time it waited.
    intent_id
        The accepted intent's id, else None.
    """

    index: int
    cls: str
    accepted: bool
    reason: str
    delay_s: float
    offset_m: float
    reroutes: int
    attempts: int
    route_m: float
    crow_m: float
    latency_s: float
    intent_id: str | None


@dataclass(frozen=True)
class FirstPlan:
    """A flight's first route and intent, planned before its first submission.

    Attributes
    ----------
    route
        The route searched (None when an end is missing or the ends are not connected).
    request
        The intent of ``route`` (its id that of the first attempt), or None.
    reason
        ``""`` when ``request`` is ready to submit, else why the flight is refused
        (``"no endpoint"``, ``"no route"`` or ``"invalid intent"``).
    seconds
        Wall time the planning took.
    """

    route: Route | None
    request: IntentRequest | None
    reason: str
    seconds: float


def first_plan(flight: Flight, planner: FlightPlanner, operator: str, id_prefix: str) -> FirstPlan:
    """Plan ``flight``'s first route and intent with ``planner``, as :func:`fly` does before
    its first submission (intent id ``<id_prefix>-<flight>-0``)."""
    t0 = time.perf_counter()

    def plan(route: Route | None, req: IntentRequest | None, reason: str) -> FirstPlan:
        return FirstPlan(route, req, reason, time.perf_counter() - t0)

    if flight.origin < 0 or flight.destination < 0:
        return plan(None, None, "no endpoint")
    if not planner.connected(flight.cls, flight.origin, flight.destination):
        return plan(None, None, "no route")
    route = planner.route(flight)
    if route.status is not RouteStatus.FOUND:
        return plan(route, None, "no route")
    try:
        req = planner.intent(flight, route, operator, f"{id_prefix}-{flight.index}-0")
    except (IntentError, VolumeError):
        return plan(route, None, "invalid intent")
    return plan(route, req, "")


def fly(
    flight: Flight,
    planner: FlightPlanner,
    submit: Callable[[IntentRequest, float], Decision],
    *,
    operator: str,
    id_prefix: str,
    max_delay_s: float = MAX_DELAY_S,
    first: FirstPlan | None = None,
) -> FlightOutcome:
    """Route, submit and resolve one flight (see the module docstring).

    ``submit(request, room_s)`` decides one request (a store's ``submit`` without
    pre-emption, taking the fixes of :data:`TAKE_FIX`); ``room_s`` is the further
    departure delay the flight would still take (``max_delay_s`` less the delay taken),
    the longest shift the store may take. Each attempt's intent id is ``<id_prefix>-<flight>-<attempt>``. ``first``
    is the flight's first plan when it was made already (:func:`first_plan`); its
    planning time counts in the flight's latency.
    """
    if first is None:
        first = first_plan(flight, planner, operator, id_prefix)
    t0 = time.perf_counter() - first.seconds

    def done(reason: str, route: Route | None, n: int = 0, k: int = 0) -> FlightOutcome:
        found = route is not None and route.found
        return FlightOutcome(
            flight.index,
            flight.cls.name,
            reason == "",
            reason,
            delay if reason == "" else 0.0,
            offset if reason == "" else 0.0,
            k,
            n,
            route.length_m if found and route is not None else math.nan,
            crow_flies_m(route) if found and route is not None else math.nan,
            time.perf_counter() - t0,
            f"{id_prefix}-{flight.index}-{n - 1}" if reason == "" else None,
        )

    delay, offset = 0.0, 0.0
    route, req = first.route, first.request
    if first.reason or route is None:
        return done(first.reason, route)
    reroutes, first_expansions = 0, route.expansions
    avoid = np.empty(0, np.int64)
    reason = "conflict"
    tries = 0
    for attempt in range(MAX_ATTEMPTS):
        intent_id = f"{id_prefix}-{flight.index}-{attempt}"
        try:
            if req is None:
                req = planner.intent(flight, route, operator, intent_id, delay).raised(offset)
            else:
                req = req.renamed(intent_id)
        except (IntentError, VolumeError):
            return done("invalid intent", route, tries, reroutes)
        d = submit(req, max_delay_s - delay)
        tries += 1
        if d.accepted:
            if d.fix is not None:
                delay, offset = delay + d.fix.shift_s, offset + d.fix.offset_m
            return done("", route, tries, reroutes)
        reason = "geofence" if d.geofence_conflicts and not d.conflicts else "conflict"
        if attempt == MAX_ATTEMPTS - 1:
            break
        avoid = np.concatenate([avoid, planner.conflict_voxels(d.conflicts, flight.cls.tiers)])
        budget = max(REROUTE_MIN_BUDGET, REROUTE_BUDGET_FACTOR * first_expansions)
        again = planner.route(flight, avoid, budget)
        if not again.found:
            break
        route, reroutes, req = again, reroutes + 1, None
    return done(reason, route, tries, reroutes)


class PlanAhead(NamedTuple):
    """Where a day's first plans are made ahead of the flight being submitted.

    Attributes
    ----------
    plan
        Hands a flight over and returns the future of its :func:`first_plan`.
    window
        How many flights may be handed over ahead of the one being submitted.
    """

    plan: Callable[[Flight], Future[FirstPlan]]
    window: int


def fly_day(
    flights: Sequence[Flight],
    planner: FlightPlanner,
    submit: Callable[[IntentRequest, float], Decision],
    *,
    operator: str,
    id_prefix: str,
    max_delay_s: float = MAX_DELAY_S,
    progress: Callable[[int], None] | None = None,
    ahead: PlanAhead | None = None,
) -> list[FlightOutcome]:
    """:func:`fly` every flight in departure order, one after another.

    With ``ahead`` (threads or processes of :mod:`airgrid.simulation.ahead`), the first
    plans of up to ``ahead.window`` flights are made there ahead of the flight being
    submitted, with the intent ids ``fly`` would give them; the outcomes are the same as
    without.
    """
    out = []
    for k, (f, first) in enumerate(_first_plans(flights, ahead)):
        out.append(
            fly(
                f,
                planner,
                submit,
                operator=operator,
                id_prefix=id_prefix,
                max_delay_s=max_delay_s,
                first=first,
            )
        )
        if progress is not None:
            progress(k + 1)
    return out


def _first_plans(
    flights: Sequence[Flight], ahead: PlanAhead | None
) -> Iterator[tuple[Flight, FirstPlan | None]]:
    """The flights in order, each with its first plan made ``ahead`` (None without:
    :func:`fly` makes it)."""
    if ahead is None:
        yield from ((f, None) for f in flights)
        return
    pending: deque[Future[FirstPlan]] = deque()
    try:
        for k, f in enumerate(flights):
            while len(pending) < ahead.window and k + len(pending) < len(flights):
                pending.append(ahead.plan(flights[k + len(pending)]))
            yield f, pending.popleft().result()
    finally:
        for fut in pending:
            fut.cancel()


__all__ = [
    "MAX_ATTEMPTS",
    "MAX_DELAY_S",
    "REASONS",
    "TAKE_FIX",
    "FirstPlan",
    "FlightOutcome",
    "PlanAhead",
    "first_plan",
    "fly",
    "fly_day",
]
