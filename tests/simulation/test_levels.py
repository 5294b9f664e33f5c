"""The traffic day's level rule: a flight's ends sit in its direction's layer of the
column (a quadrantal rule), so that opposite directions start and end apart."""

from __future__ import annotations

import h3
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from airgrid.airspace.grid import BLOCKING
from airgrid.simulation.demand import VoxelPicker, offset_point
from airgrid.simulation.schedule import LEVEL_SECTORS, direction_level

LAT0, LON0 = 28.2, 112.97


@pytest.mark.parametrize(
    "bearing_deg, sector", [(0, 0), (44, 0), (316, 0), (90, 1), (134, 1), (180, 2), (270, 3)]
)
def test_the_bearing_picks_its_quadrant(bearing_deg, sector):
    b = offset_point(LAT0, LON0, 10_000.0, np.radians(bearing_deg))
    assert direction_level((LAT0, LON0), b) == (sector + 0.5) / LEVEL_SECTORS


@given(st.integers(2, 40), st.floats(0, 359.9))
def test_opposite_directions_never_share_a_voxel_of_a_column_of_two_or_more(count, bearing):
    a = (LAT0, LON0)
    there = offset_point(LAT0, LON0, 8_000.0, np.radians(bearing))
    back = offset_point(LAT0, LON0, 8_000.0, np.radians(bearing + 180.0))
    go, come = direction_level(a, there), direction_level(a, back)
    assert min(int(go * count), count - 1) != min(int(come * count), count - 1)


def test_the_picker_takes_the_level_of_the_nearest_column(small_grid):
    grid = small_grid
    t = [x.name for x in grid.tiers].index("T2")
    picker = VoxelPicker(grid, "T2")
    usable = (grid.status & np.uint8(BLOCKING)) == 0
    sl = grid.tier_slice(t)
    # a T2 column with three usable voxels or more, checked independently
    for c in range(sl.start, sl.stop):
        col = np.arange(grid.cell_start[c], grid.cell_start[c] + grid.cell_nlayers[c])
        col = col[usable[col]]
        if len(col) >= 3:
            break
    else:
        pytest.skip("no T2 column with three usable voxels")
    lat, lon = h3.cell_to_latlng(h3.int_to_str(int(grid.cell_id[c])))
    floors = grid.floor[col]
    assert (np.diff(floors) > 0).all()  # the column's usable voxels, lowest first
    assert picker.nearest(lat, lon, 100.0, 0.0) == col[0]
    assert picker.nearest(lat, lon, 100.0, 0.999) == col[-1]
    assert picker.nearest(lat, lon, 100.0) == col[len(col) // 2]
    assert picker.nearest(lat, lon, 100.0, 0.5) == col[len(col) // 2]
