"""4D volumes: a horizontal footprint, an altitude band (m AMSL) and a time window.

The common currency of geofences, flight intents and conflict checks. Footprints are
shapely polygons in WGS84 lon/lat; times are POSIX seconds (UTC).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import shapely

from airgrid.geo.errors import GeoError
from airgrid.geo.validation import check_time


class VolumeError(GeoError, ValueError):
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
