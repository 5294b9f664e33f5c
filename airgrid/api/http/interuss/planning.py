"""Flight plans of the ``flight_planning`` interface as airgrid intents.

A flight plan ``<id>`` is a chain of intents ``fp-<id>.1``, ``fp-<id>.2`` ... (ids are never
reused); the last one is the plan's current intent. An upsert:

=====================  =====================================================================
usage_state            what happens
=====================  =====================================================================
``Planned``            no current intent holding airspace: submit one; otherwise replace it
                       (:meth:`~airgrid.airspace.store.service.Store.replace_intent`, one
                       transaction). An airborne plan cannot go back to ``Planned``.
``InUse``              as ``Planned``, and the intent is activated (in the same transaction
                       when it replaces one); an accepted intent with the same volumes and
                       priority is only activated.
``Closed``             the current intent ends (airborne) or is cancelled (accepted).
=====================  =====================================================================

``Hypothetical`` only checks (:meth:`~airgrid.airspace.store.service.Store.check`, with the
current intent out of the way) and changes nothing; ``IfAllowed`` and ``InReality`` both
perform the action when the store accepts it. airgrid never lets two holding intents
conflict, so ``InReality`` cannot record a conflicting reality: it is ``Rejected`` too.

Priority (``astm_f3548_21.priority``, 0 by default) is airgrid's priority; the submission
rules apply to the token's subject (grant higher priorities with ``priority_grants``), and
a priority it may not use is ``NotSupported``. A higher priority pre-empts accepted
intents of lower priority, never an airborne one (airgrid's rule; ASTM F3548-21 would keep
the lower one and leave the conflict to its operator); the pre-empted plan's user is
notified (``GET /user_notifications``). A ``uas_state`` of ``OffNominal`` or
``Contingent`` is ``NotSupported``: airgrid moves flights off nominal by their telemetry.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from datetime import UTC, datetime

from airgrid.airspace.errors import (
    DuplicateIntentError,
    IntentError,
    StateTransitionError,
    StoreError,
)
from airgrid.airspace.store.answers import Decision
from airgrid.airspace.store.service import Store
from airgrid.airspace.traffic.models import (
    AIRBORNE,
    HOLDING,
    FlightIntent,
    IntentRequest,
    IntentState,
)
from airgrid.api.http.auth import Principal, Role
from airgrid.api.http.intent_rules import IntentRuleError, check_intent_rules
from airgrid.api.http.interuss.schemas import (
    ClearAreaOutcome,
    DeleteFlightPlanResponse,
    FlightPlanStatus,
    PlanningActivityResult,
    Time,
    UpsertFlightPlanRequest,
    UpsertFlightPlanResponse,
    UserNotification,
    Volume4D,
)
from airgrid.api.http.interuss.volumes import VolumeError, band, footprint, grid_volumes
from airgrid.api.http.routes.deps import Services

#: Prefix of the ids of intents that carry flight plans.
INTENT_PREFIX = "fp-"
#: Most remembered answers (by request id) and user notifications per process.
MAX_ANSWERS, MAX_NOTIFICATIONS = 10_000, 10_000
#: Attempts at an upsert that races another change of the same plan.
ATTEMPTS = 3

_STATUS = {
    IntentState.ACCEPTED: "Planned",
    IntentState.ACTIVATED: "OkToFly",
    IntentState.NONCONFORMING: "OffNominal",
    IntentState.CONTINGENT: "OffNominal",
    IntentState.ENDED: "Closed",
    IntentState.CANCELLED: "Closed",
}


def plan_prefix(plan_id: str) -> str:
    """The id prefix of a flight plan's intents."""
    return f"{INTENT_PREFIX}{plan_id.lower()}."


def plan_of(intent_id: str) -> str | None:
    """The flight plan an intent carries (None for other intents)."""
    if not intent_id.startswith(INTENT_PREFIX) or "." not in intent_id:
        return None
    return intent_id[len(INTENT_PREFIX) :].rsplit(".", 1)[0]


