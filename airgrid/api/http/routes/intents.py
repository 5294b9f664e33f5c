"""Flight intents: submit (201 accepted / 409 with every conflict and fixes), read, life cycle.

Who may do what:

============  ======================  ==========================  ======================
role          submit                  read / list                 activate, end / cancel
============  ======================  ==========================  ======================
operator      yes (see below)         own only                    own / own
planner       yes (see below)         own only                    own / own
regulator     no                      all                         no / any
admin         yes (any priority)      all                         any / any
============  ======================  ==========================  ======================

Submissions follow :mod:`airgrid.api.http.intent_rules`: times, area and the priorities a
caller may use (up to ``operator_max_priority`` unless granted more; admins any).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Body, Header, HTTPException, Query, Response, status
from fastapi import Path as PathParam

from airgrid.airspace.errors import DuplicateIntentError, IntentNotFoundError, StateTransitionError
from airgrid.airspace.grid.altitude import band_to_amsl
from airgrid.airspace.store.answers import Decision
from airgrid.airspace.store.submissions import SubmissionKey
from airgrid.airspace.traffic.models import FixProposal, FlightIntent, IntentRequest
from airgrid.api.http.auth import Principal, Role
from airgrid.api.http.errors import (
    PROBLEM_MEDIA_TYPE,
    ConflictError,
    InputError,
    LimitError,
    problem,
)
from airgrid.api.http.idempotency import MAX_KEY_LENGTH, key_intent_id, request_hash, same_intent
from airgrid.api.http.intent_rules import check_intent_rules
from airgrid.api.http.jsonbody import ThreadBodyRoute, json_response
from airgrid.api.http.routes.deps import V1, FlyerDep, PrincipalDep, Services, ServicesDep
from airgrid.api.http.schemas.common import PolygonGeometry, VolumeModel, error_responses, links
from airgrid.api.http.schemas.intents import (
    CancelCreate,
    ConflictPublic,
    FixPublic,
    GeofenceConflictPublic,
    GridConflictPublic,
    HighVolumePublic,
    IntentAccepted,
    IntentConflictProblem,
    IntentCreate,
    IntentList,
    IntentPublic,
    IntentStateName,
    LowVolumePublic,
)
from airgrid.geo.volumes import Volume4D
from airgrid.terrain.geoid import GEOID_GRID_ERROR_M

#: Path parameter naming an intent; the examples are the ids of the IntentCreate examples.
IntentId = Annotated[str, PathParam(examples=["sfx-example-0001"])]
CancelIntentId = Annotated[str, PathParam(examples=["sfx-example-0002"])]
#: An intent flown now (the live example): activated, sent telemetry, ended.
LiveIntentId = Annotated[str, PathParam(examples=["sfx-example-0003"])]

router = APIRouter(
    route_class=ThreadBodyRoute,
    prefix=f"{V1}/intents",
    tags=["intents"],
    responses=error_responses(401, 422),
)

_OVERSEERS = frozenset({Role.REGULATOR, Role.ADMIN})
_STATE_ERRORS = {**error_responses(403, 404, 409)}
#: What a client may do next with a submitted intent, and with an activated one.
_INTENT_LINKS = links(
    "intent_id",
    "$response.body#/id",
    GetIntent="get_intent_v1_intents__intent_id__get",
    ActivateIntent="activate_v1_intents__intent_id__activate_post",
    CancelIntent="cancel_v1_intents__intent_id__cancel_post",
    GetIntentHistory="history_v1_intents__intent_id__history_get",
)
_ACTIVE_LINKS = links(
    "intent_id",
    "$response.body#/id",
    EndIntent="end_v1_intents__intent_id__end_post",
    CancelIntent="cancel_v1_intents__intent_id__cancel_post",
    SendTelemetry="telemetry_v1_intents__intent_id__telemetry_post",
)


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def intent_public(fi: FlightIntent) -> IntentPublic:
    """The public form of a stored intent."""
    return IntentPublic(
        id=fi.id,
        operator=fi.operator,
        priority=fi.priority,
        tier=fi.tier,
        state=fi.state.value,
        preempted_by=fi.preempted_by,
        reason=fi.reason,
        start=_utc(min(v.t_start for v in fi.volumes)),
        end=_utc(max(v.t_end for v in fi.volumes)),
        created_at=_utc(fi.created_at),
        updated_at=_utc(fi.updated_at),
        volumes=[
            VolumeModel.model_construct(  # stored volumes: valid, so not validated again
                footprint=fp,
                floor_m=v.floor_m,
                ceiling_m=v.ceiling_m,
                start=_utc(v.t_start),
                end=_utc(v.t_end),
            )
            for v, fp in zip(
                fi.volumes, PolygonGeometry.many_from_shapely([v.footprint for v in fi.volumes])
            )
        ],
    )


def _request(body: IntentCreate, me: Principal, services: Services) -> IntentRequest:
    """The store's request for a body, every altitude made AMSL (see :class:`VolumeCreate`)."""
    lim = services.settings
    if (body.route is None) == (not body.volumes):
        raise InputError("give exactly one of 'volumes' and 'route'")
    verts = sum(v.footprint.n_vertices for v in body.volumes)
    if verts > 10 * lim.max_polygon_vertices:
        raise LimitError(
            f"the volumes have {verts} vertices in all, the limit is {10 * lim.max_polygon_vertices}"
        )
    if body.route is not None and len(body.route.waypoints) > lim.max_track_points:
        raise LimitError(
            f"{len(body.route.waypoints)} waypoints, the limit is {lim.max_track_points}"
        )
    if body.route is not None:
        r = body.route
        lat = np.array([p.lat for p in r.waypoints])
        lon = np.array([p.lon for p in r.waypoints])
        alt = np.array([p.alt_m for p in r.waypoints])
        half_height = r.half_height_m
        if r.alt_ref == "W84":
            alt = alt - np.asarray(services.geoid.undulation(lat, lon), np.float64)
            half_height += GEOID_GRID_ERROR_M
        return IntentRequest.from_route(
            me.name,
            body.priority,
            body.tier,
            [
                (float(a), float(b), float(c), p.time.timestamp())
                for a, b, c, p in zip(lat, lon, alt, r.waypoints)
            ],
            half_width_m=r.half_width_m,
            half_height_m=half_height,
            max_piece_m=r.max_piece_m,
            time_margin_s=r.time_margin_s,
            intent_id=body.intent_id,
        )
    vols = tuple(
        Volume4D(
            fp,
            *band_to_amsl(
                v.floor_m,
                v.ceiling_m,
                v.altitude_reference,
                fp,
                grid=services.grid,
                geoid=services.geoid,
            ),
            v.start.timestamp(),
            v.end.timestamp(),
        )
        for v in body.volumes
        for fp in (v.footprint.to_shapely(),)
    )
    return IntentRequest(me.name, body.priority, body.tier, vols, body.intent_id)


