"""Refused submissions are recorded with their volumes and conflict points (both backends)."""

from __future__ import annotations

import numpy as np
from shapely.geometry import Point

from airgrid.airspace.traffic.models import IntentRequest
from airgrid.geo.volumes import Volume4D
from tests.airspace.conftest import StoreMaker

T0 = 1_950_000_000.0


def _disc(lon: float, t: float) -> tuple[Volume4D, ...]:
    return (Volume4D(Point(lon, 28.2).buffer(0.002), 250.0, 290.0, t, t + 600),)


def test_refusals_and_traffic_are_read_back_as_columns(maker: StoreMaker) -> None:
    st = maker.open()
    assert st.submit(IntentRequest("a", 20, "T2", _disc(112.98, T0), "a1")).accepted
    assert st.submit(IntentRequest("a", 20, "T2", _disc(113.1, T0), "a2")).accepted
    st.cancel("a2")
    d = st.submit(IntentRequest("b", 20, "T2", _disc(112.981, T0 + 60), "b1"))
    assert not d.accepted
    quiet = st.submit(IntentRequest("b", 20, "T2", _disc(112.981, T0 + 90), "b2"),
                      record_refusal=False)  # fmt: skip
    assert not quiet.accepted
    flown = st.traffic_volumes("T2", T0, T0 + 3_600)
    assert len(flown.owner) == 1  # the cancelled intent never flew
    assert st.traffic_volumes("T3", T0, T0 + 3_600).owner.size == 0
    refused = st.refused_volumes("T2", T0, T0 + 3_600)
    assert len(refused.owner) == 1 and refused.footprint[0].equals(d.request.volumes[0].footprint)
    assert refused.t_start.tolist() == [T0 + 60]
    pts = st.refusal_conflicts("T2", T0, T0 + 3_600)
    c = d.conflicts[0]
    np.testing.assert_allclose([pts.lat[0], pts.lon[0], pts.t_start[0]], [c.lat, c.lon, c.t_start])
    assert st.refused_volumes("T2", T0 + 7_200, T0 + 9_000).owner.size == 0
