"""Great-circle distances and bearings between points and H3 cells, and the angles
between bearings and between lines.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from h3.api import basic_int as h3i

from airgrid.airspace.grid import Grid
from airgrid.geo.constants import EARTH_RADIUS_M


def cell_latlng(cell_id: int) -> tuple[float, float]:
    """(lat, lon) in degrees of an H3 cell's centre."""
    return h3i.cell_to_latlng(int(cell_id))


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (m) between two points in degrees (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial great-circle bearing from point 1 to point 2, degrees in [0, 360)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


def cell_bearing(grid: Grid, c0: int, c1: int) -> float:
    """Initial bearing (degrees) from the centre of cell ``c0`` to that of ``c1`` (cell-table indices)."""
    la0, lo0 = h3i.cell_to_latlng(int(grid.cell_id[c0]))
    la1, lo1 = h3i.cell_to_latlng(int(grid.cell_id[c1]))
    return bearing_deg(la0, lo0, la1, lo1)


def bearing_angle(a: float, b: float) -> float:
    """Angle (degrees, 0-180) between two bearings."""
    d = abs(a - b) % 360.0
    return min(d, 360.0 - d)


def line_angle(a: float, b: float) -> float:
    """Angle (degrees, 0-90) between two lines given by bearings, whatever their sense."""
    d = bearing_angle(a, b)
    return min(d, 180.0 - d)


def segment_bearing(line: shapely.LineString, p: shapely.Point) -> float:
    """Bearing (degrees) of the segment of ``line`` that holds point ``p``."""
    xy = np.asarray(line.coords)[:, :2]
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    k = int(np.clip(np.searchsorted(cum, line.project(p), side="right") - 1, 0, len(xy) - 2))
    (x0, y0), (x1, y1) = xy[k], xy[k + 1]
    return bearing_deg(y0, x0, y1, x1)
