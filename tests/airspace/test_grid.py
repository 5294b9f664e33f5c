"""The tiered grid: cover, placement, non-overlap, lookups, persistence."""

from __future__ import annotations

import h3
import numpy as np
import pytest
import shapely
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airgrid.airspace.errors import (
    AreaError,
    AreaTooLargeError,
    GridFileError,
    OutsideGridError,
    VoxelIdError,
)
from airgrid.airspace.grid import (
    Grid,
    Status,
    TierTable,
    area_from_bbox,
    area_from_geojson,
    build_grid,
    named_area,
)
from airgrid.airspace.grid.tiers import tier_layers
from airgrid.terrain import Dem, DemAccuracy


def cell_poly(c: int) -> shapely.Polygon:
    return shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(h3.int_to_str(int(c)))])


def assert_no_overlap(g: Grid) -> None:
    """Brute force: any two cells of different tiers whose footprints share area have
    disjoint altitude ranges (same-tier cells never share area: H3 tiles the sphere)."""
    polys = [cell_poly(c) for c in g.cell_id]
    tree = shapely.STRtree(polys)
    a, b = tree.query(polys, predicate="intersects")
    keep = (g.cell_tier[a] != g.cell_tier[b]) & (a < b)
    a, b = a[keep], b[keep]
    shared = np.array([polys[i].intersection(polys[j]).area for i, j in zip(a, b)])
    a, b = a[shared > 1e-14], b[shared > 1e-14]
    assert len(a) > 0  # the test must see cross-tier neighbours
    thick = np.array([t.thickness_m for t in g.tiers])
    lo = g.cell_first_layer * thick[g.cell_tier]
    hi = (g.cell_first_layer + g.cell_nlayers) * thick[g.cell_tier]
    has = (g.cell_nlayers[a] > 0) & (g.cell_nlayers[b] > 0)
    disjoint = (hi[a] <= lo[b] + 1e-6) | (hi[b] <= lo[a] + 1e-6)
    assert np.all(disjoint | ~has)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), relief=st.floats(10, 3000))
def test_no_two_voxels_overlap_on_rugged_terrain(seed: int, relief: float) -> None:
    rng = np.random.default_rng(seed)
    data = (rng.random((60, 60)) * relief).astype(np.float32)
    dem = Dem(
        data, Affine(0.001, 0, 112.97, 0, -0.001, 28.23), 4326, accuracy=DemAccuracy(5, 0.5, 5, 0.5)
    )
    tiers = TierTable().select(["T1", "T2", "T3"])
    g = build_grid(area_from_bbox(112.985, 28.19, 113.01, 28.215), dem, tiers)
    assert_no_overlap(g)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_neighbouring_columns_share_a_layer(seed: int) -> None:
    # a 200 m rise over 6 km of 100 m pixels, well known to the DEM (2 m margins):
    # the ceiling rule leaves room everywhere, and the envelope keeps the tiers together
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0.0, 200.0, 60, dtype=np.float32)[None, :] + np.zeros((60, 1), np.float32)
    data = ramp + (rng.random((60, 60)) * 3).astype(np.float32)
    dem = Dem(
        data, Affine(0.001, 0, 112.97, 0, -0.001, 28.23), 4326, accuracy=DemAccuracy(2, 0.5, 2, 0.5)
    )
    g = build_grid(
        area_from_bbox(112.985, 28.19, 113.01, 28.215), dem, TierTable().select(["T1", "T2", "T3"])
    )
    assert g.meta["cells_lost_to_envelope"] == [0, 0, 0]
    assert np.all(g.cell_nlayers > 0)
    for t in range(len(g.tiers)):
        sl = g.tier_slice(t)
        for ci in range(sl.start, sl.stop, 3):
            ring = np.array(
                [h3.str_to_int(c) for c in h3.grid_ring(h3.int_to_str(int(g.cell_id[ci])), 1)]
            )
            for nj in g.find_cells(ring, t):
                if nj < 0:
                    continue
                lo = max(g.cell_first_layer[ci], g.cell_first_layer[nj])
                hi = min(
                    g.cell_first_layer[ci] + g.cell_nlayers[ci],
                    g.cell_first_layer[nj] + g.cell_nlayers[nj],
                )
                assert lo < hi, (t, ci, nj)
    torn = build_grid(
        area_from_bbox(112.985, 28.19, 113.01, 28.215),
        dem,
        TierTable().select(["T1"]),
        continuity=False,
    )
    assert torn.meta["band_slopes"] == [None]


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_ceiling_rule_wins_over_the_envelope(seed: int) -> None:
    # cliffs of up to 800 m between 100 m pixels: where the envelope's floor and the
    # ceiling over the lowest ground leave no layer, the tier is absent, and counted
    rng = np.random.default_rng(seed)
    data = (rng.random((60, 60)) * 800).astype(np.float32)
    dem = Dem(
        data, Affine(0.001, 0, 112.97, 0, -0.001, 28.23), 4326, accuracy=DemAccuracy(5, 0.5, 5, 0.5)
    )
    g = build_grid(
        area_from_bbox(112.985, 28.19, 113.01, 28.215), dem, TierTable().select(["T1", "T2", "T3"])
    )
    assert_two_sided(g)
    for t, tier in enumerate(g.tiers):
        sl = g.tier_slice(t)
        raw = tier_layers(tier, g.cell_g_hi[sl], g.cell_g_lo[sl])[1]
        assert g.meta["cells_lost_to_envelope"][t] == int(
            np.count_nonzero((g.cell_nlayers[sl] == 0) & (raw > 0))
        )


