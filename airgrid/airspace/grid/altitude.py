"""Altitude references at the edge: AMSL, AGL and WGS84 ellipsoidal height, to AMSL inside.

Inside airgrid every altitude is metres above mean sea level (AMSL). Requests may give
a point's altitude in three references:

* ``AMSL``: metres above mean sea level, taken as is;
* ``AGL``: metres above the ground, resolved over the **highest plausible ground**
  ``g_hi`` of the finest grid cell under the point, so the point is at least that
  high above the real ground (and at most ``g_hi - g_lo`` more);
* ``W84``: metres above the WGS84 ellipsoid (ASTM F3548, Remote ID, GNSS receivers),
  converted with the EGM96 geoid through PROJ (:mod:`airgrid.terrain.geoid`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from airgrid.airspace.errors import OutsideGridError

if TYPE_CHECKING:
    import shapely

    from airgrid.airspace.grid.voxels import Grid
    from airgrid.terrain.geoid import Geoid


class AltitudeReference(str, Enum):
    """What an altitude is measured from."""

    AMSL = "AMSL"  #: mean sea level (the DEM's datum)
    AGL = "AGL"  #: the ground below, resolved over its highest plausible height
    W84 = "W84"  #: the WGS84 ellipsoid


@dataclass(frozen=True)
class ResolvedAltitude:
    """An altitude turned into metres AMSL, and how.

    Attributes
    ----------
    alt_amsl_m
        The altitude above mean sea level.
    how
        One sentence naming the reference and what it was resolved against.
    """

    alt_amsl_m: float
    how: str


def resolve_altitude(
    value_m: float,
    reference: AltitudeReference | str,
    lat: float,
    lon: float,
    *,
    grid: Grid | None = None,
    geoid: Geoid | None = None,
) -> ResolvedAltitude:
    """An altitude in any :class:`AltitudeReference` as metres AMSL.

    Parameters
    ----------
    value_m
        The altitude in its own reference.
    reference
        ``AMSL``, ``AGL`` or ``W84``.
    lat, lon
        Where, WGS84 degrees.
    grid
        Needed for ``AGL``: its finest tier's cell under the point gives the ground.
    geoid
        Needed for ``W84``.

    Returns
    -------
    ResolvedAltitude

    Raises
    ------
    OutsideGridError
        ``AGL`` at a point outside every tier's cells.
    ValueError
        Unknown reference, non-finite value, or the model a reference needs is missing.
    airgrid.terrain.geoid.GeoidError
        ``W84`` outside the geoid grid.
    """
    ref = AltitudeReference(str(getattr(reference, "value", reference)).upper())
    if not math.isfinite(value_m):
        raise ValueError(f"altitude must be finite, got {value_m}")
    if ref is AltitudeReference.AMSL:
        return ResolvedAltitude(float(value_m), "AMSL as given")
    if ref is AltitudeReference.W84:
        if geoid is None:
            raise ValueError("W84 altitudes need a geoid model")
        n = float(geoid.undulation(lat, lon))
        return ResolvedAltitude(
            float(value_m) - n,
            f"W84 ellipsoidal height minus the EGM96 geoid undulation {n:.2f} m there",
        )
    if grid is None:
        raise ValueError("AGL altitudes need the grid's ground bounds")
    g_lo, g_hi = grid.ground_at(lat, lon)
    if math.isnan(g_hi):
        raise OutsideGridError(
            f"({lat}, {lon}) is outside the grid's area, where AGL cannot be resolved"
        )
    return ResolvedAltitude(
        g_hi + float(value_m),
        (
            f"AGL over the highest plausible ground {g_hi:.0f} m AMSL (lowest {g_lo:.0f} m): at least "
            f"{value_m:g} m and at most {value_m + g_hi - g_lo:.0f} m above the real ground"
        ),
    )


def band_to_amsl(
    floor_m: float,
    ceiling_m: float,
    reference: AltitudeReference | str,
    footprint: shapely.Geometry,
    *,
    grid: Grid | None = None,
    geoid: Geoid | None = None,
) -> tuple[float, float]:
    """A volume's altitude band in any reference as metres AMSL, grown on both sides.

    The band must contain every altitude the volume may mean anywhere over its
    footprint, because deconfliction reserves it:

    * ``AGL``: the floor over the lowest plausible ground ``g_lo`` and the ceiling over
      the highest ``g_hi`` of every grid cell (all tiers) overlapping the footprint;
    * ``W84``: the floor with the greatest geoid undulation over the footprint's box,
      the ceiling with the least, each widened by
      :data:`~airgrid.terrain.geoid.GEOID_GRID_ERROR_M`.

    Raises
    ------
    OutsideGridError
        ``AGL`` over a footprint with no grid cell under it.
    ValueError
        Unknown reference, or the model a reference needs is missing.
    airgrid.terrain.geoid.GeoidError
        ``W84`` outside the geoid grid.
    """
    from airgrid.airspace.grid.footprint import footprint_ground
    from airgrid.terrain.geoid import GEOID_GRID_ERROR_M

    ref = AltitudeReference(str(getattr(reference, "value", reference)).upper())
    if ref is AltitudeReference.AMSL:
        return float(floor_m), float(ceiling_m)
    if ref is AltitudeReference.W84:
        if geoid is None:
            raise ValueError("W84 altitudes need a geoid model")
        n_min, n_max = geoid.undulation_range(*footprint.bounds)
        return float(floor_m) - n_max - GEOID_GRID_ERROR_M, float(
            ceiling_m
        ) - n_min + GEOID_GRID_ERROR_M
    if grid is None:
        raise ValueError("AGL altitudes need the grid's ground bounds")
    lo, hi = footprint_ground(grid, footprint)
    if len(lo) == 0:
        raise OutsideGridError(
            "the volume's footprint is outside the grid's area, where AGL cannot be resolved"
        )
    return float(floor_m) + float(lo.min()), float(ceiling_m) + float(hi.max())


__all__ = ["AltitudeReference", "ResolvedAltitude", "band_to_amsl", "resolve_altitude"]
