"""Density counts against a brute-force count: every volume's exact H3 overlap cover and
its exact intersection areas with the hexagons (shapely), in plain loops."""

from __future__ import annotations

import math
from collections import defaultdict

import h3
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, mapping

from airgrid.airspace.grid.tiers import TierTable
from airgrid.analytics.apportion import apportion, footprint_areas_m2
from airgrid.analytics.density import ConflictPoints, Traffic, Window, density
from airgrid.analytics.errors import AnalyticsInputError
from airgrid.data import DEFAULT_TIER_FILE
from airgrid.geo.volumes import Volume4D

TIERS = TierTable.from_toml(DEFAULT_TIER_FILE)
T2 = TIERS[TIERS.index("T2")]
T0 = 1_800_000_000.0


def small_traffic(n: int, seed: int) -> list[list[Volume4D]]:
    """Intents of one to three consecutive tube pieces or a disc, near Changsha."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x, y = 112.97 + rng.uniform(-0.01, 0.01), 28.2 + rng.uniform(-0.01, 0.01)
        t = T0 + rng.uniform(-600, 3_000)
        if rng.random() < 0.3:
            fp = Point(x, y).buffer(rng.uniform(0.0005, 0.003), quad_segs=8)
            out.append([Volume4D(fp, 250.0, 290.0, t, t + rng.uniform(60, 1_500))])
            continue
        a = rng.uniform(0, 2 * math.pi)
        vols = []
        for k in range(int(rng.integers(1, 4))):
            p0 = (x + 0.006 * k * math.cos(a), y + 0.006 * k * math.sin(a))
            p1 = (x + 0.006 * (k + 1) * math.cos(a), y + 0.006 * (k + 1) * math.sin(a))
            fp = LineString([p0, p1]).buffer(rng.uniform(0.0003, 0.001), quad_segs=4)
            vols.append(Volume4D(fp, 240.0, 280.0, t + 200 * k, t + 200 * (k + 1)))
        out.append(vols)
    return out


def brute_force(intents, tier, window):
    """(cell, bin) -> (owners touching, owners with >= 5 % of the cell, volume-seconds)."""
    touching, solid, vs = defaultdict(set), defaultdict(set), defaultdict(float)
    for owner, vols in enumerate(intents):
        for v in vols:
            scale = footprint_areas_m2(np.array([v.footprint], dtype=object))[0] / v.footprint.area
            cover = h3.h3shape_to_cells_experimental(
                h3.geo_to_h3shape(mapping(v.footprint)), tier.resolution, contain="overlap"
            )
            for cell in cover:
                hexagon = shapely.Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(cell)])
                area = v.footprint.intersection(hexagon).area * scale
                if area <= 0:
                    continue
                for b in range(window.n_bins):
                    b0 = window.start + b * window.bin_s
                    b1 = min(b0 + window.bin_s, window.end)
                    secs = min(v.t_end, b1) - max(v.t_start, b0)
                    if secs <= 0:
                        continue
                    key = (h3.str_to_int(cell), b)
                    touching[key].add(owner)
                    if area >= 0.05 * h3.cell_area(cell, "m^2"):
                        solid[key].add(owner)
                    vs[key] += area * (v.ceiling_m - v.floor_m) * secs
    return touching, solid, vs


@pytest.mark.parametrize("seed", [1, 2])
def test_counts_and_occupancy_match_a_brute_force_count(seed: int) -> None:
    intents = small_traffic(40, seed)
    window = Window(T0, T0 + 3_000.0, 600.0)
    got = density(Traffic.of(intents), T2, window, samples_per_edge=8.0).table
    touching, solid, vs = brute_force(intents, T2, window)
    assert len(got) > 20
    rows = {(int(r.cell), int(r.bin)): r for r in got.itertuples()}
    assert set(rows) <= set(touching)  # never a cell the traffic does not touch
    for key, owners in touching.items():
        count = rows[key].count if key in rows else 0
        assert len(solid[key]) <= count <= len(owners), key
    band = T2.upper_m - T2.lower_m
    total = 0.0
    for key, r in rows.items():
        cell_vs = h3.cell_area(h3.int_to_str(key[0]), "m^2") * band * window.bin_s
        assert r.occupancy == pytest.approx(vs[key] / cell_vs, rel=0.3, abs=0.003), key
        total += r.occupancy * cell_vs
    # apportioning moves volume-seconds between cells but never loses or adds any
    assert total == pytest.approx(sum(vs.values()), rel=1e-9)


def test_apportioned_areas_sum_to_each_footprint() -> None:
    fps = np.array([v.footprint for vs in small_traffic(30, 5) for v in vs], dtype=object)
    ap = apportion(fps, 9)
    sums = np.bincount(ap.footprint, weights=ap.area_m2, minlength=len(fps))
    np.testing.assert_allclose(sums, footprint_areas_m2(fps), rtol=1e-9)
    assert (ap.area_m2 > 0).all()


def test_a_footprint_thinner_than_the_lattice_lands_in_its_own_cell() -> None:
    thin = Point(112.97, 28.2).buffer(0.00001)
    ap = apportion(np.array([thin], dtype=object), 9)
    assert ap.cell.tolist() == [h3.str_to_int(h3.latlng_to_cell(28.2, 112.97, 9))]


def test_a_holed_footprint_leaves_its_hole_empty() -> None:
    ring = Point(112.97, 28.2).buffer(0.02).difference(Point(112.97, 28.2).buffer(0.012))
    ap = apportion(np.array([ring], dtype=object), 9)
    centre = h3.str_to_int(h3.latlng_to_cell(28.2, 112.97, 9))
    assert centre not in ap.cell.tolist() and len(ap.cell) > 50


def test_conflicts_and_refusals_land_in_their_cells_and_bins() -> None:
    intents = small_traffic(5, 3)
    window = Window(T0, T0 + 1_800.0, 600.0)
    disc = Point(112.9, 28.1).buffer(0.0002)
    refused = Traffic.of([[Volume4D(disc, 250.0, 280.0, T0 + 700, T0 + 1_300)]])
    pts = ConflictPoints(
        np.array([28.1]), np.array([112.9]), np.array([T0 + 650]), np.array([T0 + 1_200])
    )
    got = density(Traffic.of(intents), T2, window, refused=refused, conflicts=pts).table
    cell = h3.str_to_int(h3.latlng_to_cell(28.1, 112.9, 9))
    here = got[got["cell"] == cell].set_index("bin")
    assert here["refusals"].to_dict() == {1: 1, 2: 1}
    assert here["conflicts"].to_dict() == {1: 1, 2: 1}
    assert (here["count"] == 0).all()


def test_windows_are_checked() -> None:
    with pytest.raises(AnalyticsInputError):
        Window(T0, T0, 60.0)
    with pytest.raises(AnalyticsInputError):
        Window(T0, T0 + 60, 0.0)
    assert Window(T0, T0 + 601, 300).n_bins == 3
