"""InterUSS volumes as airgrid's: footprints, altitude bands in metres AMSL, time spans,
and the geospatial features (geofences) a set of filters selects.

Conversions err towards a larger volume, as everywhere in airgrid: a circle becomes a
polygon that contains it, and altitudes above the ellipsoid (``W84``) or the surface
(``SFC``) are resolved with :func:`~airgrid.airspace.grid.altitude.band_to_amsl`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import shapely

from airgrid.airspace.errors import AirspaceError
from airgrid.airspace.geofences.model import Category, Geofence
from airgrid.airspace.grid.altitude import band_to_amsl
from airgrid.api.http.errors import ApiError
from airgrid.api.http.interuss.schemas import (
    Altitude,
    MapAltitude,
    MapVolume3D,
    MapVolume4D,
    Volume3D,
    Volume4D,
)
from airgrid.api.http.routes.deps import Services
from airgrid.geo.circles import disc
from airgrid.geo.errors import GeoError
from airgrid.geo.volumes import Volume4D as GridVolume
from airgrid.terrain.errors import TerrainError

#: The InterUSS altitude references, as airgrid's.
REFERENCES = {"W84": "W84", "SFC": "AGL"}
#: Categories of geofence by the operational impact the geospatial map interface names.
IMPACTS = {
    "Block": frozenset({Category.PROHIBITED}),
    "Advise": frozenset({Category.AUTHORISATION_REQUIRED, Category.ADVISORY}),
    "BlockOrAdvise": frozenset(Category),
}


class VolumeError(ApiError, ValueError):
    """An InterUSS volume airgrid cannot use.

    Attributes
    ----------
    supported
        False when the volume is valid but uses something airgrid does not support
        (``Takeoff`` altitudes); True when it is unusable as given.
    """

    def __init__(self, detail: str, *, supported: bool = True) -> None:
        super().__init__(detail)
        self.supported = supported


def footprint(v: Volume3D | MapVolume3D, where: str) -> shapely.Polygon:
    """The lon/lat footprint of a volume (a circle becomes a polygon containing it).

    Raises
    ------
    VolumeError
        Neither or both outlines, a circle without centre or radius, an invalid polygon.
    """
    if (v.outline_polygon is None) == (v.outline_circle is None):
        raise VolumeError(f"{where}: give exactly one of outline_polygon and outline_circle")
    if v.outline_circle is not None:
        c = v.outline_circle
        if c.center is None or c.radius is None:
            raise VolumeError(f"{where}: outline_circle needs a center and a radius")
        try:
            return disc(c.center.lng, c.center.lat, c.radius.value)
        except (GeoError, ValueError) as exc:
            raise VolumeError(f"{where}: unusable circle: {exc}") from None
    assert v.outline_polygon is not None
    poly = shapely.Polygon([(p.lng, p.lat) for p in v.outline_polygon.vertices])
    if not poly.is_valid or poly.area <= 0:
        raise VolumeError(f"{where}: the polygon is self-intersecting or has no area")
    return poly


def _amsl(
    alt: Altitude | MapAltitude, fp: shapely.Geometry, services: Services
) -> tuple[float, float]:
    """The AMSL band one altitude may mean over a footprint."""
    if alt.reference not in REFERENCES:
        raise VolumeError(
            f"altitude reference {alt.reference!r} is not supported; use W84 or SFC",
            supported=False,
        )
    try:
        return band_to_amsl(
            alt.value,
            alt.value,
            REFERENCES[alt.reference],
            fp,
            grid=services.grid,
            geoid=services.geoid,
        )
    except (AirspaceError, TerrainError, ValueError) as exc:
        raise VolumeError(f"altitude {alt.value} m {alt.reference}: {exc}") from None


def band(v: Volume3D, fp: shapely.Geometry, services: Services, where: str) -> tuple[float, float]:
    """A volume's floor and ceiling in metres AMSL.

    Raises
    ------
    VolumeError
        A limit missing, a ``Takeoff`` reference, a limit outside the grid or the geoid,
        or a floor above the ceiling.
    """
    if v.altitude_lower is None or v.altitude_upper is None:
        raise VolumeError(f"{where}: airgrid needs altitude_lower and altitude_upper")
    floor = _amsl(v.altitude_lower, fp, services)[0]
    ceiling = _amsl(v.altitude_upper, fp, services)[1]
    if floor >= ceiling:
        raise VolumeError(f"{where}: altitude_lower is not below altitude_upper")
    return floor, ceiling


def window(v: Volume4D, now: float, where: str) -> tuple[float, float]:
    """A volume's start (``now`` when unset) and end, POSIX seconds.

    Raises
    ------
    VolumeError
        No end, or an end not after the start.
    """
    t0 = now if v.time_start is None else v.time_start.value.timestamp()
    if v.time_end is None:
        raise VolumeError(f"{where}: airgrid needs time_end")
    t1 = v.time_end.value.timestamp()
    if t1 <= t0:
        raise VolumeError(f"{where}: time_end is not after time_start")
    return t0, t1


def grid_volumes(
    area: Iterable[Volume4D], services: Services, now: float
) -> tuple[GridVolume, ...]:
    """airgrid volumes (AMSL, POSIX seconds) of InterUSS volumes.

    Raises
    ------
    VolumeError
        A volume airgrid cannot use (see :func:`footprint`, :func:`band`, :func:`window`).
    """
    out = []
    for i, v in enumerate(area):
        where = f"volume {i}"
        fp = footprint(v.volume, where)
        out.append(GridVolume(fp, *band(v.volume, fp, services, where), *window(v, now, where)))
    return tuple(out)


@dataclass(frozen=True)
class Extent:
    """A queried volume: a footprint, an AMSL band and, when given, a time span."""

    footprint: shapely.Geometry
    floor_m: float
    ceiling_m: float
    span: tuple[float, float] | None


def extent(v: Volume4D | MapVolume4D, services: Services, where: str) -> Extent:
    """A volume as a query extent: its altitudes and times are optional (unbounded).

    Raises
    ------
    VolumeError
        An unusable outline or altitude.
    """
    fp = footprint(v.volume, where)
    lo, hi = -math.inf, math.inf
    if v.volume.altitude_lower is not None:
        lo = _amsl(v.volume.altitude_lower, fp, services)[0]
    if v.volume.altitude_upper is not None:
        hi = _amsl(v.volume.altitude_upper, fp, services)[1]
    span = None
    if v.time_start is not None and v.time_end is not None:
        span = (v.time_start.value.timestamp(), v.time_end.value.timestamp())
    return Extent(fp, lo, hi, span)


@dataclass(frozen=True)
class FeatureFilter:
    """What a geospatial feature (a geofence) must meet to be selected; ``None`` selects all.

    Attributes
    ----------
    point
        A lon/lat point its footprint must cover.
    altitude
        An AMSL band (a position's altitude, resolved) its band must overlap.
    volumes
        Extents one of which it must meet in footprint, band and (when given) active time.
    span
        A time span it must be active at some time in.
    sources
        Names one of which must be its data source, source id or authority.
    categories
        Categories (operational impact) it must be of.
    """

    point: shapely.Point | None = None
    altitude: tuple[float, float] | None = None
    volumes: tuple[Extent, ...] | None = None
    span: tuple[float, float] | None = None
    sources: frozenset[str] | None = None
    categories: frozenset[Category] | None = None


def data_source_of(identifier: str) -> str:
    """The geospatial data source a geofence was loaded from (its identifier's prefix)."""
    return identifier.split(".", 1)[0] if "." in identifier else ""


def selects(f: FeatureFilter, g: Geofence, band_: tuple[float, float]) -> bool:
    """Whether filter ``f`` selects geofence ``g`` (whose AMSL band is ``band_``)."""
    if f.categories is not None and g.category not in f.categories:
        return False
    if f.sources is not None and not (
        {data_source_of(g.identifier), g.source_id, g.authority} & f.sources
    ):
        return False
    if f.point is not None and not g.footprint.covers(f.point):
        return False
    if f.altitude is not None and not (band_[0] <= f.altitude[1] and f.altitude[0] <= band_[1]):
        return False
    if f.span is not None and not g.active_intervals(*f.span):
        return False
    if f.volumes is not None:
        return any(
            v.floor_m <= band_[1]
            and band_[0] <= v.ceiling_m
            and g.footprint.intersects(v.footprint)
            and (v.span is None or bool(g.active_intervals(*v.span)))
            for v in f.volumes
        )
    return True


def position_band(
    alt: MapAltitude, point: shapely.Point, services: Services
) -> tuple[float, float]:
    """The AMSL band a position's altitude may mean (a point: its conservative resolution)."""
    return _amsl(alt, point.buffer(1e-6), services)
