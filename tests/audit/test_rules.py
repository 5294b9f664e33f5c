"""Audit rules on generated tracks with known violations: exact counts, first and last times."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely

from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.geofences.model import Geofence, Limit
from airgrid.airspace.geofences.schedule import DailyPeriod, Validity
from airgrid.airspace.grid.tiers import TierTable
from airgrid.airspace.traffic.models import FlightIntent, IntentState
from airgrid.audit.audit import audit_tracks
from airgrid.audit.rules import RuleSettings
from airgrid.audit.tracks import AltRef
from airgrid.geo.volumes import Volume4D
from airgrid.terrain import box_ground_bounds
from tests.audit.conftest import SQUARE, T0, fixes

TIERS = TierTable()


def square_fence(ident: str = "SQ", validity: Validity | None = None) -> Geofence:
    return Geofence(
        ident, Limit(0.0), Limit(3000.0), polygon=SQUARE, validity=validity or Validity()
    )


def audit(tracks, fences=None, intents=None, **settings):
    index = GeofenceIndex(fences) if fences else None
    v, ops = audit_tracks(
        tracks, index=index, tiers=TIERS, intents=intents, settings=RuleSettings(**settings)
    )
    return v, ops


def rule(v, name):
    return v[v["rule"] == name].reset_index(drop=True)


# -- geofences -----------------------------------------------------------------------------
def test_fix_exactly_on_the_boundary_is_inside(make_tracks):
    tr = make_tracks(fixes("B", [T0, T0 + 1, T0 + 2], [28.09, 28.10, 28.09], [112.91] * 3, 500.0))
    g = rule(audit(tr, [square_fence()])[0], "geofence")
    assert len(g) == 1
    assert (g.t_first[0], g.t_last[0]) == (T0 + 1, T0 + 1)
    assert (g.fix_first[0], g.fix_last[0]) == (1, 1)
    assert g.certainty[0] == "certain" and g.object_id[0] == "SQ"


def test_crossing_between_two_outside_fixes_counts(make_tracks):
    tr = make_tracks(fixes("X", [T0, T0 + 4], [28.105, 28.105], [112.89, 112.93], 500.0))
    g = rule(audit(tr, [square_fence()])[0], "geofence")
    assert len(g) == 1
    assert g.t_first[0] == pytest.approx(T0 + 1, abs=1e-6)
    assert g.t_last[0] == pytest.approx(T0 + 3, abs=1e-6)
    assert (g.fix_first[0], g.fix_last[0]) == (0, 1)
    assert g.max_excess_m[0] == 0.0


def test_consecutive_inside_fixes_merge_and_depth_is_measured(make_tracks):
    lon = [112.89, 112.905, 112.91, 112.915, 112.93, 112.91]
    tr = make_tracks(fixes("M", T0 + np.arange(6), [28.11] * 6, lon, 500.0))
    g = rule(audit(tr, [square_fence()])[0], "geofence")
    assert len(g) == 2  # in through fixes 1-3, out at 4, in again before 5
    assert g.fix_first.tolist() == [1, 5] and g.fix_last.tolist() == [3, 5]
    assert g.t_first[0] == pytest.approx(T0 + 1 - 0.005 / 0.015, abs=1e-6)
    # fix 2 at lon 112.91 is 0.01 deg from the west and east edges: about 981 m
    assert g.max_excess_m[0] == pytest.approx(
        0.01 * 111_320 * math.cos(math.radians(28.11)), rel=0.01
    )


def test_daily_period_edge_at_midnight(make_tracks):
    tz = ZoneInfo("Asia/Shanghai")
    mon = datetime(2025, 3, 3, 23, 59, 58, tzinfo=tz).timestamp()
    tue = datetime(2025, 3, 4, 23, 59, 58, tzinfo=tz).timestamp()
    fence = square_fence(
        "NIGHT",
        Validity(daily=(DailyPeriod(frozenset({0}), 20 * 3600, 86400),), timezone="Asia/Shanghai"),
    )
    t = np.arange(5.0)
    tr = make_tracks(
        fixes("MON", mon + t, [28.11] * 5, [112.91] * 5, 500.0),
        fixes("TUE", tue + t, [28.11] * 5, [112.91] * 5, 500.0),
    )
    g = rule(audit(tr, [fence])[0], "geofence")
    assert g.flight_id.tolist() == ["MON"]
    assert (g.t_first[0], g.t_last[0]) == (mon, mon + 2)  # 23:59:58 .. 00:00:00 inclusive
    assert g.duration_s[0] == 2.0


# -- heights ---------------------------------------------------------------------------------
def _ground(real_dem, lat=28.11, lon=112.91):
    lo, hi, _ = box_ground_bounds(real_dem, [lon], [lat], [lon], [lat])
    return float(lo[0]), float(hi[0])


def test_agl_and_amsl_logs_against_the_light_uav_limit(make_tracks, real_dem):
    g_lo, g_hi = _ground(real_dem)
    assert g_hi - g_lo > 10
    t = T0 + np.arange(3)
    tr = make_tracks(
        fixes("AGL", t, [28.11] * 3, [112.91] * 3, [100.0, 150.0, 100.0], AltRef.AGL),
        fixes("AMSL_C", t, [28.11] * 3, [112.91] * 3, [g_lo + 50, g_hi + 130, g_lo + 50]),
        fixes("AMSL_P", t, [28.11] * 3, [112.91] * 3, [g_lo + 50, g_lo + 125, g_lo + 50]),
    )
    v = rule(audit(tr)[0], "light_uav_limit").set_index("flight_id")
    assert sorted(v.index) == ["AGL", "AMSL_C", "AMSL_P"]
    assert v.loc["AGL", "certainty"] == "certain" and v.loc["AGL", "max_excess_m"] == 30.0
    assert v.loc["AMSL_C", "certainty"] == "certain"
    assert v.loc["AMSL_C", "max_excess_m"] == pytest.approx(g_hi - g_lo + 10)
    assert v.loc["AMSL_P", "certainty"] == "possible"
    assert v.loc["AMSL_P", "max_excess_m"] == pytest.approx(5.0)
    assert all(v.t_first == T0 + 1) and all(v.t_last == T0 + 1)


def test_tier_band_and_terrain_clearance(make_tracks):
    t = T0 + 10.0 * np.arange(60)
    h = np.full(60, 100.0)
    h[:2] = h[-2:] = 0.0  # take-off and landing: exempt
    h[30:33] = 10.0  # a dip below the 30 m clearance
    h[40] = 130.0  # above T1's 120 m
    tr = make_tracks(fixes("C", t, [28.11] * 60, [112.91] * 60, h, AltRef.AGL, tier="T1"))
    v, _ = audit(tr)
    c = rule(v, "terrain_clearance")
    assert len(c) == 1 and (c.t_first[0], c.t_last[0]) == (t[30], t[32])
    assert c.certainty[0] == "certain" and c.max_excess_m[0] == 20.0
    a = rule(v, "tier_band_above")
    assert len(a) == 1 and a.t_first[0] == t[40] and a.object_id[0] == "T1"
    assert a.max_excess_m[0] == 10.0
    assert rule(v, "light_uav_limit").empty and rule(v, "tier_band_below").empty


# -- intents ---------------------------------------------------------------------------------
def _intent(iid="I1", state=IntentState.ACCEPTED, t_end=T0 + 100):
    vol = Volume4D(shapely.Polygon(SQUARE), 0.0, 3000.0, T0, t_end)
    return FlightIntent(iid, "Op", 10, "T1", (vol,), state)


def test_leaving_the_intent_by_one_metre_and_one_second(make_tracks):
    one_m = 1.0 / (111_320.0 * math.cos(math.radians(28.11)))
    lon = np.full(11, 112.91)
    lon[5] = 112.92 + one_m  # 1 m east of the volume
    lon[6] = 112.92  # on its edge: conforming
    t = T0 + 10.0 * np.arange(11)
    t[-1] = T0 + 101  # 1 s after the window
    tr = make_tracks(fixes("I1", t, [28.11] * 11, lon, 50.0, AltRef.AGL))
    v, ops = audit(tr, intents={"I1": _intent()})
    n = rule(v, "nonconformance")
    assert n.t_first.tolist() == [T0 + 50, T0 + 101] and n.t_last.tolist() == [T0 + 50, T0 + 101]
    assert n.certainty.tolist() == ["certain", "certain"]
    assert n.state.tolist() == ["Nonconforming", "Nonconforming"]
    assert n.object_id.tolist() == ["I1", "I1"]
    assert rule(v, "no_accepted_intent").empty
    assert ops.conforming_fixes.tolist() == [9] and ops.fixes_with_intent.tolist() == [11]


def test_long_nonconformance_becomes_contingent(make_tracks):
    t = T0 + 10.0 * np.arange(10)
    lon = np.where((t >= T0 + 20) & (t <= T0 + 60), 112.95, 112.91)
    tr = make_tracks(fixes("I1", t, [28.11] * 10, lon, 50.0, AltRef.AGL))
    n = rule(audit(tr, intents={"I1": _intent()}, contingent_after_s=30.0)[0], "nonconformance")
    assert len(n) == 1 and n.state[0] == "Contingent" and n.duration_s[0] == 40.0
    n = rule(audit(tr, intents={"I1": _intent()}, contingent_after_s=40.0)[0], "nonconformance")
    assert n.state[0] == "Nonconforming"


def test_flights_without_an_accepted_intent(make_tracks):
    t = T0 + np.arange(3.0)
    tr = make_tracks(
        fixes("NONE", t, [28.11] * 3, [112.91] * 3, 50.0, AltRef.AGL),
        fixes("GONE", t, [28.11] * 3, [112.91] * 3, 50.0, AltRef.AGL, intent_id="I9"),
    )
    intents = {"I9": _intent("I9", IntentState.CANCELLED)}
    v = rule(audit(tr, intents=intents)[0], "no_accepted_intent")
    assert v.flight_id.tolist() == ["NONE", "GONE"]
    assert v.object_id.tolist() == ["NONE", "I9"]
    assert (v.t_first == T0).all() and (v.t_last == T0 + 2).all()
    assert audit(tr, intents=None)[0].query("rule == 'no_accepted_intent'").empty
