"""The served-area rule of intents: answered from a raster of tiles wholly inside the
area where it can be, and always as the exact test (``shapely.covered_by``) answers."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from airgrid.airspace.grid import TierTable, build_grid
from airgrid.airspace.grid.areas import named_area
from airgrid.airspace.grid.served import covered_by_area, served_area
from airgrid.airspace.grid.voxels import Grid
from airgrid.terrain import Dem


@pytest.fixture(scope="module")
def district(real_dem: Dem) -> Grid:
    """A T4 grid over Tianxin district of Changsha (天心区 in the shipped county units):
    a real, irregular boundary."""
    return build_grid(named_area("天心区"), real_dem, TierTable().select(["T4"]))


#: A footprint: its centre (fractions of the area's bounds grown by a tenth on each
#: side), size (degrees) and shape.
footprint = st.tuples(
    st.floats(-0.1, 1.1),
    st.floats(-0.1, 1.1),
    st.floats(1e-6, 0.03),
    st.sampled_from(["disc", "box", "sliver"]),
)


def _footprints(area: shapely.Geometry, drawn: list[tuple]) -> np.ndarray:
    w, s, e, n = area.bounds
    out = []
    for fx, fy, size, shape in drawn:
        x, y = w + fx * (e - w), s + fy * (n - s)
        if shape == "disc":
            out.append(shapely.Point(x, y).buffer(size, 8))
        elif shape == "box":
            out.append(shapely.box(x - size, y - size, x + size, y + size))
        else:  # a tube piece: long and thin, slanted
            out.append(
                shapely.LineString([(x - size, y - size / 3), (x + size, y)]).buffer(size / 50)
            )
    return np.array(out, dtype=object)


@settings(max_examples=60, deadline=None)
@given(st.lists(footprint, min_size=1, max_size=60))
def test_the_rule_answers_as_the_exact_test(district: Grid, drawn: list[tuple]) -> None:
    area = served_area(district)
    fps = _footprints(area, drawn)
    assert np.array_equal(covered_by_area(district, fps), shapely.covered_by(fps, area))


def test_footprints_along_the_boundary_answer_as_the_exact_test(district: Grid) -> None:
    """Small discs centred on the boundary's own vertices (half inside, half out, and
    some just touching tile edges) and ones nudged inwards and outwards."""
    area = served_area(district)
    ring = shapely.get_coordinates(area.boundary)[::7]
    c = shapely.centroid(area)
    fps = []
    for x, y in ring:
        for k in (-0.02, 0.0, 0.02):  # towards the centroid, on the edge, away from it
            px, py = x + k * (c.x - x), y + k * (c.y - y)
            fps.append(shapely.Point(px, py).buffer(2e-4, 6))
    fps_a = np.array(fps, dtype=object)
    got = covered_by_area(district, fps_a)
    assert np.array_equal(got, shapely.covered_by(fps_a, area))
    assert got.any() and not got.all()


def test_empty_and_far_footprints_are_outside(district: Grid) -> None:
    fps = [shapely.Polygon(), shapely.box(0.0, 0.0, 1.0, 1.0)]
    assert covered_by_area(district, fps).tolist() == [False, False]
    assert covered_by_area(district, []).shape == (0,)
