"""``/flight_planning/v1``: InterUSS's flight planning automated-testing interface (v0.6.0).

=======================================  ====================================  ==============
route                                    what                                  scope
=======================================  ====================================  ==============
``GET /status``                          Ready                                 direct test
``PUT /flight_plans/{flight_plan_id}``   plan, modify, activate, close         plan
``DELETE /flight_plans/{flight_plan_id}``  close (404 when never planned)       direct test
``POST /clear_area_requests``            close every flight plan in an extent  direct test
``GET /user_notifications``              notifications between two times      plan
=======================================  ====================================  ==============

"direct test" is ``interuss.flight_planning.direct_automated_test``, "plan"
``interuss.flight_planning.plan``. How a flight plan becomes intents:
:mod:`airgrid.api.http.interuss.planning`.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from pydantic import AwareDatetime

from airgrid.api.http.auth import TokenClaims
from airgrid.api.http.interuss.planning import FlightPlanner
from airgrid.api.http.interuss.schemas import (
    UUID4_PATTERN,
    ClearAreaRequest,
    ClearAreaResponse,
    DeleteFlightPlanResponse,
    QueryUserNotificationsResponse,
    StatusResponse,
    UpsertFlightPlanRequest,
    UpsertFlightPlanResponse,
)
from airgrid.api.http.interuss.security import DIRECT_FLIGHT_PLANNING, PLAN, require_scope
from airgrid.api.http.schemas.common import error_responses

#: The interface's name and version, as its ``/status`` must give them.
API_NAME, API_VERSION = "Flight Planning Automated Testing Interface", "v0.6.0"

router = APIRouter(
    prefix="/flight_planning/v1",
    tags=["interuss-flight-planning"],
    responses=error_responses(401, 403),
)

FlightPlanId = Annotated[
    str,
    PathParam(
        pattern=UUID4_PATTERN,
        min_length=36,
        max_length=36,
        examples=["03e5572a-f733-49af-bc14-8a18bd53ee39"],
    ),
]
Director = Annotated[TokenClaims, Depends(require_scope(DIRECT_FLIGHT_PLANNING))]
Planner = Annotated[TokenClaims, Depends(require_scope(PLAN))]


async def get_planner(request: Request) -> FlightPlanner:
    """The app's :class:`FlightPlanner`."""
    return request.app.state.flight_planner


PlannerDep = Annotated[FlightPlanner, Depends(get_planner)]


@router.get("/status", response_model=StatusResponse, summary="Status of this interface")
def status(_: Director) -> StatusResponse:
    """Ready as soon as the app serves (the grid and the store are loaded at start)."""
    return StatusResponse(status="Ready", api_name=API_NAME, api_version=API_VERSION)


@router.put(
    "/flight_plans/{flight_plan_id}",
    response_model=UpsertFlightPlanResponse,
    response_model_exclude_none=True,
    summary="Upsert flight plan",
    responses=error_responses(409, 422),
)
def upsert_flight_plan(
    flight_plan_id: FlightPlanId,
    body: UpsertFlightPlanRequest,
    planner: PlannerDep,
    claims: Planner,
) -> UpsertFlightPlanResponse:
    """A virtual user plans, modifies, activates or closes a flight plan.

    The answer's ``planning_result`` is Completed, Rejected (conflicts or rules; ``notes``
    says which), Failed (the store) or NotSupported; a repeated ``request_id`` gets the
    first answer again (409 when it was for another flight plan).
    """
    return planner.upsert(flight_plan_id, body, claims.subject)


@router.delete(
    "/flight_plans/{flight_plan_id}",
    response_model=DeleteFlightPlanResponse,
    response_model_exclude_none=True,
    summary="Close flight plan",
    responses=error_responses(404),
)
def delete_flight_plan(
    flight_plan_id: FlightPlanId, planner: PlannerDep, _: Director
) -> DeleteFlightPlanResponse:
    """The test director closes a flight plan (404 when it was never planned)."""
    answer = planner.delete(flight_plan_id)
    if answer is None:
        raise HTTPException(404, f"no flight plan {flight_plan_id}")
    return answer


@router.post(
    "/clear_area_requests",
    response_model=ClearAreaResponse,
    response_model_exclude_none=True,
    summary="Clear area",
    responses=error_responses(422),
)
def clear_area(body: ClearAreaRequest, planner: PlannerDep, _: Director) -> ClearAreaResponse:
    """Close every flight plan (made through this interface) whose airspace meets the extent."""
    return ClearAreaResponse(outcome=planner.clear_area(body.extent))


@router.get(
    "/user_notifications",
    response_model=QueryUserNotificationsResponse,
    response_model_exclude_none=True,
    summary="User notifications",
    responses=error_responses(400),
)
def user_notifications(
    planner: PlannerDep,
    _: Planner,
    after: Annotated[AwareDatetime, Query(examples=["2024-04-22T16:36:50.52Z"])],
    before: Annotated[AwareDatetime | None, Query(examples=["2024-04-22T16:41:50.52Z"])] = None,
) -> QueryUserNotificationsResponse:
    """Notifications the virtual user observed between ``after`` and ``before`` (default
    now): pre-emptions of its flight plans by higher-priority ones."""
    t1 = time.time() if before is None else before.timestamp()
    if t1 < after.timestamp():
        raise HTTPException(400, "'before' must not be earlier than 'after'")
    return QueryUserNotificationsResponse(
        user_notifications=planner.notifications(after.timestamp(), t1)
    )
