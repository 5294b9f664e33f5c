"""Property: after any sequence of submissions, no two intents holding airspace conflict.

Checked by brute force over all pairs with :func:`intents_conflict`, independent of the
key index; and every refusal names a conflict that the brute force confirms. Submissions
may let the store take fixes itself (``take_fix``): one accepted so holds the request moved
by exactly that fix.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airgrid.airspace.store.service import open_store
from airgrid.airspace.traffic.models import IntentRequest, IntentState
from airgrid.airspace.traffic.route_volumes import route_to_volumes
from tests.airspace.conftest import LAT0, LON0, T0, circle, intents_conflict, offset

_m = st.floats(-1_500, 1_500)


@st.composite
def _request(draw: st.DrawFn) -> IntentRequest:
    tier = draw(st.sampled_from(["T1", "T2", "T3"]))
    prio = draw(st.sampled_from([10, 20, 40]))
    t = draw(st.floats(0, 900))
    z = draw(st.floats(100, 400))
    if draw(st.booleans()):
        return circle(
            "op",
            east=draw(_m),
            north=draw(_m),
            r=draw(st.floats(3, 300)),
            floor=z,
            ceiling=z + draw(st.floats(5, 60)),
            t=t,
            dur=draw(st.floats(10, 400)),
            priority=prio,
            tier=tier,
        )
    a = offset(LAT0, LON0, draw(_m), draw(_m))
    b = offset(LAT0, LON0, draw(_m), draw(_m))
    vols = route_to_volumes(
        [(*a, z, T0 + t), (*b, z + draw(st.floats(-50, 50)), T0 + t + draw(st.floats(30, 300)))],
        half_width_m=draw(st.floats(5, 40)),
        half_height_m=10.0,
        max_piece_m=800.0,
    )
    return IntentRequest("op", prio, tier, tuple(vols))


def _run(
    location: str, reqs: list[IntentRequest], actions: list[int], takes: list[tuple[str, ...]]
) -> None:
    with open_store(location) as store:
        table = store.policy.separation
        for req, act, take in zip(reqs, actions, takes):
            d = store.submit(req, propose=False, take_fix=take)
            if d.fix is not None:
                assert d.accepted and d.fix.kind in take
                stored = store.get(d.intent.id).volumes
                for v, w in zip(stored, d.fix.apply(req).volumes, strict=True):
                    assert (v.floor_m, v.ceiling_m, v.t_start, v.t_end) == (
                        w.floor_m,
                        w.ceiling_m,
                        w.t_start,
                        w.t_end,
                    )
            if not d.accepted:
                held = {i.id: i for i in store.holding()}
                assert d.conflicts or d.grid_conflicts or d.geofence_conflicts
                for c in d.conflicts:  # every reported conflict is real
                    other = held[c.other_id]
                    assert intents_conflict(req.volumes, req.tier, other.volumes, other.tier, table)
            else:
                for p in d.preempted:
                    assert (
                        store.get(p.id).state is IntentState.CANCELLED
                        and p.preempted_by == d.intent.id
                    )
                if act == 1:
                    store.activate(d.intent.id)
                elif act == 2:
                    store.cancel(d.intent.id)
        held = store.holding()
        for i, a in enumerate(held):
            for b in held[i + 1 :]:
                assert not intents_conflict(a.volumes, a.tier, b.volumes, b.tier, table), (
                    a.id,
                    b.id,
                )


_TAKES = [
    (),
    (),
    ("altitude_offset", "departure_shift"),
    ("departure_shift",),
    ("altitude_offset",),
]
_seq = st.lists(
    st.tuples(_request(), st.sampled_from([0, 0, 1, 2]), st.sampled_from(_TAKES)),
    min_size=2,
    max_size=12,
)


@pytest.mark.parametrize(
    "backend, examples", [("sqlite", 30), pytest.param("postgres", 8, marks=pytest.mark.postgres)]
)
def test_no_two_holding_intents_conflict(
    backend: str, examples: int, new_location: Callable[[str], str]
) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(_seq)
    def check(seq: list[tuple[IntentRequest, int, tuple[str, ...]]]) -> None:
        _run(new_location(backend), *map(list, zip(*seq)))

    check()
