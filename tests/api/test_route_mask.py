"""The blocked-voxel mask of route requests, kept per geofence set and departure bucket:
always exactly the prohibited geofences active in the request's window, and renewed on
every geofence change; the route planner's base masks (tiers and that mask) and the
graph's pieces under them equal to those built afresh."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from shapely.geometry import shape

from airgrid.airspace.geofences.cover import cover_geofence
from airgrid.airspace.geofences.model import Category
from airgrid.airspace.grid.served import border_voxels
from airgrid.api.http.planner import BASE_MASKS
from airgrid.routing.errors import RouteConstraintError
from airgrid.routing.search.constraints import Constraints, constraint_mask
from airgrid.routing.search.reach import pieces
from tests.api.conftest import DEST, ORIGIN, fence

T0 = datetime(2026, 11, 25, 8, 0, 0, tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _expected(services, departure: datetime | None, horizon_s: float) -> np.ndarray:
    """The mask from its definition: every prohibited geofence active at some time in
    ``[departure, departure + horizon_s]`` (all without a departure), plus the border."""
    snap = services.geofences.snapshot()
    mask = border_voxels(services.grid).copy()
    for g in snap.fences.values():
        if g.category is not Category.PROHIBITED:
            continue
        t = None if departure is None else departure.timestamp()
        if t is None or g.active_intervals(t, t + horizon_s):
            mask[cover_geofence(services.grid, g)] = True
    return mask


@pytest.mark.parametrize("horizon_s", [7_200.0, 30.0])
def test_route_mask_has_exactly_the_geofences_active_in_the_window(services, horizon_s):
    reg = services.geofences
    h = timedelta(seconds=horizon_s)
    edges = {  # fences whose activity starts or ends at, or a second off, a window's ends
        "STARTS_AT_END": {"valid_from": _iso(T0 + h)},
        "STARTS_AFTER_END": {"valid_from": _iso(T0 + h + timedelta(seconds=1))},
        "ENDS_AT_START": {"valid_to": _iso(T0)},
        "ENDS_BEFORE_START": {"valid_to": _iso(T0 - timedelta(seconds=1))},
        "SHORT_LATER": {
            "valid_from": _iso(T0 + timedelta(seconds=50)),
            "valid_to": _iso(T0 + timedelta(seconds=55)),
        },
        "DAILY": {"daily_periods": [{"days": list(range(7)), "start": "16:01", "end": "16:02"}]},
        "ADVISORY": {"category": "advisory"},
        "ALWAYS": {},
    }
    for k, (ident, props) in enumerate(edges.items()):
        reg.create(reg.parse(fence(ident, 112.92 + 0.012 * k, 28.11, 0.008, **props)))
    rng = random.Random(3)
    offsets = [0, 1, -1, 59, 60, 61, -59, -60, -61, 50 - horizon_s, 55, 55.5, 30, -30]
    offsets += [rng.uniform(-3 * horizon_s, 3 * horizon_s) for _ in range(40)]
    rng.shuffle(offsets)
    departures = [None, *(T0 + timedelta(seconds=s) for s in offsets)]
    for departure in departures * 2:  # the second pass reads what the first one kept
        got = reg.route_mask(services.grid, departure, horizon_s)
        assert np.array_equal(got, _expected(services, departure, horizon_s)), departure
        assert not got.flags.writeable


def test_route_mask_follows_every_geofence_change(services):
    reg = services.geofences
    empty = reg.route_mask(services.grid, T0, 7_200.0)
    assert np.array_equal(empty, border_voxels(services.grid))
    reg.create(reg.parse(fence("NEW", 112.96, 28.16, 0.01)))
    created = reg.route_mask(services.grid, T0, 7_200.0)
    assert np.array_equal(created, _expected(services, T0, 7_200.0))
    assert created.sum() > empty.sum()
    reg.replace(
        reg.parse(fence("NEW", 112.96, 28.16, 0.01, valid_from=_iso(T0 + timedelta(days=1))))
    )
    assert np.array_equal(reg.route_mask(services.grid, T0, 7_200.0), empty)
    reg.delete("NEW")
    assert np.array_equal(reg.route_mask(services.grid, None, 7_200.0), empty)


def test_same_route_request_sees_a_geofence_created_and_deleted_between(client, auth):
    body = {"origin": {"type": "Point", "coordinates": ORIGIN}}
    body |= {"destination": {"type": "Point", "coordinates": DEST}, "departure": _iso(T0)}
    f = fence("BETWEEN", 112.965, 28.165, 0.02)
    area = shape(f["geometry"])
    first = client.post("/v1/routes", json=body, headers=auth["operator"])
    assert shape(first.json()["geometry"]).intersects(area)
    assert client.post("/v1/geofences", json=f, headers=auth["admin"]).status_code == 201
    blocked = client.post("/v1/routes", json=body, headers=auth["operator"])
    assert blocked.status_code == 200 and not shape(blocked.json()["geometry"]).intersects(area)
    assert client.delete("/v1/geofences/BETWEEN", headers=auth["admin"]).status_code == 204
    again = client.post("/v1/routes", json=body, headers=auth["operator"])
    assert again.json()["geometry"] == first.json()["geometry"]


TIER_SETS = [None, ["T2"], ["T3", "T4"], ["T4", "T3"], ["T2", "T3", "T4"], ["T4"]]


def _uncached(services, tiers, geofences) -> np.ndarray:
    c = Constraints(tiers=tiers, blocked_mask=geofences)
    return constraint_mask(services.routing.graph, c).view(bool)


def test_planner_base_masks_and_pieces_equal_the_uncached_ones_through_geofence_changes(
    services,
):
    reg, planner = services.geofences, services.routing
    changes = [
        lambda: None,
        lambda: reg.create(reg.parse(fence("BASE", 112.96, 28.16, 0.01))),
        lambda: reg.replace(reg.parse(fence("BASE", 112.93, 28.12, 0.015))),
        lambda: reg.delete("BASE"),
    ]
    seen = []
    for change in changes:
        change()
        for departure in (None, T0):
            geofences = reg.route_mask(services.grid, departure, 7_200.0)
            for tiers in TIER_SETS * 2:  # the second pass reads what the first one kept
                got = planner.base_mask(tiers, geofences)
                want = _uncached(services, tiers, geofences)
                assert np.array_equal(got, want), tiers
                assert not got.flags.writeable
                labels = planner.pieces(tiers, geofences)
                assert labels is planner.pieces(tiers, geofences)  # computed once
                assert np.array_equal(labels, pieces(planner.graph, want.view(np.uint8)))
            seen.append(planner.base_mask(["T3"], geofences).copy())
    assert not np.array_equal(seen[0], seen[2])  # the created geofence is in the mask
    assert not np.array_equal(seen[2], seen[4])  # and moves with its replacement
    assert np.array_equal(seen[0], seen[6])  # and leaves it when deleted
    assert len(planner._bases) <= BASE_MASKS


@pytest.mark.parametrize("tiers", [[], ["T9"]])
def test_planner_base_mask_refuses_bad_tiers_every_time(services, tiers):
    geofences = services.geofences.route_mask(services.grid, None, 7_200.0)
    for _ in range(2):
        with pytest.raises(RouteConstraintError):
            services.routing.base_mask(tiers, geofences)
