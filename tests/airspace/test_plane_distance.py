"""The exact test's footprint kernels against GEOS: distances against ``shapely.distance``
of the same footprints densified by ``shapely.segmentize`` and projected by
:func:`~airgrid.airspace.traffic.planes.to_plane`; overlap centroids against
``shapely.centroid(shapely.intersection(...))``."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airgrid.airspace.traffic.overlap import _overlap_centroids, overlap_centroids
from airgrid.airspace.traffic.plane_distance import (
    _densify,
    boundaries,
    closest_midpoints,
    lonlat_distances,
    plane_distances_of,
    small_unique,
)
from airgrid.airspace.traffic.planes import DENSIFY_DEG, plane_for, to_plane
from tests.airspace.conftest import LAT0, LON0

DEG = 1 / 111_000  # about a metre, in degrees


def _geos(own: np.ndarray, i: np.ndarray, oth: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The reference: each pair projected on its own into the own footprint's plane."""
    out = []
    for a, b in zip(own[i], oth[k]):
        c = a.centroid
        fwd, _ = plane_for(c.x, c.y)
        pa, pb = to_plane(np.array([a, b], dtype=object), fwd)
        out.append(shapely.distance(pa, pb))
    return np.array(out)


def plane_distances(own: np.ndarray, i: np.ndarray, oth: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The kernel's distances, as the exact test asks for them: own footprints' planes at
    their centroids."""
    ui, ia = np.unique(i, return_inverse=True)
    uk, ka = np.unique(k, return_inverse=True)
    rings = boundaries(np.concatenate([own[ui], oth[uk]]))
    centres = shapely.get_coordinates(shapely.centroid(own[ui]))
    return plane_distances_of(rings, centres, ia.astype(np.int64), len(ui) + ka)


def _blob(rng: np.random.Generator, x: float, y: float, r_m: float, n: int) -> shapely.Geometry:
    """A star-shaped (often concave) polygon of ``n`` vertices around (x, y)."""
    ang = np.sort(rng.uniform(0, 2 * math.pi, n))
    rad = rng.uniform(0.3, 1.0, n) * r_m * DEG
    return shapely.Polygon(
        np.column_stack([x + rad * np.cos(ang) / math.cos(math.radians(y)), y + rad * np.sin(ang)])
    ).buffer(0)


def _shape(rng: np.random.Generator, x: float, y: float, r_m: float) -> shapely.Geometry:
    """A footprint near (x, y): a plain polygon, one with a hole, or a two-part multipolygon."""
    kind = rng.integers(0, 4)
    g = _blob(rng, x, y, r_m, int(rng.integers(3, 12)))
    if kind == 1:  # a hole
        hole = shapely.Point(x, y).buffer(0.15 * r_m * DEG, quad_segs=3)
        g = shapely.Polygon(g.exterior, [hole.exterior]) if g.contains(hole) else g
    elif kind == 2:  # a long thin tube of several kilometres, edges longer than DENSIFY_DEG
        ln = shapely.LineString(
            [(x, y), (x + rng.uniform(-0.05, 0.05), y + rng.uniform(-0.05, 0.05))]
        )
        g = ln.buffer(r_m * DEG * 0.2, quad_segs=2)
    elif kind == 3:
        g = shapely.union(g, _blob(rng, x + 3 * r_m * DEG, y, r_m, 5))
    return g


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), lat=st.sampled_from([LAT0, 25.0, 30.1, 61.5]))
def test_distances_match_geos(seed: int, lat: float) -> None:
    """Random footprints (concave, with holes, multipart, long edges) apart, touching,
    crossing and nested: every distance equals GEOS's to a micrometre."""
    rng = np.random.default_rng(seed)
    own = np.array(
        [_shape(rng, LON0 + rng.uniform(-0.3, 0.3), lat, rng.uniform(20, 400)) for _ in range(4)],
        dtype=object,
    )
    oth = []
    for n in range(24):
        a = own[n % 4]
        c = a.centroid
        gap = rng.choice([0.0, rng.uniform(0, 50), rng.uniform(50, 2000)])
        oth.append(
            _shape(rng, c.x + gap * DEG * rng.uniform(-1, 1), c.y + gap * DEG, rng.uniform(5, 300))
        )
    oth.append(own[0].buffer(-5 * DEG) if own[0].buffer(-5 * DEG).area > 0 else own[0])  # nested
    oth.append(own[1])  # identical
    oth = np.array(oth, dtype=object)
    i = np.concatenate([np.arange(24) % 4, [0, 1]])
    k = np.arange(len(oth))
    got = plane_distances(own, i, oth, k)
    assert got == pytest.approx(_geos(own, i, oth, k), abs=1e-6)
    assert got[-1] == 0.0 and got[-2] == 0.0


def test_every_plane_and_repeated_pairs() -> None:
    """Own footprints far apart fall in different local planes; pairs may repeat."""
    rng = np.random.default_rng(5)
    own = np.array(
        [_shape(rng, LON0 + 0.9 * n, LAT0 + 0.5 * n, 200) for n in range(3)], dtype=object
    )
    oth = np.array(
        [_shape(rng, LON0 + 0.9 * n + 0.004, LAT0 + 0.5 * n, 100) for n in range(3)], dtype=object
    )
    i = np.array([0, 1, 2, 0, 2, 1, 0])
    k = np.array([0, 1, 2, 0, 1, 2, 2])
    assert plane_distances(own, i, oth, k) == pytest.approx(_geos(own, i, oth, k), abs=1e-6)
    assert len(plane_distances(own, i[:0], oth, k[:0])) == 0


def test_densify_cuts_edges_as_shapely_segmentize_does() -> None:
    """The kernel's densified rings have shapely.segmentize's vertices."""
    rng = np.random.default_rng(9)
    geoms = np.array([_shape(rng, LON0, LAT0, 3000) for _ in range(20)], dtype=object)
    xy, ring_at, geom_at = boundaries(geoms)
    dense, dense_at = _densify(xy, ring_at, DENSIFY_DEG)
    ref = shapely.segmentize(geoms, DENSIFY_DEG)
    ref_xy, ref_ring_at, ref_geom_at = boundaries(ref)
    np.testing.assert_allclose(dense, ref_xy, rtol=0, atol=1e-12)
    assert np.array_equal(dense_at, ref_ring_at) and np.array_equal(geom_at, ref_geom_at)
    # rings of a polygon with a hole and of a multipolygon's parts stay apart
    assert len(ring_at) - 1 == sum(
        sum(1 + len(p.interiors) for p in getattr(g, "geoms", [g])) for g in geoms
    )


def test_nesting_without_crossing_edges() -> None:
    """Regions that meet with no edges crossing: a multipolygon's second part inside the
    other footprint (0); and footprints that lie in another's hole (apart), one of them
    a footprint with a hole itself."""
    x, y = LON0, LAT0
    ring = shapely.Polygon(
        shapely.box(x, y, x + 0.01, y + 0.01).exterior,
        [shapely.box(x + 0.002, y + 0.002, x + 0.008, y + 0.008).exterior],
    )
    far_then_inside = shapely.MultiPolygon(
        [
            shapely.box(x + 0.05, y, x + 0.06, y + 0.01),
            shapely.box(x + 0.0005, y + 0.0005, x + 0.001, y + 0.001),
        ]
    )
    in_hole = shapely.box(x + 0.004, y + 0.004, x + 0.005, y + 0.005)
    islands = shapely.MultiPolygon(
        [
            shapely.box(x + 0.09, y, x + 0.1, y + 0.01),
            shapely.box(x - 0.01, y - 0.01, x + 0.02, y + 0.02).difference(
                shapely.box(x - 0.005, y - 0.005, x + 0.015, y + 0.015)
            ),
        ]
    )
    own = np.array([ring, in_hole], dtype=object)
    oth = np.array([far_then_inside, in_hole, islands], dtype=object)
    i, k = np.array([0, 0, 0, 1]), np.array([0, 1, 2, 2])
    got = plane_distances(own, i, oth, k)
    assert got == pytest.approx(_geos(own, i, oth, k), abs=1e-6)
    assert got[0] == 0.0 and got[1] > 150 and got[2] > 400 and got[3] > 800


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_overlap_centroids_match_geos(seed: int) -> None:
    """Overlapping, touching and disjoint pairs of convex and concave footprints, with
    holes and several parts: the centroid of their intersection, NaN where they do not
    meet, as GEOS computes it."""
    rng = np.random.default_rng(seed)
    a, b = [], []
    for _ in range(30):
        x, y = LON0 + rng.uniform(-0.1, 0.1), LAT0 + rng.uniform(-0.1, 0.1)
        r = rng.uniform(20, 500)
        first = _shape(rng, x, y, r) if rng.random() < 0.5 else shapely.Point(x, y).buffer(r * DEG)
        off = rng.uniform(0, 2.2) * r * DEG
        ang = rng.uniform(0, 2 * math.pi)
        second = shapely.LineString(
            [
                (x + off * math.cos(ang), y + off * math.sin(ang)),
                (x + off * math.cos(ang) + rng.uniform(-0.01, 0.01), y),
            ]
        ).buffer(rng.uniform(5, 200) * DEG)
        if rng.random() < 0.3:
            second = _shape(
                rng, x + off * math.cos(ang), y + off * math.sin(ang), rng.uniform(20, 400)
            )
        a.append(first)
        b.append(second)
    a.append(shapely.box(LON0, LAT0, LON0 + 0.01, LAT0 + 0.01))  # touching along an edge
    b.append(shapely.box(LON0 + 0.01, LAT0, LON0 + 0.02, LAT0 + 0.01))
    a.append(shapely.box(LON0, LAT0, LON0 + 0.01, LAT0 + 0.01))  # apart, whatever the draws
    b.append(shapely.box(LON0 + 0.02, LAT0, LON0 + 0.03, LAT0 + 0.01))
    a, b = np.array(a, dtype=object), np.array(b, dtype=object)
    want = shapely.centroid(shapely.intersection(a, b))
    got = overlap_centroids(a, b)
    met = ~shapely.is_empty(want)
    np.testing.assert_allclose(got[met], shapely.get_coordinates(want[met]), rtol=0, atol=1e-9)
    assert np.isnan(got[~met]).all() and (~met).any() and met.sum() > 10
    # the kernel, not GEOS, answers every pair with an overlap of some area and a convex
    # single-ring side
    kx, _ = _overlap_centroids(*boundaries(np.concatenate([a, b])), len(a))

    def convex(g: np.ndarray) -> np.ndarray:
        simple = (shapely.get_type_id(g) == 3) & (shapely.get_num_interior_rings(g) == 0)
        return simple & (np.abs(shapely.area(shapely.convex_hull(g)) - shapely.area(g)) < 1e-15)

    one_ring = (shapely.get_type_id(a) == 3) & (shapely.get_type_id(b) == 3)
    one_ring &= (shapely.get_num_interior_rings(a) == 0) & (shapely.get_num_interior_rings(b) == 0)
    kernel = one_ring & (convex(a) | convex(b)) & (shapely.area(shapely.intersection(a, b)) > 0)
    assert np.array_equal(~np.isnan(kx), kernel) and kernel.sum() > 5


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_closest_midpoints_halve_the_shortest_line(seed: int) -> None:
    """Footprints apart (concave, with holes, several parts, parallel tubes): the point
    lies half GEOS's distance from each, in lon/lat scaled by the cosine of the mean
    latitude; the middle of GEOS's own shortest line where that is the only one."""
    rng = np.random.default_rng(seed)
    a, b = [], []
    while len(a) < 25:
        x, y = LON0 + rng.uniform(-0.1, 0.1), LAT0 + rng.uniform(-0.1, 0.1)
        first, second = (
            _shape(rng, x, y, 300),
            _shape(rng, x + rng.uniform(-0.02, 0.02), y + 0.01, 300),
        )
        if not first.intersects(second):
            a.append(first)
            b.append(second)
    a, b = np.array(a, dtype=object), np.array(b, dtype=object)
    got = closest_midpoints(a, b)
    lo, hi = shapely.total_bounds(a)[[1, 3]]
    scale = math.cos(math.radians((lo + hi) / 2))

    def scaled(g: np.ndarray) -> np.ndarray:
        return shapely.transform(g, lambda c: c * [scale, 1.0])

    sa, sb = scaled(a), scaled(b)
    mid = shapely.points(got * [scale, 1.0])
    half = shapely.distance(sa, sb) / 2
    assert shapely.distance(mid, sa) == pytest.approx(half, abs=1e-12)
    assert shapely.distance(mid, sb) == pytest.approx(half, abs=1e-12)
    geos = shapely.get_coordinates(shapely.centroid(shapely.shortest_line(sa, sb)))
    same = np.hypot(*(geos - got * [scale, 1.0]).T) < 1e-12
    assert same.sum() >= len(a) // 2  # ties (parallel edges) aside, the same line


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_lonlat_distances_match_geos_below_the_cap(seed: int) -> None:
    """Distances in degrees equal GEOS's (0 where the footprints meet); past the cap,
    inf."""
    rng = np.random.default_rng(seed)
    geoms = []
    for _ in range(30):
        geoms.append(
            _shape(rng, LON0 + rng.uniform(-0.02, 0.02), LAT0 + rng.uniform(-0.02, 0.02), 400)
        )
    geoms = np.array(geoms, dtype=object)
    a = rng.integers(0, 30, 60).astype(np.int64)
    b = rng.integers(0, 30, 60).astype(np.int64)
    b[:6] = a[:6]  # a footprint meets itself
    cap = rng.uniform(0, 0.03, 60)
    got = lonlat_distances(boundaries(geoms), a, b, cap)
    want = shapely.distance(geoms[a], geoms[b])
    below = want < cap * (1 - 1e-9)
    assert got[below] == pytest.approx(want[below], abs=1e-12)
    assert np.isinf(got[want > cap * (1 + 1e-9)]).all()
    assert below.sum() > 10 and (want == 0).sum() > 3 and (~below).sum() > 3


@given(st.lists(st.integers(0, 300), max_size=200))
def test_small_unique_is_numpys_unique_with_inverse(xs: list[int]) -> None:
    x = np.array(xs, np.int64)
    values, inverse = small_unique(x)
    want_values, want_inverse = np.unique(x, return_inverse=True)
    assert np.array_equal(values, want_values) and np.array_equal(inverse, want_inverse)
