"""4D volumes: a horizontal footprint, an altitude band (m AMSL) and a time window.

The common currency of geofences, flight intents and conflict checks. Footprints are
shapely polygons in WGS84 lon/lat; times are POSIX seconds (UTC).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import shapely
from pyproj import Transformer

from airgrid.airspace.errors import AirspaceError
from airgrid.airspace.validation import check_time


class VolumeError(AirspaceError, ValueError):
    """A 4D volume is malformed."""


@dataclass(frozen=True)
class Volume4D:
    """A footprint extruded between two altitudes over a time window.

    Attributes
    ----------
    footprint
        Polygon (or MultiPolygon) in lon/lat degrees.
    floor_m, ceiling_m
        Altitude band in metres above mean sea level, ``floor_m < ceiling_m``.
    t_start, t_end
        Time window, POSIX seconds, ``t_start < t_end``.
    """

    footprint: shapely.Geometry
    floor_m: float
    ceiling_m: float
    t_start: float
    t_end: float

    def __post_init__(self) -> None:
        if self.footprint is None or self.footprint.is_empty:
            raise VolumeError("a volume needs a non-empty footprint")
        if self.footprint.geom_type not in ("Polygon", "MultiPolygon"):
            raise VolumeError(
                f"a volume footprint must be a polygon, got {self.footprint.geom_type}"
            )
        for v in (self.floor_m, self.ceiling_m, self.t_start, self.t_end):
            if not math.isfinite(v):
                raise VolumeError("volume limits must be finite numbers")
        if not self.floor_m < self.ceiling_m:
            raise VolumeError(f"floor {self.floor_m} m must be below ceiling {self.ceiling_m} m")
        if not self.t_start < self.t_end:
            raise VolumeError("a volume's start time must be before its end time")
        check_time(self.t_start, "a volume's start", VolumeError)
        check_time(self.t_end, "a volume's end", VolumeError)


def local_metric(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    """Forward and inverse transformers to a local conformal plane (metres) centred on a point.

    The plane is PROJ's oblique (double) stereographic projection of the WGS84 ellipsoid
    with scale 1 at the centre. Its scale is smallest there and grows with the distance
    ``s`` from the centre as about ``1 + (s / 2R)^2``: planar distances never understate
    true (geodesic) ones and overstate them by at most 0.0034 % within 75 km of the
    centre and 0.014 % within 150 km (checked against ``pyproj.Geod`` in the tests), so
    buffers computed in the plane and grown by :data:`BUFFER_SAFETY` contain their true
    counterparts, and distance tests with that margin cannot miss a true contact.

    Chosen over the azimuthal-equidistant plane (exact distances from the centre, a
    similar bound elsewhere) because PROJ projects a vertex about 4 times faster with it, which
    is most of the cost of an exact conflict test. Built from explicit PROJ pipelines,
    without the CRS database look-up (about 0.3 ms instead of 20 ms per plane).
    """
    plane = f"+proj=sterea +lat_0={lat:.8f} +lon_0={lon:.8f} +k_0=1 +x_0=0 +y_0=0 +ellps=WGS84"
    return (
        Transformer.from_pipeline(
            f"+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step {plane}"
        ),
        Transformer.from_pipeline(
            f"+proj=pipeline +step +inv {plane} +step +proj=unitconvert +xy_in=rad +xy_out=deg"
        ),
    )


#: Relative growth added to every metric buffer so polygonal approximations of arcs
#: and local-projection scale error can only enlarge a protected area.
BUFFER_SAFETY = 1e-3
