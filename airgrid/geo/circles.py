"""Circles and round buffers as polygons that contain the true shape.

A polygon with ``n`` vertices on a circle of radius ``r`` lies inside that circle (its
edges are chords). Putting the vertices at ``r / cos(pi / n)`` makes every edge tangent
to the circle of radius ``r`` from outside, so the polygon contains it; the extra
:data:`~airgrid.geo.plane.BUFFER_SAFETY` absorbs the local plane's scale error. Every
protected disc and grown footprint in airgrid is made here.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from airgrid.geo.plane import BUFFER_SAFETY, local_metric, transform


def outer_radius(radius_m: float, segments: int) -> float:
    """Vertex radius of a ``segments``-gon whose edges are tangent outside a circle of ``radius_m``.

    The overshoot is ``1 / cos(pi / segments) - 1``: 0.48 % at 32 segments, 0.03 % at 128.
    """
    return radius_m / math.cos(math.pi / segments)


def disc(lon: float, lat: float, radius_m: float, *, segments: int = 32) -> shapely.Polygon:
    """A lon/lat polygon that contains every point within ``radius_m`` metres of a centre.

    A ``segments``-gon (first vertex due east) of vertex radius
    ``outer_radius(radius_m * (1 + BUFFER_SAFETY), segments)`` in the local plane centred
    on the point: it errs outward by at most that factor, never inward.
    """
    rr = outer_radius(radius_m * (1.0 + BUFFER_SAFETY), segments)
    ang = np.arange(segments) * (2 * math.pi / segments)
    _, inv = local_metric(lon, lat)
    x, y = inv.transform(rr * np.cos(ang), rr * np.sin(ang))
    return shapely.Polygon(np.column_stack([x, y]))


def grow_in_plane(geoms, metres: float, *, quad_segs: int = 8):
    """Buffer planar geometries (metres) so the result contains the true round buffer.

    Round joins and caps are polygons with ``4 * quad_segs`` segments per circle, their
    vertices at :func:`outer_radius` of ``metres * (1 + BUFFER_SAFETY)``.
    """
    r = outer_radius(metres * (1.0 + BUFFER_SAFETY), 4 * quad_segs)
    return shapely.buffer(geoms, r, quad_segs=quad_segs)


def grow(geom: shapely.Geometry, metres: float, *, quad_segs: int = 4) -> shapely.Geometry:
    """A lon/lat geometry grown by ``metres``, containing the true buffer; ``metres <= 0`` returns it.

    The buffer is made in the local plane centred on the geometry's centroid
    (:func:`grow_in_plane`); the geometry should span at most about 150 km, where the
    plane's scale error stays under :data:`~airgrid.geo.plane.BUFFER_SAFETY`.
    """
    if metres <= 0:
        return geom
    c = geom.centroid
    fwd, inv = local_metric(c.x, c.y)
    return transform(inv, grow_in_plane(transform(fwd, geom), metres, quad_segs=quad_segs))