def _fix_public(p: FixProposal) -> FixPublic:
    """A fix as the API shows it."""
    return FixPublic(kind=p.kind, shift_s=p.shift_s, offset_m=p.offset_m, description=p.description)


def _refusal(decision: Decision) -> ConflictError:
    n_int = len(
        {c.other_id for c in decision.conflicts} | {g.other_id for g in decision.grid_conflicts}
    )
    n_geo = len({g.geofence_id for g in decision.geofence_conflicts})
    fixes = [_fix_public(p) for p in decision.proposals]
    hint = (
        "apply a proposed fix and resubmit"
        if fixes
        else "no free departure delay or altitude was found"
    )
    return ConflictError(
        f"the intent conflicts with {n_int} intent(s) and {n_geo} geofence(s); {hint}",
        slug="intent-conflict",
        conflicts=[
            ConflictPublic(
                other_id=c.other_id,
                other_operator=c.other_operator,
                other_priority=c.other_priority,
                other_state=c.other_state.value,
                volume=c.volume,
                other_volume=c.other_volume,
                lon=c.lon,
                lat=c.lat,
                floor_m=c.floor_m,
                ceiling_m=c.ceiling_m,
                start=_utc(c.t_start),
                end=_utc(c.t_end),
                distance_m=c.distance_m,
                minima={
                    "lateral_m": c.minima.lateral_m,
                    "vertical_m": c.minima.vertical_m,
                    "seconds": c.minima.seconds,
                },
                preemptable=c.preemptable,
            )
            for c in decision.conflicts
        ],
        grid_conflicts=[
            GridConflictPublic(
                other_id=g.other_id,
                cell=g.cell,
                layer=g.layer,
                slot=g.slot,
                preemptable=g.preemptable,
            )
            for g in decision.grid_conflicts
        ],
        geofence_conflicts=[
            GeofenceConflictPublic(
                geofence_id=g.geofence_id,
                name=g.name,
                volume=g.volume,
                lon=g.lon,
                lat=g.lat,
                floor_m=g.floor_m,
                ceiling_m=g.ceiling_m,
                intervals=[(_utc(a), _utc(b)) for a, b in g.intervals],
            )
            for g in decision.geofence_conflicts
        ],
        fixes=fixes,
        low_volumes=_low(decision),
        high_volumes=_high(decision),
    )


