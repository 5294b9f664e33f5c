"""Metric planes for footprints, and the buffer settings that make round shapes err outward.

Two kinds of plane serve the traffic layer: :func:`plane_for` gives the cached local
stereographic plane where the exact conflict test measures distances, and
:func:`flat_plane` an equirectangular plane that never overstates a distance, where key
covers are grown. Buffers in these planes are circumscribed polygons
(:data:`CIRCUMSCRIBE`, :data:`QUAD_SEGS`), so they contain the true round ones.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer

from airgrid.geo.constants import M_PER_DEG_LAT_MIN
from airgrid.geo.plane import local_metric, transform

#: Arcs of buffers use this many segments per quarter circle.
QUAD_SEGS = 8
#: Radius factor that makes a polygonal buffer *contain* the true round buffer: the
#: polygon's edges are tangent-outside the circle instead of chords inside it.
CIRCUMSCRIBE = 1.0 / math.cos(math.pi / (4 * QUAD_SEGS))
#: Footprints are densified to this edge length (degrees, ~1.1 km) before projection, so
#: an edge straight in lon/lat and the same edge straight in the plane differ by < 1 cm.
DENSIFY_DEG = 0.01
#: Local planes are shared by footprints whose centres round to the same multiple of this.
PLANE_QUANTUM_DEG = 0.2


@lru_cache(maxsize=256)
def _plane(qlon: float, qlat: float) -> tuple[Transformer, Transformer]:
    return local_metric(qlon, qlat)


def plane_for(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    """Cached local metric plane for a position (centre rounded to 0.2 degrees).

    Footprints are at most :data:`~airgrid.airspace.traffic.limits.MAX_FOOTPRINT_EXTENT_M`
    wide and candidates lie next to them, so everything projected lies within ~75 km of the
    plane's centre, where the plane overstates distances by at most 0.0034 % and never
    understates them (see :func:`~airgrid.geo.plane.local_metric`), inside
    :data:`~airgrid.geo.plane.BUFFER_SAFETY`.
    """
    q = PLANE_QUANTUM_DEG
    return _plane(round(round(lon / q) * q, 6), round(round(lat / q) * q, 6))


def to_plane(geoms: np.ndarray, fwd: Transformer) -> np.ndarray:
    """Project lon/lat geometries (densified first, so lon/lat edges stay faithful)."""
    return transform(fwd, shapely.segmentize(geoms, DENSIFY_DEG))


def check_latlon(lat: float, lon: float, err: type[Exception]) -> None:
    """Raise ``err`` unless ``lat`` and ``lon`` are finite numbers in range (degrees)."""
    for v in (lat, lon):
        if not isinstance(v, (int, float)) or not math.isfinite(v):
            raise err(f"coordinates must be finite numbers, got lat={lat!r} lon={lon!r}")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise err(f"lat {lat} / lon {lon} out of range")


def flat_plane(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Origin and per-degree scales of an equirectangular plane for ``geoms`` that never
    overstates a distance: scales are the shortest degree lengths over the bounding box
    (110 574 m of latitude; that times cos(max |lat|) of longitude), so the map is
    1-Lipschitz and buffering by ``r`` there covers every point within ``r`` true metres."""
    w, s, e, n = shapely.total_bounds(geoms)
    origin = np.array([(w + e) / 2, (s + n) / 2])
    coslat = max(math.cos(math.radians(max(abs(s), abs(n)))), 0.01)
    return origin, np.array([M_PER_DEG_LAT_MIN * coslat, M_PER_DEG_LAT_MIN])


__all__ = [
    "CIRCUMSCRIBE",
    "DENSIFY_DEG",
    "PLANE_QUANTUM_DEG",
    "QUAD_SEGS",
    "check_latlon",
    "flat_plane",
    "plane_for",
    "to_plane",
]
