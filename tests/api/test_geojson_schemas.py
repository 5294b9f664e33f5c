"""GeoJSON polygons in answers: the batch form equals the one-by-one, validated form."""

from __future__ import annotations

import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from airgrid.api.http.schemas.common import PolygonGeometry


@st.composite
def _polygons(draw: st.DrawFn) -> shapely.Polygon:
    """A box, clockwise or not, with or without a box-shaped hole (clockwise or not)."""
    x = draw(st.floats(108.0, 114.0))
    y = draw(st.floats(24.0, 30.0))
    w = draw(st.floats(1e-4, 0.1))
    h = draw(st.floats(1e-4, 0.1))
    outer = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    if draw(st.booleans()):
        outer.reverse()
    holes = []
    if draw(st.booleans()):
        hole = [(x + w / 4, y + h / 4), (x + w / 2, y + h / 4), (x + w / 2, y + h / 2)]
        holes.append(hole[::-1] if draw(st.booleans()) else hole)
    return shapely.Polygon(outer, holes)


@settings(max_examples=60, deadline=None)
@given(st.lists(_polygons(), min_size=1, max_size=6))
def test_many_from_shapely_equals_from_shapely(polys: list[shapely.Polygon]) -> None:
    many = PolygonGeometry.many_from_shapely(polys)
    one = [PolygonGeometry.from_shapely(p) for p in polys]
    assert [m.model_dump_json() for m in many] == [o.model_dump_json() for o in one]
    # right-hand rule: exterior counter-clockwise, holes clockwise
    for m in many:
        rings = [shapely.LinearRing(r) for r in m.coordinates]
        assert rings[0].is_ccw and not any(r.is_ccw for r in rings[1:])