def assert_two_sided(g: Grid) -> None:
    """Every usable voxel is certain on both sides over its own cell:
    floor >= g_hi + max(lower, clearance) and ceiling <= g_lo + upper."""
    lower = np.array([t.lower_m for t in g.tiers])
    upper = np.array([t.upper_m for t in g.tiers])
    vt = g.tier.astype(int)
    usable = g.usable()
    g_hi = g.cell_g_hi[g.voxel_cell].astype(np.float64)
    g_lo = g.cell_g_lo[g.voxel_cell].astype(np.float64)
    need = g_hi + np.maximum(lower[vt], g.tiers.clearance_m)
    assert np.all(g.floor[usable] >= need[usable] - 1e-3)
    assert np.all(g.ceiling <= g_lo + upper[vt] + 1e-3)


def test_no_overlap_real_dem(small_grid: Grid) -> None:
    assert_no_overlap(small_grid)


def test_tier_membership_and_clearance(small_grid: Grid) -> None:
    g = small_grid
    thick = np.array([t.thickness_m for t in g.tiers])
    lower = np.array([t.lower_m for t in g.tiers])
    upper = np.array([t.upper_m for t in g.tiers])
    vt = g.tier.astype(int)
    band = g.cell_band_ground[g.voxel_cell]
    assert np.all(g.floor >= band + lower[vt] - 1e-3)
    assert np.all(g.ceiling <= g.cell_g_lo[g.voxel_cell] + upper[vt] + 1e-3)
    assert_two_sided(g)
    np.testing.assert_allclose(g.ceiling - g.floor, thick[vt])
    np.testing.assert_allclose(g.floor, g.layer * thick[vt])
    blocked = (g.status & Status.TERRAIN) != 0
    assert np.array_equal(blocked, g.floor < g.g_hi + g.tiers.clearance_m)
    assert np.all(g.cell_band_ground >= g.cell_g_hi)
    assert np.all(g.cell_g_hi >= g.cell_dem_max)
    assert np.all(g.cell_g_lo <= g.cell_dem_min)


def test_t1_has_blocked_bottom_layers(real_dem: Dem) -> None:
    # flat ground by Dongting Lake (~20 m AMSL), where the ground is certain enough for T1 to exist
    # (over downtown Changsha it is not)
    g = build_grid(
        area_from_bbox(112.89, 29.29, 112.91, 29.31), real_dem, TierTable().select(["T1"])
    )
    assert (g.cell_nlayers > 0).all()
    blocked = (g.status & Status.TERRAIN) != 0
    assert blocked.any() and (~blocked).any()
    # within a column, blocked voxels are exactly the lowest ones
    for ci in range(0, g.n_cells, 97):
        s, e = g.cell_start[ci], g.cell_start[ci + 1]
        col = blocked[s:e]
        assert np.all(np.diff(col.astype(int)) <= 0)


def test_cell_count_equals_h3_overlap_cover(real_dem: Dem) -> None:
    area = named_area("changsha")
    g = build_grid(area, real_dem, TierTable().select(["T3"]))
    want = h3.h3shape_to_cells_experimental(
        h3.geo_to_h3shape(area.to_geojson()), 8, contain="overlap"
    )
    assert g.n_cells == len(want)
    assert set(g.cell_id.tolist()) == {h3.str_to_int(c) for c in want}
    # the overlap cover is a superset of the centre cover
    centre = h3.h3shape_to_cells(h3.geo_to_h3shape(area.to_geojson()), 8)
    assert set(centre) <= set(want)


def test_parent_links(small_grid: Grid) -> None:
    g = small_grid
    for t in range(len(g.tiers) - 1):
        sl = g.tier_slice(t)
        idx = np.arange(sl.start, sl.stop)[::37]
        for ci in idx:
            p = g.cell_parent[ci]
            want = h3.cell_to_parent(h3.int_to_str(int(g.cell_id[ci])), g.tiers[t + 1].resolution)
            if p >= 0:
                assert h3.int_to_str(int(g.cell_id[p])) == want and g.cell_tier[p] == t + 1
            else:
                assert h3.str_to_int(want) not in set(g.cell_id[g.tier_slice(t + 1)].tolist())


