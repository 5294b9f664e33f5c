"""Live conformance monitoring: an airborne flight's telemetry, its intent's history, alerts.

Who may do what:

============  ==============================  ======================  =====================
role          POST /intents/{id}/telemetry    GET /intents/{id}/      GET /alerts
                                              history
============  ==============================  ======================  =====================
operator      own intents                     own intents             own intents'
planner       own intents                     own intents             own intents'
regulator     no (403)                        all                     all
admin         own intents                     all                     all
============  ==============================  ======================  =====================

Intents of other operators answer 404 to operators and planners, as unknown ids do.

Each position is tested against the intent's own volumes in space and time, closed
bounds, with the audit's conformance test (:func:`airgrid.audit.rules.fixes_inside`):
altitudes become intervals of metres AMSL (AGL within the ground's bounds at the position,
W84 through EGM96) and a position that is not certainly inside some volume counts as
outside. The store then steps the intent through activated, nonconforming and
contingent (:mod:`airgrid.airspace.traffic.conformance`) in one transaction with its
history. A contingent intent stays contingent until its operator ends it (or it is
cancelled); nonconforming and contingent intents keep holding their airspace.

The contingent timer also runs on the server's clock: an intent nonconforming for longer
than ``contingent_after_s`` becomes contingent without another position, swept before
the history and the alerts are read and every ``housekeeping_interval_s``
(:mod:`airgrid.api.http.housekeeping`).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Response

from airgrid.airspace.errors import IntentNotAirborneError
from airgrid.airspace.traffic.conformance import IntentEvent, JudgedFixes
from airgrid.airspace.traffic.models import AIRBORNE, FlightIntent
from airgrid.api.http.auth import Role
from airgrid.api.http.errors import ApiError, ConflictError, InputError, LimitError
from airgrid.api.http.housekeeping import sweep_contingent
from airgrid.api.http.jsonbody import json_response
from airgrid.api.http.routes.deps import V1, PrincipalDep, Services, ServicesDep
from airgrid.api.http.routes.intents import LiveIntentId, owned_intent
from airgrid.api.http.schemas.common import error_responses
from airgrid.api.http.schemas.conformance import (
    AlertList,
    IntentEventPublic,
    IntentHistory,
    PositionPublic,
    TelemetryAccepted,
    TelemetryCreate,
)
from airgrid.audit.rules import fixes_inside
from airgrid.audit.tracks import AltRef, ReadResult, normalise, raw_columns

router = APIRouter(responses=error_responses(401, 422))

_OVERSEERS = frozenset({Role.REGULATOR, Role.ADMIN})


class TelemetryTimeError(ApiError, ValueError):
    """A position's time is not one the flight can report now (422).

    Parameters
    ----------
    detail
        Which position, its time and the limit.
    slug
        The problem type's last part.
    """

    status = 422

    def __init__(self, detail: str, *, slug: str) -> None:
        super().__init__(detail)
        self.slug = slug


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def event_public(e: IntentEvent) -> IntentEventPublic:
    """The public form of a history entry."""
    position = None
    if e.fix is not None:
        t, lon, lat, alt, ref, lo, hi, certain = e.fix
        position = PositionPublic(
            time=_utc(t),
            lon=lon,
            lat=lat,
            alt_m=alt,
            altitude_reference=ref,
            amsl_min_m=lo,
            amsl_max_m=hi,
            certain=certain,
        )
    return IntentEventPublic(
        id=e.id,
        intent_id=e.intent_id,
        operator=e.operator,
        from_state=e.old.value,
        to_state=e.new.value,
        cause=e.cause,
        at=_utc(e.at),
        detail=e.detail,
        position=position,
    )


def _check_times(t: np.ndarray, intent: FlightIntent, services: Services) -> None:
    """Refuse positions ahead of the clock or long before the intent's start."""
    lim = services.settings
    now = time.time()
    k = int(np.argmax(t))
    if t[k] > now + lim.telemetry_ahead_s:
        raise TelemetryTimeError(
            f"positions[{k}] is {t[k] - now:.0f} s ahead of the server's clock (at most "
            f"{lim.telemetry_ahead_s:g} s); send positions as they are flown",
            slug="telemetry-in-future",
        )
    start = min(v.t_start for v in intent.volumes)
    k = int(np.argmin(t))
    if t[k] < start - lim.telemetry_early_s:
        raise TelemetryTimeError(
            f"positions[{k}] is {start - t[k]:.0f} s before the intent starts (at most "
            f"{lim.telemetry_early_s:g} s)",
            slug="telemetry-before-intent",
        )


