"""Audit kernels against plain shapely references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from airgrid.audit.rules import _rectangles, fixes_inside
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
    got = fixes_inside(tracks, volumes)
    want = _reference(tracks, volumes)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    assert want[0].sum() > 150 and want[1].sum() > 50


coord = st.sampled_from([0.0, 1.0, 2.0])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(coord, coord), min_size=3, max_size=6))
def test_is_rectangle_means_equal_to_its_box(pts: list[tuple[float, float]]) -> None:
    poly = shapely.Polygon(pts)
    if _rectangles(np.array([poly]))[0]:
        assert poly.is_valid and poly.equals(shapely.box(*poly.bounds))


def test_rectangles_examples() -> None:
    got = _rectangles(
        np.array(
            [
                shapely.box(0, 0, 1, 2),
                shapely.Polygon([(0, 0), (0, 1), (1, 1), (1, 0)]),
                shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]),  # bow tie
                shapely.Polygon([(0, 0), (1, 0), (0, 1)]),
                shapely.Polygon([(0, 0), (1, 0), (0, 0), (1, 0)]),  # corners repeated
                shapely.box(0, 0, 2, 2).difference(shapely.box(0.5, 0.5, 1, 1)),
                shapely.MultiPolygon([shapely.box(0, 0, 1, 1)]),
                shapely.Point(0, 0).buffer(1),
            ]
        )
    )
    assert got.tolist() == [True, True, False, False, False, False, False, False]


def test_iso_times_equal_datetime_isoformat() -> None:
    from airgrid.audit.report import _iso, iso_times

    rng = np.random.default_rng(9)
    t = np.concatenate(
        [
            rng.uniform(0, 4e9, 20_000),
            np.round(rng.uniform(1.7e9, 1.8e9, 2000), 3),
            np.round(rng.uniform(1.7e9, 1.8e9, 2000), 4) + 0.0005,  # half a millisecond
            np.arange(1.74e9, 1.74e9 + 1, 1e-6)[:2000],
            [0.0, 1e-7, 0.9999995, 1740988800.9999996],
        ]
    )
    assert iso_times(t).tolist() == [_iso(x) for x in t.tolist()]
    assert iso_times(np.empty(0)).tolist() == []


def _may_cross_reference(cells, lon0, lat0, lon1, lat1) -> np.ndarray:
    def ix(v):
        return np.floor((v + 180.0) / cells.cell).astype(np.int64)

    def iy(v):
        return np.floor((v + 90.0) / cells.cell).astype(np.int64)

    x0, x1 = ix(np.minimum(lon0, lon1)), ix(np.maximum(lon0, lon1))
    y0, y1 = iy(np.minimum(lat0, lat1)), iy(np.maximum(lat0, lat1))
    out = (x1 - x0 > 1) | (y1 - y0 > 1)
    nx, ny = cells.marked.shape
    for x, y in ((x0, y0), (x0, y1), (x1, y0), (x1, y1)):
        i, j = x - cells.x0, y - cells.y0
        ok = (i >= 0) & (i < nx) & (j >= 0) & (j < ny)
        out[ok] |= cells.marked[i[ok], j[ok]]
    return out


def test_may_cross_equals_the_numpy_rule_and_finds_every_crossing() -> None:
    from airgrid.audit.fence_rule import BoundaryCells

    fps = [shapely.Point(112.0, 28.0).buffer(0.05), shapely.box(112.2, 28.1, 112.3, 28.4)]
    cells = BoundaryCells(fps)
    rng = np.random.default_rng(11)
    lon0, lat0 = rng.uniform(111.8, 112.5, 50_000), rng.uniform(27.8, 28.6, 50_000)
    step = rng.choice([1e-4, 1e-3, 1e-2], 50_000)
    lon1, lat1 = lon0 + rng.normal(0, 1, 50_000) * step, lat0 + rng.normal(0, 1, 50_000) * step
    got = cells.may_cross(lon0, lat0, lon1, lat1)
    assert np.array_equal(got, _may_cross_reference(cells, lon0, lat0, lon1, lat1))
    lines = shapely.linestrings(np.stack([lon0, lat0, lon1, lat1], 1).reshape(-1, 2, 2))
    crossing = shapely.intersects(lines, shapely.boundary(shapely.union_all(fps)))
    assert crossing.sum() > 100 and got[crossing].all()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.lists(st.sampled_from([0, 1, 2]), max_size=10)),
        min_size=1,
        max_size=5,
    )
)  # per flight: has an intent; per fix: 0 surely off, 1 possibly inside, 2 certainly inside
def test_nonconformance_runs_equal_a_plain_scan(flights: list[tuple[bool, list[int]]]) -> None:
    from airgrid.audit.kernels import nonconformance_runs

    start = np.concatenate([[0], np.cumsum([len(f) for _, f in flights])]).astype(np.int64)
    marks = np.array([m for _, f in flights for m in f], np.int64)
    has = np.array([h for h, _ in flights], bool)
    want, conforming = [], []
    pos = 0
    for h, f in flights:
        run: list[int] = []
        for j, m in enumerate([*f, 2]):  # a certainly inside fix past the end closes a run
            if h and m < 2:
                run.append(m)
            elif run:
                want.append((pos + j - len(run), pos + j - 1, int(0 in run)))
                run = []
        conforming.append(sum(m == 2 for m in f) if h else 0)
        pos += len(f)
    got, count = nonconformance_runs(start, has, marks >= 1, marks == 2)
    assert [tuple(r) for r in got.tolist()] == want
    assert count.tolist() == conforming


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-180, 180, allow_nan=False), st.floats(-90, 90, allow_nan=False)),
        min_size=1,
        max_size=6,
    )
)
def test_geometry_json_within_half_a_unit_of_the_7th_decimal(xy):
    import json

    from airgrid.audit.report import geometry_json

    line = shapely.linestrings(xy) if len(xy) > 1 else shapely.points(xy[0])
    geoms = np.array([shapely.points(xy[0]), line], dtype=object)
    got = [json.loads(s) for s in geometry_json(geoms)]
    back = shapely.from_geojson([json.dumps(g) for g in got])
    assert shapely.get_type_id(back).tolist() == shapely.get_type_id(geoms).tolist()
    diff = shapely.get_coordinates(back) - shapely.get_coordinates(geoms)
    assert np.abs(diff).max() <= 0.5e-7 + 1e-9