def current_intent(store: Store, plan_id: str) -> FlightIntent | None:
    """The flight plan's latest intent, or None if it never had one."""
    found = store.list_intents(id_prefix=plan_prefix(plan_id))
    return max(found, key=lambda fi: int(fi.id.rsplit(".", 1)[1]), default=None)


def plan_status(fi: FlightIntent | None) -> FlightPlanStatus:
    """The flight plan status of a plan whose current intent is ``fi``."""
    return "NotPlanned" if fi is None else _STATUS[fi.state]  # type: ignore[return-value]


class _Outcome(Exception):
    """An upsert that ends before the store is asked (a rule or an unusable volume)."""

    def __init__(self, result: PlanningActivityResult, notes: str) -> None:
        super().__init__(notes)
        self.result = result
        self.notes = notes


def _notes(decision: Decision) -> str:
    """Why the store refused a plan."""
    flights = sorted(
        {c.other_id for c in decision.conflicts} | {g.other_id for g in decision.grid_conflicts}
    )
    fences = sorted({g.geofence_id for g in decision.geofence_conflicts})
    return (
        f"the flight plan conflicts with {len(flights)} other flight(s) {flights} and "
        f"{len(fences)} geofence(s) {fences}"
    )


def _same(fi: FlightIntent, req: IntentRequest) -> bool:
    """Whether a stored intent already is what a request asks for."""
    return fi.priority == req.priority and fi.tier == req.tier and fi.volumes == req.volumes


