"""The default grid (Changsha prefecture, all tiers, the 30" DEM) as `airgrid build` makes it."""

from __future__ import annotations

import numpy as np
import pytest

from airgrid.airspace.grid import Grid, TierTable, build_grid, named_area
from airgrid.terrain import Dem
from tests.airspace.test_grid import assert_no_overlap, assert_two_sided
from tests.conftest import DATA


@pytest.fixture(scope="module")
def default_grid(real_dem: Dem) -> Grid:
    return build_grid(named_area("changsha"), real_dem, TierTable.from_toml(DATA / "tiers.toml"))


def test_every_usable_voxel_is_in_its_band_on_both_sides(default_grid: Grid) -> None:
    assert default_grid.n_voxels > 100_000
    assert_two_sided(default_grid)


def test_no_two_voxels_overlap_over_a_corner_of_it(real_dem: Dem) -> None:
    # brute force over every cross-tier pair of a hilly corner (Yuelu Mountain and the Xiang)
    from airgrid.airspace.grid import area_from_bbox

    assert_no_overlap(
        build_grid(area_from_bbox(112.90, 28.15, 112.99, 28.21), real_dem, TierTable())
    )


def test_downtown_changsha_has_t2_below_350_m(default_grid: Grid) -> None:
    # issue #11: over downtown Changsha some altitude at or below 350 m AMSL is a usable T2 voxel
    t2 = [t.name for t in default_grid.tiers].index("T2")
    found = []
    for lat, lon in ((28.196, 112.977), (28.2, 112.97), (28.19, 113.0)):
        for alt in np.arange(100.0, 351.0, 5.0):
            loc = default_grid.locate(lat, lon, float(alt))
            if loc.voxel >= 0 and loc.usable and loc.tier == t2:
                found.append((lat, lon, float(alt)))
                break
    assert len(found) == 3, found


def test_the_summary_reports_where_each_tier_exists(default_grid: Grid) -> None:
    rows = {r["tier"]: r for r in default_grid.tier_summary()}
    assert set(rows) == {"T1", "T2", "T3", "T4"}
    for r in rows.values():
        assert 0.0 <= r["exists_share"] <= 1.0 and r["span_m_median"] > 0
    # T2 exists over a real share of the prefecture; T1's 120 m band fits only where the ground is well known
    assert (
        rows["T2"]["exists_share"] > 0.2 and rows["T1"]["exists_share"] < rows["T2"]["exists_share"]
    )
    assert sum(default_grid.meta["cells_lost_to_envelope"]) == sum(
        r["cells_lost_to_envelope"] for r in rows.values()
    )