def _low(decision: Decision) -> list[LowVolumePublic]:
    return [
        LowVolumePublic(volume=v.volume, floor_m=v.floor_m, min_floor_m=v.min_floor_m)
        for v in decision.low_volumes
    ]


def _high(decision: Decision) -> list[HighVolumePublic]:
    return [
        HighVolumePublic(volume=v.volume, ceiling_m=v.ceiling_m, max_ceiling_m=v.max_ceiling_m)
        for v in decision.high_volumes
    ]


@router.post(
    "",
    response_model=IntentAccepted,
    status_code=status.HTTP_201_CREATED,
    summary="Submit an intent",
    responses={
        201: {"links": _INTENT_LINKS},
        403: error_responses(403)[403],
        409: {
            "model": IntentConflictProblem,
            "description": "Refused: every conflict with intents and geofences, and proposed fixes.",
        },
        413: error_responses(413)[413],
    },
)
def submit(
    services: ServicesDep,
    me: FlyerDep,
    body: IntentCreate,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=MAX_KEY_LENGTH,
            description="Makes a retry return the original answer (also implied by intent_id).",
        ),
    ] = None,
) -> Response:
    """Accept the intent if it conflicts with nothing that holds airspace (201), else 409.

    Acceptance is one transaction serialised against every writer on the same
    voxel x time-slot keys, so two accepted intents never conflict, also under
    concurrent submissions. With an ``Idempotency-Key`` or an ``intent_id`` a retry of
    the same request gets the original answer again (see :mod:`airgrid.api.http.idempotency`).
    """
    key = idempotency_key or body.intent_id
    if key is None:
        return _decide(services, me, body)
    if body.intent_id is None:
        body = body.model_copy(update={"intent_id": key_intent_id(me.name, key)})
    tag = SubmissionKey(me.name, key, request_hash(body.model_dump_json()))
    store = services.stores.get()
    seen = store.submission(me.name, key)
    if seen is not None:
        if seen.request_hash != tag.request_hash:
            raise _duplicate(
                f"the key {key!r} was used for another request; use a new key or intent_id",
                "idempotency-key-reused",
            )
        if seen.status is None or seen.body is None:  # accepted, answer lost
            assert seen.intent_id is not None, "a record without an answer names its intent"
            return _accepted(store.accepted_decision(seen.intent_id))
        return Response(seen.body, status_code=seen.status, media_type=_MEDIA[seen.status])
    try:
        answer = _decide(services, me, body, tag)
    except ConflictError as exc:
        if exc.slug != "intent-conflict":
            raise
        answer = problem(409, str(exc), instance="/v1/intents", slug=exc.slug, **exc.extra)
    accepted = body.intent_id if answer.status_code == 201 else None
    store.record_submission(tag, answer.status_code, bytes(answer.body), accepted)
    return answer


_MEDIA = {201: "application/json", 409: PROBLEM_MEDIA_TYPE}


def _decide(
    services: ServicesDep, me: Principal, body: IntentCreate, tag: SubmissionKey | None = None
) -> Response:
    """Submit ``body`` (under the idempotency key ``tag``) to the store and answer 201, or
    raise the 409 refusal."""
    request = _request(body, me, services)
    check_intent_rules(request, me, services.settings, services.grid)
    store = services.stores.get()
    try:
        decision = store.submit(
            request,
            preempt=body.preempt,
            submission=tag,
            max_shift_s=body.max_shift_s,
            take_fix=body.take_fix,
        )
    except DuplicateIntentError:
        if request.intent_id is None:  # only a client's own id can repeat
            raise
        stored = store.get(request.intent_id)
        if stored.operator != me.name and me.role not in _OVERSEERS:
            raise IntentNotFoundError(f"no intent {request.intent_id!r}") from None
        if stored.operator == me.name and same_intent(stored, request):
            return _accepted(store.accepted_decision(stored.id))
        raise _duplicate(
            f"intent {request.intent_id!r} already exists; choose another intent_id",
            "duplicate-intent-id",
        ) from None
    if not decision.accepted:
        raise _refusal(decision)
    return _accepted(decision)