class FlightPlanner:
    """The ``flight_planning`` interface's state: remembered answers and notifications.

    Both are kept per process (uss_qualifier reads them back from the worker it talks
    to; run one worker for a test). The flight plans themselves are intents in the store.

    Parameters
    ----------
    services
        The app's services.
    """

    def __init__(self, services: Services) -> None:
        self.services = services
        self._lock = threading.Lock()
        self._answers: OrderedDict[str, tuple[str, UpsertFlightPlanResponse]] = OrderedDict()
        self._notifications: deque[UserNotification] = deque(maxlen=MAX_NOTIFICATIONS)

    # -- answers and notifications ------------------------------------------------------------
    def answered(self, request_id: str, plan_id: str) -> UpsertFlightPlanResponse | None:
        """The answer already given to ``request_id`` for this plan, if any.

        Raises
        ------
        DuplicateIntentError
            The request id was used for another flight plan (409).
        """
        with self._lock:
            seen = self._answers.get(request_id)
        if seen is None:
            return None
        if seen[0] != plan_id:
            raise DuplicateIntentError(
                f"request_id {request_id!r} was already used for flight plan {seen[0]}"
            )
        return seen[1]

    def _remember(self, request_id: str, plan_id: str, answer: UpsertFlightPlanResponse) -> None:
        with self._lock:
            self._answers[request_id] = (plan_id, answer)
            while len(self._answers) > MAX_ANSWERS:
                self._answers.popitem(last=False)

    def notify(self, message: str, conflicts: str) -> None:
        """Record a notification the virtual user observes now."""
        note = UserNotification.model_validate(
            {
                "observed_at": Time(value=datetime.now(UTC)),
                "message": message,
                "conflicts": conflicts,
            }
        )
        with self._lock:
            self._notifications.append(note)

    def notifications(self, after: float, before: float) -> list[UserNotification]:
        """Notifications observed between ``after`` and ``before`` (POSIX seconds, closed)."""
        with self._lock:
            notes = list(self._notifications)
        return [n for n in notes if after <= n.observed_at.value.timestamp() <= before]

    # -- upsert -----------------------------------------------------------------------------------
    def upsert(
        self, plan_id: str, body: UpsertFlightPlanRequest, subject: str
    ) -> UpsertFlightPlanResponse:
        """Carry out a virtual user's planning action (see the module docstring).

        Raises
        ------
        DuplicateIntentError
            The request id was used for another plan (409).
        """
        plan_id = plan_id.lower()
        before = self.answered(body.request_id, plan_id)
        if before is not None:
            return before
        store = self.services.stores.get()
        for attempt in range(ATTEMPTS):
            try:
                answer = self._upsert(store, plan_id, body, subject)
                break
            except (DuplicateIntentError, StateTransitionError) as exc:
                # another request changed the plan in between: read it again
                if attempt == ATTEMPTS - 1:
                    answer = UpsertFlightPlanResponse(
                        planning_result="Failed",
                        notes=f"the flight plan kept changing under this request: {exc}",
                        flight_plan_status=plan_status(current_intent(store, plan_id)),
                    )
            except IntentError as exc:  # a tier named in additional_information, say
                answer = UpsertFlightPlanResponse(
                    planning_result="Rejected",
                    notes=str(exc),
                    flight_plan_status=plan_status(current_intent(store, plan_id)),
                )
                break
            except StoreError as exc:
                answer = UpsertFlightPlanResponse(
                    planning_result="Failed",
                    notes=f"the flight store failed: {exc}",
                    flight_plan_status=plan_status(current_intent(store, plan_id)),
                )
                break
        if body.execution_style != "Hypothetical":
            self._remember(body.request_id, plan_id, answer)
        return answer

    def _request(
        self, body: UpsertFlightPlanRequest, subject: str, intent_id: str, store: Store
    ) -> IntentRequest:
        """The intent a flight plan asks for, checked against the submission rules.

        Raises
        ------
        _Outcome
            Rejected (unusable area, a rule broken) or NotSupported (an altitude
            reference, a UAS state or a priority airgrid does not support here).
        """
        plan = body.flight_plan
        info = plan.basic_information
        if info.uas_state in ("OffNominal", "Contingent"):
            raise _Outcome(
                "NotSupported",
                f"uas_state {info.uas_state} is not supported: airgrid moves a flight off "
                "nominal from its telemetry",
            )
        if not info.area:
            raise _Outcome("Rejected", "the flight plan has no area")
        priority = 0 if plan.astm_f3548_21 is None else plan.astm_f3548_21.priority
        if not 0 <= priority <= 1000:
            raise _Outcome("NotSupported", f"priority {priority} is outside airgrid's 0-1000")
        settings = self.services.settings
        verts = sum(
            len(v.volume.outline_polygon.vertices) for v in info.area if v.volume.outline_polygon
        )
        if verts > 10 * settings.max_polygon_vertices:
            raise _Outcome(
                "Rejected",
                f"the area has {verts} vertices; the limit is {10 * settings.max_polygon_vertices}",
            )
        tier = store.policy.tiers[0].name
        extra = plan.additional_information or {}
        if isinstance(extra.get("airgrid_tier"), str):
            tier = extra["airgrid_tier"]
        try:
            vols = grid_volumes(info.area, self.services, time.time())
            req = IntentRequest(subject, priority, tier, vols, intent_id)
            check_intent_rules(
                req, Principal(subject, Role.PLANNER, "jwt"), settings, self.services.grid
            )
        except VolumeError as exc:
            raise _Outcome("Rejected" if exc.supported else "NotSupported", str(exc)) from None
        except IntentRuleError as exc:
            result: PlanningActivityResult = (
                "NotSupported" if exc.slug == "priority-not-granted" else "Rejected"
            )
            raise _Outcome(result, str(exc)) from None
        except IntentError as exc:
            raise _Outcome("Rejected", str(exc)) from None
        return req

    def _upsert(
        self, store: Store, plan_id: str, body: UpsertFlightPlanRequest, subject: str
    ) -> UpsertFlightPlanResponse:
        """One attempt at an upsert, reading the plan's current intent first."""
        cur = current_intent(store, plan_id)
        holding = cur if cur is not None and cur.state in HOLDING else None
        usage = body.flight_plan.basic_information.usage_state
        status = plan_status(holding)
        if usage == "Closed":
            if holding is not None and body.execution_style != "Hypothetical":
                close(store, holding)
            return UpsertFlightPlanResponse(
                planning_result="Completed", flight_plan_status="Closed"
            )
        version = 0 if cur is None else int(cur.id.rsplit(".", 1)[1])
        try:
            req = self._request(body, subject, f"{plan_prefix(plan_id)}{version + 1}", store)
        except _Outcome as out:
            return UpsertFlightPlanResponse(
                planning_result=out.result, notes=out.notes, flight_plan_status=status
            )
        fly = usage == "InUse"
        if holding is not None and holding.state in AIRBORNE and not fly:
            return UpsertFlightPlanResponse(
                planning_result="Rejected",
                notes="an airborne flight plan cannot go back to Planned; close it instead",
                flight_plan_status=status,
            )
        target: FlightPlanStatus = "OkToFly" if fly else "Planned"
        if body.execution_style == "Hypothetical":
            d = store.check(req, replacing=None if holding is None else holding.id)
            if d.accepted:
                return UpsertFlightPlanResponse(
                    planning_result="Completed", flight_plan_status=target
                )
            return UpsertFlightPlanResponse(
                planning_result="Rejected", notes=_notes(d), flight_plan_status=status
            )
        if holding is not None and _same(holding, req):
            if fly and holding.state is IntentState.ACCEPTED:
                store.activate(holding.id)
            return UpsertFlightPlanResponse(
                planning_result="Completed",
                flight_plan_status=plan_status(store.get(holding.id)),
                includes_advisories="NoAdvisoriesOrConditions",
            )
        if holding is None:
            d = store.submit(req, propose=False)
            if d.accepted and fly:
                store.activate(req.intent_id or "")
        else:
            d = store.replace_intent(holding.id, req, activate=fly, propose=False)
        if not d.accepted:
            return UpsertFlightPlanResponse(
                planning_result="Rejected", notes=_notes(d), flight_plan_status=status
            )
        for victim in d.preempted:
            other = plan_of(victim.id)
            if other is not None:
                self.notify(
                    f"flight plan {other} was pre-empted by higher-priority flight plan {plan_id} "
                    f"(priority {req.priority}) and is closed",
                    "Single",
                )
        return UpsertFlightPlanResponse(
            planning_result="Completed",
            flight_plan_status=target,
            includes_advisories="NoAdvisoriesOrConditions",
        )

    # -- closing ----------------------------------------------------------------------------------
    def clear_area(self, extent: Volume4D) -> ClearAreaOutcome:
        """Close every flight plan whose current intent meets ``extent`` (its footprint,
        and its band and time span where given).

        Raises
        ------
        VolumeError
            An unusable extent (422).
        """
        fp = footprint(extent.volume, "extent")
        lo, hi = -math.inf, math.inf
        if extent.volume.altitude_lower is not None and extent.volume.altitude_upper is not None:
            lo, hi = band(extent.volume, fp, self.services, "extent")
        t0 = -math.inf if extent.time_start is None else extent.time_start.value.timestamp()
        t1 = math.inf if extent.time_end is None else extent.time_end.value.timestamp()
        store = self.services.stores.get()
        closed = []
        for fi in store.holding():
            if plan_of(fi.id) is not None and any(
                v.floor_m <= hi
                and lo <= v.ceiling_m
                and v.t_start <= t1
                and t0 <= v.t_end
                and v.footprint.intersects(fp)
                for v in fi.volumes
            ):
                close(store, fi)
                closed.append(plan_of(fi.id))
        return ClearAreaOutcome(
            success=True,
            message=f"closed {len(closed)} flight plan(s)",
            details={"closed_flight_plans": closed},
        )

    def delete(self, plan_id: str) -> DeleteFlightPlanResponse | None:
        """Close a flight plan (the test director's DELETE); None when it never existed."""
        store = self.services.stores.get()
        cur = current_intent(store, plan_id)
        if cur is None:
            return None
        if cur.state in HOLDING:
            close(store, cur)
        return DeleteFlightPlanResponse(planning_result="Completed", flight_plan_status="Closed")


def close(store: Store, fi: FlightIntent) -> None:
    """End an airborne intent or cancel an accepted one (already closed: nothing)."""
    try:
        if fi.state in AIRBORNE:
            store.end(fi.id)
        else:
            store.cancel(fi.id, "flight plan closed")
    except StateTransitionError:
        if store.get(fi.id).state in HOLDING:  # moved between states: try once more
            close(store, store.get(fi.id))
