"""When, where and how high a priority an intent may be submitted.

The store decides conflicts; these rules decide whether a request may be put to it at
all. Each rule has its own problem type (``urn:airgrid:problem:<slug>``), and its
limits come from :class:`~airgrid.settings.Settings`:

========================  ======  ==============================================
slug                      status  rule
========================  ======  ==============================================
``priority-not-granted``  403     the priority is one the caller may use
``intent-ended``          422     the intent has not ended when it is submitted
``intent-too-far-ahead``  422     it starts within ``intent_horizon_s``
``intent-too-long``       422     it lasts at most ``intent_max_duration_s``
``intent-outside-area``   422     every volume lies inside the grid's area
========================  ======  ==============================================

A priority up to ``operator_max_priority`` is open to every submitter; an operator
named in ``priority_grants`` may go up to its grant; admins may use any priority.
"""

from __future__ import annotations

import time

from airgrid.airspace.grid.served import covered_by_area
from airgrid.airspace.grid.voxels import Grid
from airgrid.airspace.traffic.models import IntentRequest
from airgrid.api.http.auth import Principal, Role
from airgrid.api.http.errors import ApiError
from airgrid.settings import Settings


class IntentRuleError(ApiError, ValueError):
    """An intent breaks a submission rule (see the module table).

    Parameters
    ----------
    detail
        Which rule, the limit, and what to change.
    slug
        The problem type's last part.
    status
        HTTP status.
    """

    def __init__(self, detail: str, *, slug: str, status: int = 422) -> None:
        super().__init__(detail)
        self.slug = slug
        self.status = status


def max_priority(me: Principal, settings: Settings) -> int:
    """The highest priority ``me`` may submit."""
    if me.role is Role.ADMIN:
        return 1000
    return max(settings.operator_max_priority, settings.priority_grants.get(me.name, 0))


def check_intent_rules(
    request: IntentRequest, me: Principal, settings: Settings, grid: Grid, now: float | None = None
) -> None:
    """Refuse ``request`` if it breaks a rule of the module table.

    Parameters
    ----------
    request
        The validated request.
    me
        The submitter.
    settings
        The limits.
    grid
        The served grid (its ``area_wkt`` is the area).
    now
        Submission time, POSIX seconds (default: the clock).

    Raises
    ------
    IntentRuleError
        The first rule broken, in the order of the module table.
    """
    top = max_priority(me, settings)
    if request.priority > top:
        raise IntentRuleError(
            f"priority {request.priority} is above the {top} granted to {me.name!r}; an "
            "admin may grant more (priority_grants)",
            slug="priority-not-granted",
            status=403,
        )
    now = time.time() if now is None else now
    t0, t1 = request.window
    if t1 <= now:
        raise IntentRuleError(
            "the intent ended before it was submitted; give times in the future",
            slug="intent-ended",
        )
    if t0 > now + settings.intent_horizon_s:
        raise IntentRuleError(
            f"the intent starts more than {settings.intent_horizon_s / 86_400:g} days "
            "ahead; submit it closer to the flight",
            slug="intent-too-far-ahead",
        )
    if t1 - t0 > settings.intent_max_duration_s:
        raise IntentRuleError(
            f"the intent lasts {(t1 - t0) / 3_600:.3g} h, the limit is "
            f"{settings.intent_max_duration_s / 3_600:g} h; split it",
            slug="intent-too-long",
        )
    outside = [
        i
        for i, inside in enumerate(covered_by_area(grid, [v.footprint for v in request.volumes]))
        if not inside
    ]
    if outside:
        raise IntentRuleError(
            f"{len(outside)} volume(s) (first: {outside[0]}) are not inside the grid's area "
            f"{grid.meta.get('area', '')}",
            slug="intent-outside-area",
        )
