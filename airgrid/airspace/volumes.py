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
            raise VolumeError(f"a volume footprint must be a polygon, got {self.footprint.geom_type}")
        for v in (self.floor_m, self.ceiling_m, self.t_start, self.t_end):
            if not math.isfinite(v):
                raise VolumeError("volume limits must be finite numbers")
        if not self.floor_m < self.ceiling_m:
            raise VolumeError(f"floor {self.floor_m} m must be below ceiling {self.ceiling_m} m")
        if not self.t_start < self.t_end:
            raise VolumeError("a volume's start time must be before its end time")


def local_metric(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    """Forward and inverse transformers to a local azimuthal-equidistant plane (metres).

    Distances from the centre are exact; within 50 km of it, scale errors stay below
    0.01 %, so buffers computed there and grown by :data:`BUFFER_SAFETY` err outward.

    Built from the explicit PROJ pipelines (lon/lat degrees <-> aeqd on WGS84), which is
    exactly what ``Transformer.from_crs("EPSG:4326", <aeqd>, always_xy=True)`` resolves to,
    without its database look-up (about 0.3 ms instead of 20 ms per plane).
    """
    aeqd = f"+proj=aeqd +lat_0={lat:.8f} +lon_0={lon:.8f} +x_0=0 +y_0=0 +ellps=WGS84"
    return (
        Transformer.from_pipeline(f"+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step {aeqd}"),
        Transformer.from_pipeline(f"+proj=pipeline +step +inv {aeqd} +step +proj=unitconvert +xy_in=rad +xy_out=deg"),
    )


#: Relative growth added to every metric buffer so polygonal approximations of arcs
#: and local-projection scale error can only enlarge a protected area.
BUFFER_SAFETY = 1e-3
