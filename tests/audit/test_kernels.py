"""Audit kernels against plain shapely references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from airgrid.audit.rules import _conforming, _is_rectangle, _volume_table
from airgrid.audit.tracks import Tracks
from airgrid.geo.volumes import Volume4D


def _tracks(rng: np.random.Generator, n_flights: int, per: int) -> Tracks:
    n = n_flights * per
    lo = rng.uniform(0, 200, n)
    wide = rng.random(n) < 0.3
    return Tracks(
        flight=np.repeat(np.arange(n_flights), per).astype(np.int32),
        t=np.tile(np.arange(per, dtype=float), n_flights),
        lat=np.round(rng.uniform(0, 1, n), 1),  # on box edges often
        lon=np.round(rng.uniform(0, 1, n), 1),
        amsl_lo=lo,
        amsl_hi=np.where(wide, lo + 30, lo),
        h_lo=lo,
        h_hi=lo,
        row=np.arange(n),
        flights=pd.DataFrame({"flight_id": np.arange(n_flights)}),
        start=np.arange(0, n + 1, per),
    )


def _reference(tracks: Tracks, volumes: list[tuple[int, Volume4D]]) -> tuple[np.ndarray, ...]:
    poss = np.zeros(len(tracks), bool)
    cert = np.zeros(len(tracks), bool)
    for f, v in volumes:
        for i in range(tracks.start[f], tracks.start[f + 1]):
            p = shapely.Point(tracks.lon[i], tracks.lat[i])
            if not (v.t_start <= tracks.t[i] <= v.t_end) or not v.footprint.intersects(p):
                continue
            if tracks.amsl_lo[i] <= v.ceiling_m and tracks.amsl_hi[i] >= v.floor_m:
                poss[i] = True
                if tracks.amsl_lo[i] >= v.floor_m and tracks.amsl_hi[i] <= v.ceiling_m:
                    cert[i] = True
    return poss, cert


def test_conformance_scan_equals_pairwise_shapely() -> None:
    rng = np.random.default_rng(5)
    nf = 200
    tracks = _tracks(rng, nf, 40)
    volumes = []
    for f in range(nf):
        for _ in range(rng.integers(0, 4)):
            x, y = np.round(rng.uniform(0, 0.6, 2), 1)
            w, h = np.round(rng.uniform(0.1, 0.5, 2), 1)
            kind = rng.integers(3)
            if kind == 0:
                fp = shapely.box(x, y, x + w, y + h)
            elif kind == 1:
                fp = shapely.Polygon([(x, y), (x + w, y), (x, y + h)])
            else:
                fp = shapely.box(x, y, x + w, y + h).difference(shapely.Point(x, y).buffer(0.1))
            lo = float(rng.uniform(0, 150))
            t0 = float(rng.integers(0, 30))
            volumes.append((f, Volume4D(fp, lo, lo + 60, t0, t0 + 15)))
    got = _conforming(tracks, _volume_table(volumes))
    want = _reference(tracks, volumes)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    assert want[0].sum() > 150 and want[1].sum() > 50


coord = st.sampled_from([0.0, 1.0, 2.0])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(coord, coord), min_size=3, max_size=6))
def test_is_rectangle_means_equal_to_its_box(pts: list[tuple[float, float]]) -> None:
    poly = shapely.Polygon(pts)
    if _is_rectangle(poly):
        assert poly.is_valid and poly.equals(shapely.box(*poly.bounds))


def test_is_rectangle_examples() -> None:
    assert _is_rectangle(shapely.box(0, 0, 1, 2))
    assert _is_rectangle(shapely.Polygon([(0, 0), (0, 1), (1, 1), (1, 0)]))
    assert not _is_rectangle(shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]))  # bow tie
    assert not _is_rectangle(shapely.Polygon([(0, 0), (1, 0), (0, 1)]))
    assert not _is_rectangle(shapely.box(0, 0, 2, 2).difference(shapely.box(0.5, 0.5, 1, 1)))
    assert not _is_rectangle(shapely.MultiPolygon([shapely.box(0, 0, 1, 1)]))