def judge(body: TelemetryCreate, intent: FlightIntent, services: Services) -> JudgedFixes:
    """The batch in time order, each position tested against the intent's volumes.

    Raises
    ------
    TelemetryTimeError
        A time ahead of the clock or long before the intent's start.
    InputError
        A position whose altitude cannot be made AMSL (AGL outside the terrain model,
        W84 outside the geoid grid).
    """
    pos = body.positions
    n = len(pos)
    t = np.array([p.time.timestamp() for p in pos], np.float64)
    _check_times(t, intent, services)
    alt = np.array([p.alt_m for p in pos], np.float64)
    ref = AltRef[body.altitude_reference.value]
    part = ReadResult(
        "telemetry",
        raw_columns(
            n,
            flight_id=intent.id,
            operator=intent.operator,
            t=t,
            lat=np.array([p.lat for p in pos], np.float64),
            lon=np.array([p.lon for p in pos], np.float64),
            alt=alt.copy(),  # converted in place when W84
            ref=int(ref),
            row=np.arange(n),
        ),
    )
    tracks, _ = normalise([part], dem=services.dem, geoid=services.geoid)
    if part.n_rejected:
        bad = part.rejected[0]
        raise InputError(f"positions[{bad.row}]: {bad.message}")
    possibly, certainly = fixes_inside(tracks, [(0, v) for v in intent.volumes])
    order = tracks.row
    return JudgedFixes(
        t=tracks.t,
        lon=tracks.lon,
        lat=tracks.lat,
        alt_m=alt[order],
        alt_ref=ref.name,
        amsl_lo=tracks.amsl_lo,
        amsl_hi=tracks.amsl_hi,
        outside=~certainly,
        certain=~possibly,
        index=order,
    )


@router.post(
    f"{V1}/intents/{{intent_id}}/telemetry",
    response_model=TelemetryAccepted,
    tags=["intents"],
    summary="Report telemetry of an airborne flight",
    responses={
        **error_responses(403, 404, 413),
        409: {
            "model": error_responses(409)[409]["model"],
            "description": "The intent is not airborne (problem type "
            "urn:airgrid:problem:intent-not-airborne).",
        },
    },
)
def telemetry(
    services: ServicesDep, me: PrincipalDep, intent_id: LiveIntentId, body: TelemetryCreate
) -> Response:
    """Test a batch of positions against the intent's volumes and move it between
    activated, nonconforming (a position outside) and contingent (outside longer than
    ``contingent_after_s``); back inside, a nonconforming intent is activated again.

    Only the intent's owner may report, only while the intent is activated,
    nonconforming or contingent (409 otherwise). Positions no newer than the latest one
    judged before are counted as ``stale`` and not judged again, so a resent batch
    changes nothing.
    """
    lim = services.settings
    if len(body.positions) > lim.max_telemetry_points:
        raise LimitError(
            f"{len(body.positions)} positions, the limit is {lim.max_telemetry_points}; "
            "send them in several batches",
            status=413,
        )
    intent = owned_intent(services, me, intent_id, frozenset())
    if intent.state not in AIRBORNE:
        raise _not_airborne(f"intent {intent_id} is {intent.state.value}; activate it first")
    fixes = judge(body, intent, services)
    try:
        done = services.stores.get().record_telemetry(intent_id, fixes, lim.contingent_after_s)
    except IntentNotAirborneError as exc:
        raise _not_airborne(str(exc)) from None
    return json_response(
        TelemetryAccepted(
            intent_id=intent_id,
            state=done.state.value,
            received=len(body.positions),
            judged=done.judged,
            stale=done.stale,
            outside=done.outside,
            transitions=[event_public(e) for e in done.events],
        )
    )


def _not_airborne(detail: str) -> ConflictError:
    return ConflictError(detail, slug="intent-not-airborne")


@router.get(
    f"{V1}/intents/{{intent_id}}/history",
    response_model=IntentHistory,
    tags=["intents"],
    summary="An intent's history",
    responses=error_responses(403, 404),
)
def history(services: ServicesDep, me: PrincipalDep, intent_id: LiveIntentId) -> Response:
    """Every state change after acceptance, oldest first, with the position that caused
    each conformance change (owner, regulators and admins)."""
    owned_intent(services, me, intent_id, _OVERSEERS)
    store = services.stores.get()
    sweep_contingent(store, services.settings)
    events = store.history(intent_id)
    return json_response(
        IntentHistory(intent_id=intent_id, events=[event_public(e) for e in events])
    )


@router.get(
    f"{V1}/alerts",
    response_model=AlertList,
    tags=["alerts"],
    summary="Conformance alerts",
    responses=error_responses(403),
)
def alerts(
    services: ServicesDep,
    me: PrincipalDep,
    since: Annotated[
        datetime | None,
        Query(description="Only changes recorded at or after this time (RFC 3339)."),
    ] = None,
    state: Annotated[
        Literal["nonconforming", "contingent", "activated"] | None,
        Query(description="Only changes into this state ('activated': back inside)."),
    ] = None,
    operator: Annotated[
        str | None, Query(description="Regulators and admins: one operator's intents.")
    ] = None,
    after: Annotated[
        int, Query(ge=0, le=2**63 - 1, description="Paging cursor: next_after of a page.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1_000)] = 100,
) -> Response:
    """Conformance changes of intents, oldest first: operators and planners see their own
    intents', regulators and admins everyone's."""
    if me.role not in _OVERSEERS:
        if operator is not None and operator != me.name:
            raise HTTPException(403, "operators and planners may read only their own alerts")
        operator = me.name
    if since is not None and since.tzinfo is None:
        raise InputError("since needs a time zone (add Z or an offset)")
    store = services.stores.get()
    sweep_contingent(store, services.settings)
    found = store.alerts(
        operator=operator,
        since=None if since is None else since.timestamp(),
        state=state,
        after=after,
        limit=limit,
    )
    return json_response(
        AlertList(
            alerts=[event_public(e) for e in found],
            next_after=found[-1].id if len(found) == limit else None,
        )
    )