def _accepted(decision: Decision) -> Response:
    """The 201 of an accepted decision (also one rebuilt from the store, for a retry whose
    first answer was lost: :meth:`~airgrid.airspace.store.service.Store.accepted_decision`)."""
    assert decision.intent is not None, "an accepted decision carries the stored intent"
    pub = intent_public(decision.intent)
    return json_response(
        IntentAccepted(
            **dict(pub),
            preempted=[p.id for p in decision.preempted],
            low_volumes=_low(decision),
            high_volumes=_high(decision),
            fix=None if decision.fix is None else _fix_public(decision.fix),
        ),
        201,
    )


def _duplicate(detail: str, slug: str) -> ConflictError:
    """A 409 in the documented intent-refusal shape, with nothing in conflict."""
    return ConflictError(
        detail,
        slug=slug,
        conflicts=[],
        grid_conflicts=[],
        geofence_conflicts=[],
        fixes=[],
        low_volumes=[],
        high_volumes=[],
    )


def owned_intent(
    services: Services, me: Principal, intent_id: str, allowed: frozenset[Role]
) -> FlightIntent:
    """The intent, if ``me`` owns it or has one of ``allowed`` roles.

    404 when it does not exist or ``me`` may not see it (the answers are the same), 403
    when ``me`` may see it but not act on it.
    """
    fi = services.stores.get().get(intent_id)
    if fi.operator != me.name and me.role not in _OVERSEERS:  # not even told that it exists
        raise IntentNotFoundError(f"no intent {intent_id!r}")
    if fi.operator != me.name and me.role not in allowed:
        raise HTTPException(403, f"intent {intent_id} belongs to another operator")
    return fi


@router.get("", response_model=IntentList, summary="List intents", responses=error_responses(403))
def list_intents(
    services: ServicesDep,
    me: PrincipalDep,
    state: Annotated[IntentStateName | None, Query()] = None,
    operator: Annotated[
        str | None, Query(description="Regulators and admins: one operator's intents.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1_000,
) -> Response:
    """Operators and planners see their own intents; regulators and admins every intent."""
    if me.role not in _OVERSEERS:
        if operator is not None and operator != me.name:
            raise HTTPException(403, "operators and planners may list only their own intents")
        operator = me.name
    found = services.stores.get().list_intents(state=state, operator=operator, limit=limit)
    return json_response(IntentList(intents=[intent_public(fi) for fi in found]))


@router.get(
    "/{intent_id}",
    response_model=IntentPublic,
    summary="One intent",
    responses=error_responses(403, 404),
)
def get_intent(services: ServicesDep, me: PrincipalDep, intent_id: IntentId) -> Response:
    """The intent (its owner, regulators and admins)."""
    return json_response(intent_public(owned_intent(services, me, intent_id, _OVERSEERS)))


def _transition(
    services: ServicesDep,
    me: Principal,
    intent_id: str,
    allowed: frozenset[Role],
    action: str,
    reason: str = "",
) -> IntentPublic:
    owned_intent(services, me, intent_id, allowed)
    store = services.stores.get()
    try:
        fi = (
            store.cancel(intent_id, reason)
            if action == "cancel"
            else getattr(store, action)(intent_id)
        )
    except StateTransitionError as exc:
        raise ConflictError(str(exc)) from None
    return intent_public(fi)


@router.post(
    "/{intent_id}/activate",
    response_model=IntentPublic,
    summary="Activate (the flight started)",
    responses={200: {"links": _ACTIVE_LINKS}, **_STATE_ERRORS},
)
def activate(services: ServicesDep, me: PrincipalDep, intent_id: LiveIntentId) -> IntentPublic:
    """accepted -> activated (owner or admin); 409 from any other state."""
    return _transition(services, me, intent_id, frozenset({Role.ADMIN}), "activate")


@router.post(
    "/{intent_id}/end",
    response_model=IntentPublic,
    summary="End (the flight landed)",
    responses=_STATE_ERRORS,
)
def end(services: ServicesDep, me: PrincipalDep, intent_id: LiveIntentId) -> IntentPublic:
    """activated, nonconforming or contingent -> ended, releasing the airspace (owner or
    admin); 409 from any other state."""
    return _transition(services, me, intent_id, frozenset({Role.ADMIN}), "end")


@router.post(
    "/{intent_id}/cancel", response_model=IntentPublic, summary="Cancel", responses=_STATE_ERRORS
)
def cancel(
    services: ServicesDep,
    me: PrincipalDep,
    intent_id: CancelIntentId,
    body: Annotated[CancelCreate | None, Body(examples=[{"reason": "weather"}])] = None,
) -> IntentPublic:
    """accepted, activated, nonconforming or contingent -> cancelled, releasing the airspace
    (owner, regulator or admin)."""
    return _transition(services, me, intent_id, _OVERSEERS, "cancel", body.reason if body else "")
