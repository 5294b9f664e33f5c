"""Default Hunan geofences: a runway-aligned protection capsule around every open airport.

Shape
-----
Chinese airport protection areas are drawn as a *capsule* aligned with the runway:
arcs of radius ``R`` centred on both runway thresholds, joined by the tangents
parallel to the runway, which is the buffer of the runway centreline segment by
``R`` (for several runways, the union of their capsules). Published local airport
protection rules use, for example, ``R = 13 km`` for the electromagnetic
environment protection area of a class 4D airport (the regulation text itself is not in
``airgrid/data/``). ``R``, the limits and the category are
parameters of :func:`airport_zones`.

Defaults: ``R = 13 km``; from the ground (0 m AGL) to 1000 m AGL, the top of
"low-altitude airspace" in CAAC usage (the top of tier T4); category prohibited;
permanent.

Runways (airgrid/data/, see its SOURCES.md)
-------------------------------------------
* **Thresholds known** (``hunan_runways_ourairports.csv``: ZGHA 18L/36R and
  18R/36L, ZGDY 08/26): the capsule is built on the thresholds.
* **Derived** (every other runway in that file): centred on the airport reference
  point (``hunan_airports_ourairports_2022.csv``; ZGXX from
  ``hunan_airports_airportsdata.csv``, which the 2022 snapshot lacks), with the
  file's length and the low-end designator as heading. A designator times 10 is a
  *magnetic* heading; true = magnetic + declination, with the declination in Hunan
  about -3.5 deg (3.5 deg west) in 2025 (WMM2025), :data:`MAGNETIC_DECLINATION_DEG`.
  Because the reference point need not be the runway midpoint, derived runways are
  grown by :data:`DERIVED_MARGIN_M` on top of ``R``.
* **No runway record** (Changsha Datuopu air base ZGCS, Leiyang air base): a circle
  of radius ``R + ASSUMED_RUNWAY_M / 2 + DERIVED_MARGIN_M`` around the reference
  point, which contains the capsule of any runway up to :data:`ASSUMED_RUNWAY_M`
  long centred within the margin of that point, whatever its heading.
* Closed airports (Old Yueyang) are left out.

Every zone's ``reason`` says which of these cases built it.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from airgrid.airspace.geofences.model import Category, Circle, Geofence, Limit, Reference
from airgrid.data import DATA_DIR
from airgrid.geo.constants import FT
from airgrid.geo.plane import BUFFER_SAFETY, local_metric

#: Protection radius around each threshold (m).
DEFAULT_RADIUS_M = 13_000.0
DEFAULT_LOWER = Limit(0.0, Reference.AGL)
DEFAULT_UPPER = Limit(1000.0, Reference.AGL)
#: Magnetic declination in Hunan, 2025 (degrees, east positive): about 3.5 deg west.
MAGNETIC_DECLINATION_DEG = -3.5
#: Growth of derived runways for the reference point's offset from the runway midpoint (m).
DERIVED_MARGIN_M = 500.0
#: Runway length assumed where no runway record exists (m): longer than any Hunan runway.
ASSUMED_RUNWAY_M = 3_600.0
#: Arc segments per quarter circle of the capsule (vertices every 360/128 deg).
QUAD_SEGS = 32
_AUTHORITY = "airgrid default (derived from OurAirports/airportsdata; not an official publication)"


@dataclass(frozen=True)
class Runway:
    """A runway centreline.

    Attributes
    ----------
    airport
        ICAO (or OurAirports) code.
    designator
        ``"18L/36R"``.
    ends
        ((lat, lon), (lat, lon)) of the low and high ends.
    derived
        Whether the ends were derived (not read from thresholds).
    note
        How the ends were obtained.
    """

    airport: str
    designator: str
    ends: tuple[tuple[float, float], tuple[float, float]]
    derived: bool
    note: str


@dataclass(frozen=True)
class Airport:
    """An airport reference point: code, name, lat, lon, source file."""

    code: str
    name: str
    lat: float
    lon: float
    source: str


def _read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def load_airports(data_dir: Path = DATA_DIR) -> list[Airport]:
    """Open Hunan airports: the OurAirports 2022 rows (not closed), plus airportsdata rows absent there."""
    out: dict[str, Airport] = {}
    for r in _read_csv(data_dir / "hunan_airports_ourairports_2022.csv"):
        if r["type"] == "closed" or r["iso_region"] != "CN-43":
            continue
        code = r["gps_code"] or r["ident"]
        out[code] = Airport(
            code,
            r["name"],
            float(r["latitude_deg"]),
            float(r["longitude_deg"]),
            "hunan_airports_ourairports_2022.csv",
        )
    for r in _read_csv(data_dir / "hunan_airports_airportsdata.csv"):
        if r["icao"] not in out:
            out[r["icao"]] = Airport(
                r["icao"],
                r["name"],
                float(r["lat"]),
                float(r["lon"]),
                "hunan_airports_airportsdata.csv",
            )
    return sorted(out.values(), key=lambda a: a.code)


def _designator_deg(ident: str) -> float:
    digits = "".join(ch for ch in ident if ch.isdigit())
    return 10.0 * int(digits)


def load_runways(
    airports: list[Airport],
    data_dir: Path = DATA_DIR,
    *,
    declination_deg: float = MAGNETIC_DECLINATION_DEG,
) -> dict[str, list[Runway]]:
    """Runways per airport code, read or derived (see the module docstring)."""
    by_code = {a.code: a for a in airports}
    out: dict[str, list[Runway]] = {}
    for r in _read_csv(data_dir / "hunan_runways_ourairports.csv"):
        code = r["airport_ident"]
        if r["closed"] == "1" or code not in by_code:
            continue
        desig = f"{r['le_ident']}/{r['he_ident']}"
        if r["le_latitude_deg"] and r["he_latitude_deg"]:
            ends = (
                (float(r["le_latitude_deg"]), float(r["le_longitude_deg"])),
                (float(r["he_latitude_deg"]), float(r["he_longitude_deg"])),
            )
            rw = Runway(
                code,
                desig,
                ends,
                False,
                f"thresholds of runway {desig} from hunan_runways_ourairports.csv "
                f"(OurAirports runway id {r['id']})",
            )
        else:
            a = by_code[code]
            mag = _designator_deg(r["le_ident"])
            true = (mag + declination_deg) % 360.0
            length = float(r["length_ft"]) * FT
            _, inv = local_metric(a.lon, a.lat)
            dx, dy = (
                math.sin(math.radians(true)) * length / 2,
                math.cos(math.radians(true)) * length / 2,
            )
            lon, lat = inv.transform(np.array([-dx, dx]), np.array([-dy, dy]))
            ends = ((float(lat[0]), float(lon[0])), (float(lat[1]), float(lon[1])))
            rw = Runway(
                code,
                desig,
                ends,
                True,
                f"runway {desig} derived from the airport reference point ({a.source}), length "
                f"{r['length_ft']} ft and designator {r['le_ident']} (magnetic {mag:03.0f} deg, true "
                f"{true:05.1f} deg with magnetic declination {declination_deg:+.1f} deg for Hunan "
                f"2025), grown by {DERIVED_MARGIN_M:.0f} m for the reference point's offset",
            )
        out.setdefault(code, []).append(rw)
    return out


def capsule(
    runways: list[Runway], radius_m: float, *, quad_segs: int = QUAD_SEGS
) -> shapely.Polygon:
    """Union of the runways' centreline segments buffered by ``radius_m`` (lon/lat polygon).

    Arcs are drawn with vertices *outside* the true circle (radius divided by
    ``cos(pi / (4 quad_segs))``) and grown by ``BUFFER_SAFETY``, in a local
    stereographic plane centred on the runways, so the polygon contains
    the exact capsule.
    """
    lats = [p[0] for rw in runways for p in rw.ends]
    lons = [p[1] for rw in runways for p in rw.ends]
    fwd, inv = local_metric(float(np.mean(lons)), float(np.mean(lats)))
    lines = []
    for rw in runways:
        x, y = fwd.transform([rw.ends[0][1], rw.ends[1][1]], [rw.ends[0][0], rw.ends[1][0]])
        lines.append(shapely.LineString(np.column_stack([x, y])))
    d = radius_m * (1.0 + BUFFER_SAFETY) / math.cos(math.pi / (4 * quad_segs))
    poly = shapely.union_all([ln.buffer(d, quad_segs=quad_segs) for ln in lines])
    poly = shapely.Polygon(poly.exterior)
    xy = np.asarray(poly.exterior.coords)
    lon, lat = inv.transform(xy[:, 0], xy[:, 1])
    return shapely.Polygon(np.column_stack([lon, lat]))


def airport_zones(
    *,
    radius_m: float = DEFAULT_RADIUS_M,
    lower: Limit = DEFAULT_LOWER,
    upper: Limit = DEFAULT_UPPER,
    category: Category = Category.PROHIBITED,
    declination_deg: float = MAGNETIC_DECLINATION_DEG,
    derived_margin_m: float = DERIVED_MARGIN_M,
    data_dir: Path = DATA_DIR,
) -> list[Geofence]:
    """One protection geofence per open Hunan airport (see the module docstring).

    Parameters
    ----------
    radius_m
        ``R``, the arc radius around each threshold.
    lower, upper
        Vertical limits (default 0-1000 m AGL).
    category
        Default prohibited.
    declination_deg
        Magnetic declination used to turn designators into true headings.
    derived_margin_m
        Extra radius for runways derived from a reference point.
    data_dir
        Folder with the airport and runway CSVs.

    Returns
    -------
    list of Geofence
        Identifiers ``"<code>-AP"``, sorted by code. Each errs outward: capsule
        arcs circumscribe the circles, derived runways get ``derived_margin_m``,
        airports without a runway record get a circle containing any runway's capsule.
    """
    airports = load_airports(data_dir)
    runways = load_runways(airports, data_dir, declination_deg=declination_deg)
    out = []
    for a in airports:
        rws = runways.get(a.code)
        circle: Circle | None = None
        polygon: tuple[tuple[float, float], ...] | None = None
        if not rws:
            r = radius_m + ASSUMED_RUNWAY_M / 2 + derived_margin_m
            circle = Circle(a.lon, a.lat, r)
            reason = (
                f"Airport protection zone, R = {radius_m / 1000:g} km. No runway record: circle of "
                f"{r / 1000:g} km around the reference point ({a.source}), containing the capsule of any "
                f"runway up to {ASSUMED_RUNWAY_M:.0f} m centred within {derived_margin_m:.0f} m of it."
            )
        else:
            derived = any(rw.derived for rw in rws)
            shape_r = radius_m + (derived_margin_m if derived else 0.0)
            polygon = tuple((x, y) for x, y in capsule(rws, shape_r).exterior.coords)
            reason = (
                f"Airport protection zone: arcs of R = {radius_m / 1000:g} km around both thresholds joined by "
                "tangents parallel to the runway (capsule). "
                + "; ".join(rw.note for rw in rws)
                + "."
            )
        out.append(
            Geofence(
                identifier=f"{a.code}-AP",
                lower=lower,
                upper=upper,
                polygon=polygon,
                circle=circle,
                category=category,
                name=a.name,
                reason=reason,
                reason_codes=("AIR_TRAFFIC",),
                authority=_AUTHORITY,
                source_id=f"{a.source}:{a.code}",
                country="CHN",
            )
        )
    return out


__all__ = [
    "ASSUMED_RUNWAY_M",
    "DEFAULT_RADIUS_M",
    "DERIVED_MARGIN_M",
    "MAGNETIC_DECLINATION_DEG",
    "Airport",
    "Runway",
    "airport_zones",
    "capsule",
    "load_airports",
    "load_runways",
]