def test_voxel_id_round_trip(small_grid: Grid) -> None:
    g = small_grid
    for v in np.random.default_rng(3).integers(0, g.n_voxels, 200):
        vid = g.voxel_id(int(v))
        assert g.parse_voxel_id(vid) == v
        cell, layer = vid.split(":")
        assert (
            h3.get_resolution(cell) == g.tiers[int(g.tier[v])].resolution
            and int(layer) == g.layer[v]
        )


@pytest.mark.parametrize(
    "bad, err",
    [
        ("nonsense", VoxelIdError),
        ("8941aa:3", VoxelIdError),
        ("894189008d3ffff:x", VoxelIdError),
        ("894189008d3ffff:99999", OutsideGridError),
        ("8a4189008d37fff:1", OutsideGridError),
    ],
)
def test_bad_voxel_ids(small_grid: Grid, bad: str, err: type) -> None:
    with pytest.raises(err):
        small_grid.parse_voxel_id(bad)


def test_locate_matches_voxel_table(small_grid: Grid) -> None:
    g = small_grid
    rng = np.random.default_rng(4)
    for v in rng.integers(0, g.n_voxels, 100):
        lat, lon = h3.cell_to_latlng(h3.int_to_str(int(g.cell[v])))
        alt = float(g.floor[v]) + 0.5 * float(g.ceiling[v] - g.floor[v])
        loc = g.locate(lat, lon, alt)
        assert loc.voxel == v and loc.usable == (g.status[v] & Status.TERRAIN == 0)
    low = g.locate(28.2, 112.97, 0.0)
    assert low.voxel == -1 and "below" in low.reason
    assert "above" in g.locate(28.2, 112.97, 20000.0).reason
    # every altitude between the lowest floor and the highest top is a voxel or a named gap
    for alt in np.arange(0.0, 4000.0, 7.0):
        loc = g.locate(28.2, 112.97, float(alt))
        assert loc.voxel >= 0 or any(w in loc.reason for w in ("below", "between", "above"))
    assert "outside" in g.locate(30.0, 110.0, 500.0).reason
    with pytest.raises(OutsideGridError):
        g.locate(float("nan"), 112.0, 100.0)


def test_save_and_load(tmp_path, small_grid: Grid) -> None:
    small_grid.save(tmp_path / "g")
    g = Grid.load(tmp_path / "g")
    # memory-mapped, read-only, seen as a plain array (no memmap Python code per index)
    assert type(g.cell) is np.ndarray and isinstance(g.cell.base, np.memmap)
    assert not g.cell.flags.writeable and g.status.flags.writeable
    for k in (
        "cell",
        "layer",
        "floor",
        "ceiling",
        "g_hi",
        "tier",
        "status",
        "cell_id",
        "cell_start",
        "cell_g_lo",
    ):
        np.testing.assert_array_equal(getattr(g, k), getattr(small_grid, k))
    assert g.tiers == small_grid.tiers
    g.status[0] |= Status.CORRIDOR  # status is writable in memory, the file is untouched
    assert Grid.load(tmp_path / "g").status[0] == small_grid.status[0]


def test_load_errors(tmp_path, small_grid: Grid) -> None:
    with pytest.raises(GridFileError, match="airgrid build"):
        Grid.load(tmp_path / "nothing")
    small_grid.save(tmp_path / "g")
    (tmp_path / "g" / "floor.npy").unlink()
    with pytest.raises(GridFileError, match="floor"):
        Grid.load(tmp_path / "g")


def test_areas(tmp_path) -> None:
    assert named_area("长沙市").geometry.equals(named_area("changsha").geometry)
    assert named_area("430104").name == "岳麓区"
    assert named_area("hunan").bounds[0] == pytest.approx(108.78, abs=0.01)
    with pytest.raises(AreaError, match="unknown area"):
        named_area("atlantis")
    with pytest.raises(AreaError):
        area_from_bbox(113, 28, 112, 29)
    bow = {
        "type": "Polygon",
        "coordinates": [[[112, 28], [113, 29], [113, 28], [112, 29], [112, 28]]],
    }
    with pytest.raises(AreaError, match="invalid"):
        area_from_geojson(bow)
    with pytest.raises(AreaError, match="Polygon"):
        area_from_geojson({"type": "Point", "coordinates": [112, 28]})


def test_area_too_large(real_dem: Dem) -> None:
    with pytest.raises(AreaTooLargeError) as e:
        build_grid(named_area("changsha"), real_dem, TierTable().select(["T2"]), max_cells=1000)
    assert isinstance(e.value, ValueError)


def test_split_cover_equals_whole(monkeypatch) -> None:
    from airgrid.airspace.grid import areas

    area = named_area("xiangtan")
    direct = {
        h3.str_to_int(c)
        for c in h3.h3shape_to_cells_experimental(
            h3.geo_to_h3shape(area.to_geojson()), 9, contain="overlap"
        )
    }
    monkeypatch.setattr(areas, "SPLIT_MIN_CELLS", 0)
    split = areas.cover_cells(area, 9, workers=2)
    assert set(split.tolist()) == direct and len(split) == len(direct)
