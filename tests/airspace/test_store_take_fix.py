"""Fixes the store takes itself (``take_fix`` of :meth:`Store.submit`), on SQLite and on a
real PostgreSQL server: the fix taken is the one a refusal would have proposed at that
moment, the request moved by it is held under the submitted id, and the refusal of the
request as submitted is recorded for the analytics in the same commit."""

from __future__ import annotations

import pytest

from airgrid.airspace.errors import IntentError, IntentNotFoundError
from airgrid.airspace.geofences.model import Category, Circle, Geofence, Limit, Validity
from airgrid.airspace.store.policy import AirspacePolicy
from airgrid.airspace.store.service import Store
from airgrid.airspace.traffic.models import FixProposal, IntentRequest
from tests.airspace.conftest import LAT0, LON0, T0, StoreMaker, circle, intents_conflict, offset

BOTH = ("altitude_offset", "departure_shift")


def _refusals(st: Store) -> int:
    return int(st._db.execute("SELECT count(*) FROM refusals").fetchone()[0])


def _band_window(req: IntentRequest) -> list[tuple[float, float, float, float]]:
    return [(v.floor_m, v.ceiling_m, v.t_start, v.t_end) for v in req.volumes]


def _assert_held_as(st: Store, intent_id: str, req: IntentRequest, fix: FixProposal) -> None:
    """``intent_id`` is held with exactly ``req``'s volumes moved by ``fix``."""
    held = st.get(intent_id)
    moved = fix.apply(req)
    assert [(v.floor_m, v.ceiling_m, v.t_start, v.t_end) for v in held.volumes] == _band_window(
        moved
    )
    assert all(v.footprint.equals(w.footprint) for v, w in zip(held.volumes, moved.volumes))


def _assert_no_conflicts(st: Store) -> None:
    held = st.holding()
    for i, a in enumerate(held):
        for b in held[i + 1 :]:
            assert not intents_conflict(
                a.volumes, a.tier, b.volumes, b.tier, st.policy.separation
            ), (a.id, b.id)


@pytest.mark.parametrize("grid", [False, True], ids=["exact", "grid-T2"])
def test_the_fix_taken_is_the_one_a_refusal_proposes(maker: StoreMaker, grid: bool) -> None:
    """Each fix kind, taken in the order given, equals the proposal of a refusal of the same
    request just before; the moved request is held under the submitted id (with grid-mode
    claims too, in the second case), and every fixed submission leaves a refusal record."""
    st = maker.open(AirspacePolicy(grid_tiers=frozenset({"T2"}) if grid else frozenset()))
    assert st.submit(circle("alpha", intent_id="alpha-1")).accepted
    clash = circle("beta", east=50, t=60)
    for n, take in enumerate([("departure_shift", "altitude_offset"), BOTH]):
        asked = st.submit(clash.renamed(f"beta-ask-{n}"))
        assert not asked.accepted
        proposed = {p.kind: p for p in asked.proposals}
        before = _refusals(st)
        d = st.submit(clash.renamed(f"beta-{n}"), take_fix=take)
        assert d.accepted and d.fix == proposed[take[0]]
        assert d.conflicts == () and d.request.intent_id == d.intent.id == f"beta-{n}"
        _assert_held_as(st, f"beta-{n}", clash, d.fix)
        assert _refusals(st) == before + 1
        with pytest.raises(IntentNotFoundError):
            st.get(f"beta-ask-{n}")
    _assert_no_conflicts(st)
    # a fresh connection sees the fixed intents (committed, durable)
    assert maker.open().get("beta-1").volumes[0].floor_m != clash.volumes[0].floor_m


def test_a_request_that_needs_no_fix_is_accepted_unmoved(maker: StoreMaker) -> None:
    st = maker.open()
    d = st.submit(circle("alpha", intent_id="alpha-1"), take_fix=BOTH)
    assert d.accepted and d.fix is None
    assert _band_window(st.get("alpha-1")) == _band_window(circle("alpha"))


def test_a_refusal_that_remains_proposes_only_the_kinds_not_taken(maker: StoreMaker) -> None:
    """No delay within ``max_shift_s`` = 0 is free: taking only delays leaves the request
    refused, nothing held, the refusal recorded, and the altitude offset still proposed."""
    st = maker.open()
    assert st.submit(circle("alpha", intent_id="alpha-1")).accepted
    before = _refusals(st)
    d = st.submit(
        circle("beta", east=50, t=60, intent_id="beta-1"),
        take_fix=("departure_shift",),
        max_shift_s=0.0,
    )
    assert not d.accepted and d.fix is None and d.conflicts
    assert [p.kind for p in d.proposals] == ["altitude_offset"]
    assert _refusals(st) == before + 1
    with pytest.raises(IntentNotFoundError):
        st.get("beta-1")
    both = st.submit(
        circle("beta", east=50, t=60, intent_id="beta-2"),
        take_fix=("departure_shift", "altitude_offset"),
        max_shift_s=0.0,
    )
    assert both.accepted and both.fix is not None and both.fix.kind == "altitude_offset"


def test_a_taken_delay_skips_the_ones_a_geofence_forbids(maker: StoreMaker) -> None:
    """A delay free of intents but inside a prohibited geofence's validity is not taken; the
    first one past it is (the volume [60 + d, 180 + d] s meets the fence, which ends at
    600 s, up to d = 540 s)."""
    lat, lon = offset(LAT0, LON0, 0.0, 1_000.0)
    fence = Geofence(
        "gf-until-600",
        Limit(0.0, "AMSL"),
        Limit(500.0, "AMSL"),
        circle=Circle(lon=lon, lat=lat, radius_m=300.0),
        validity=Validity(start=T0 - 3_600, end=T0 + 600),
        category=Category.PROHIBITED,
        name="gf-until-600",
    )
    st = maker.open()
    assert st.submit(circle("alpha", north=1_000)).accepted
    st.put_geofence(fence)
    clash = circle("beta", north=1_000, t=60)
    d = st.submit(clash.renamed("beta-1"), take_fix=("departure_shift",))
    assert d.accepted and d.fix is not None and d.fix.shift_s == 600.0
    _assert_held_as(st, "beta-1", clash, d.fix)


@pytest.mark.parametrize(
    "take, text",
    [(("sideways",), "unknown fix kind 'sideways'"), (("altitude_offset",) * 2, "a kind twice")],
)
def test_bad_fix_kinds_are_refused_before_anything_is_written(
    maker: StoreMaker, take: tuple[str, ...], text: str
) -> None:
    st = maker.open()
    with pytest.raises(IntentError, match=text):
        st.submit(circle("alpha", intent_id="alpha-1"), take_fix=take)
    assert st.holding() == [] and _refusals(st) == 0
