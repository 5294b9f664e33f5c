"""Property: the store's fix proposals equal those searched over every holding intent.

The store searches its fixes among the holders its in-process index returns for a box
grown by the largest delay and the altitude offsets it may propose (at most
``max_offset_m``, and only those that keep the tier's band over the ground when it has a
DEM; :meth:`~airgrid.airspace.store.fixes._FixesPart._fix_holders`). Here the same
searches run over every holding intent the store reads back (:meth:`Store.holding`), each
candidate re-checked by :meth:`Store.check` as the store does, and both must name the same
delay and the same offset. The traffic spreads over 1,500 m of height and three hours on
both sides of the request, so most of it lies beyond what any proposal can reach.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from airgrid.airspace.errors import IntentError
from airgrid.airspace.geofences.ground import bins_ground
from airgrid.airspace.store.service import Store, open_store
from airgrid.airspace.traffic.fixes import free_altitude_offset, free_departure_shift
from airgrid.airspace.traffic.holders import Holder, volume_limits
from airgrid.airspace.traffic.models import IntentRequest
from tests.airspace.conftest import circle

_blocker = st.builds(
    lambda e, n, r, z, h, t, d: circle(
        "other", east=e, north=n, r=r, floor=z, ceiling=z + h, t=t, dur=d
    ),
    st.floats(-400, 400),
    st.floats(-400, 400),
    st.floats(5, 80),
    st.floats(0, 1_500),
    st.floats(10, 60),
    st.floats(-10_800, 10_800),
    st.floats(60, 900),
)


def _first_free(
    store: Store,
    candidate: Callable[[list[float]], float | None],
    apply: Callable[[float], IntentRequest],
) -> float | None:
    """The first candidate that :meth:`Store.check` accepts, within the store's 20 tries."""
    tried: list[float] = []
    for _ in range(20):
        x = candidate(tried)
        if x is None or store.check(apply(x), preempt=False).accepted:
            return x
        tried.append(x)
    return None


def _offset_limits(store: Store, req: IntentRequest) -> tuple[float, float]:
    """The offsets (m) that keep every volume in its tier's band over the ground (the
    store's ``_band_limits``); unbounded without a DEM."""
    bounds = store._band_limits(req)
    if bounds is None:
        return -math.inf, math.inf
    lim = volume_limits(req.volumes)[1]
    return float(np.max(bounds[0] - lim[:, 4])), float(np.min(bounds[1] - lim[:, 5]))


def _reference(store: Store, req: IntentRequest, max_shift_s: float = math.inf) -> dict[str, float]:
    """The fixes searched over every holding intent (shifts up to ``max_shift_s`` and the
    store's limit): kind -> shift (s) or offset (m)."""
    holders = [
        Holder(i.id, i.operator, i.priority, i.tier, i.state, tuple(i.volumes))
        for i in store.holding()
    ]
    table = store.policy.separation
    ps = store.proposal_settings
    tier = store.policy.tiers[store.policy.tiers.index(req.tier)]
    low, top = _offset_limits(store, req)
    out = {}
    shift = _first_free(
        store,
        lambda tried: free_departure_shift(
            req,
            holders,
            table,
            step_s=ps.shift_step_s,
            max_shift_s=min(ps.max_shift_s, max_shift_s),
            exclude=tried,
        ),
        req.shifted,
    )
    if shift is not None:
        out["departure_shift"] = shift
    dz = _first_free(
        store,
        lambda tried: free_altitude_offset(
            req,
            holders,
            table,
            step_m=tier.thickness_m,
            max_offset_m=ps.max_offset_m,
            min_offset_m=low,
            top_offset_m=top,
            exclude=tried,
        ),
        req.raised,
    )
    if dz is not None:
        out["altitude_offset"] = dz
    return out


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.integers(0, 5),
    st.integers(0, 5),
    st.lists(_blocker, max_size=40),
    st.none() | st.floats(0, 9_000),
)
@example(below=3, above=3, blockers=[], cap=None)  # free offsets +-280 m: 20 tries from its band
def test_proposals_equal_a_search_over_every_holder(
    tmp_path_factory,
    below: int,
    above: int,
    blockers: list[IntentRequest],
    cap: float | None,
) -> None:
    """A stack of thin intents over the request, 70 m apart (too close for its 30 m band and
    T2's 30 m vertical minimum on both sides), pushes the nearest free offset up to 400 m
    away; random traffic fills the rest. The caller may cap the departure shift it would
    take (``max_shift_s``): the store searches no further."""
    with open_store(tmp_path_factory.mktemp("fixes")) as store:
        for k in range(-below, above + 1):
            z = 610.0 + 70.0 * k
            layer = circle("stack", floor=z, ceiling=z + 10.0, t=-60.0, dur=400.0)
            assert store.submit(layer, propose=False).accepted
        for b in blockers:
            store.submit(b, propose=False, record_refusal=False)
        req = circle("me", floor=600.0, ceiling=630.0, dur=300.0).with_id()
        d = store.submit(req, preempt=False, max_shift_s=cap)
        assert not d.accepted
        got = {
            p.kind: p.shift_s if p.kind == "departure_shift" else p.offset_m for p in d.proposals
        }
        assert got == _reference(store, req, math.inf if cap is None else cap)
        if cap is not None and "departure_shift" in got:
            assert got["departure_shift"] <= cap


@pytest.mark.parametrize("cap", [-1.0, math.nan])
def test_a_negative_or_missing_shift_cap_is_refused(tmp_path, cap: float) -> None:
    with open_store(tmp_path) as store, pytest.raises(IntentError, match="max_shift_s"):
        store.submit(circle("me"), max_shift_s=cap)


@pytest.mark.parametrize(
    "east, north, above, layers",
    [(5_000.0, 0.0, 0.0, 2), (5_000.0, 0.0, 60.0, 2), (-5_000.0, 122_000.0, 20.0, 0)],
)
def test_proposals_keep_to_the_band_over_real_ground(
    tmp_path, real_dem, east: float, north: float, above: float, layers: int
) -> None:
    """With the shipped DEM the offsets are bounded by T2's band over the ground: about 50 m
    deep east of the Xiang in Changsha, about 110 m by Dongting Lake (the places of
    ``test_store.test_altitude_fixes_keep_the_tier_band``). The request sits ``above`` m over
    the band's lowest floor there, in a stack of thin intents 70 m apart, ``layers`` on each
    side of its own."""
    probe = circle("p", east=east, north=north)
    _, top = bins_ground(real_dem, *volume_limits(probe.volumes)[1][:, :4].T)
    floor = float(np.ceil(top.max())) + 120.0 + above
    with open_store(tmp_path, dem=real_dem) as store:
        for k in range(-2, 3):
            z = floor + 10.0 + 70.0 * k
            layer = circle(
                "stack", east=east, north=north, floor=z, ceiling=z + 10.0, t=-60.0, dur=400.0
            )
            assert store.submit(layer, propose=False).accepted
        req = circle("me", east=east, north=north, floor=floor, ceiling=floor + 30.0, dur=300.0)
        d = store.submit(req.with_id(), preempt=False)
        assert not d.accepted
        got = {
            p.kind: p.shift_s if p.kind == "departure_shift" else p.offset_m for p in d.proposals
        }
        assert got == _reference(store, d.request)
