"""Areas to build grids over: a bbox, a GeoJSON polygon, or a named area from airgrid/data/.

Also the H3 overlap cover of an area, split over processes for large areas.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import h3
import numpy as np
import shapely
from shapely.geometry import mapping, shape

from airgrid.airspace.errors import AreaError
from airgrid.data import DATA_DIR
from airgrid.geo.constants import M_PER_DEG_LON_EQUATOR

#: English names of Hunan's 14 prefecture-level units (GB/T 2260 codes) for the CLI.
PREFECTURES_EN: dict[str, str] = {
    "changsha": "430100",
    "zhuzhou": "430200",
    "xiangtan": "430300",
    "hengyang": "430400",
    "shaoyang": "430500",
    "yueyang": "430600",
    "changde": "430700",
    "zhangjiajie": "430800",
    "yiyang": "430900",
    "chenzhou": "431000",
    "yongzhou": "431100",
    "huaihua": "431200",
    "loudi": "431300",
    "xiangxi": "433100",
}


#: Areas estimated to need fewer cells than this are covered in-process.
SPLIT_MIN_CELLS = 200_000


@dataclass(frozen=True)
class Area:
    """A named WGS84 (lon, lat) polygonal area.

    Attributes
    ----------
    name
        What to call it in reports.
    geometry
        Polygon or MultiPolygon in lon/lat degrees.
    """

    name: str
    geometry: shapely.Geometry

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(west, south, east, north)."""
        w, s, e, n = self.geometry.bounds
        return float(w), float(s), float(e), float(n)

    def to_geojson(self) -> dict:
        """GeoJSON geometry (RFC 7946 lon/lat)."""
        return mapping(self.geometry)


def area_from_bbox(west: float, south: float, east: float, north: float) -> Area:
    """An area from a lon/lat bounding box.

    Raises
    ------
    AreaError
        Degenerate or out-of-range box.
    """
    vals = (west, south, east, north)
    if not all(math.isfinite(v) for v in vals):
        raise AreaError("bbox values must be finite numbers")
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise AreaError(
            f"bbox must be west<east in [-180,180] and south<north in [-90,90], got {vals}"
        )
    return Area(f"bbox({west},{south},{east},{north})", shapely.box(west, south, east, north))


def area_from_geojson(doc: dict | str | Path, name: str | None = None) -> Area:
    """An area from a GeoJSON Polygon/MultiPolygon, Feature or FeatureCollection (union).

    Raises
    ------
    AreaError
        Unreadable, non-polygonal, invalid or empty geometry.
    """
    label = name or "polygon"
    if isinstance(doc, (str, Path)):
        path = Path(doc)
        label = name or path.stem
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise AreaError(f"area file not found: {path}") from exc
        except (OSError, ValueError) as exc:
            raise AreaError(f"cannot read GeoJSON {path}: {exc}") from exc
    if not isinstance(doc, dict) or "type" not in doc:
        raise AreaError("not a GeoJSON object")
    if doc["type"] == "FeatureCollection":
        geoms = [f.get("geometry") for f in doc.get("features", [])]
    elif doc["type"] == "Feature":
        geoms = [doc.get("geometry")]
    else:
        geoms = [doc]
    try:
        parts = [shape(g) for g in geoms if g]
    except Exception as exc:
        raise AreaError(f"unreadable GeoJSON geometry: {exc}") from exc
    if not parts or any(p.geom_type not in ("Polygon", "MultiPolygon") for p in parts):
        raise AreaError("an area must be made of Polygon or MultiPolygon geometries")
    for p in parts:
        if not p.is_valid:
            raise AreaError(f"invalid area polygon: {shapely.is_valid_reason(p)}")
    geom = shapely.union_all(parts)
    if geom.is_empty or geom.area == 0:
        raise AreaError("the area is empty")
    w, s, e, n = geom.bounds
    if w < -180 or e > 180 or s < -90 or n > 90:
        raise AreaError(
            "area coordinates must be lon in [-180,180], lat in [-90,90] (RFC 7946 order)"
        )
    return Area(label, geom)


@lru_cache(maxsize=8)
def _load_units(level: str, data_dir: Path) -> tuple[tuple[str, str, shapely.Geometry], ...]:
    path = data_dir / f"hunan_{level}_cgcs2000.geojson"
    doc = json.loads(path.read_text(encoding="utf-8"))
    # CGCS2000 (EPSG:4490) and WGS84 agree to about 1 m: used as lon/lat directly.
    return tuple(
        (f["properties"]["name"], f["properties"]["gb"][3:], shape(f["geometry"]))
        for f in doc["features"]
    )


def named_area(name: str, data_dir: Path = DATA_DIR) -> Area:
    """A named area: ``hunan``, a prefecture or a county.

    Names may be Chinese (``长沙市``, ``岳麓区``), English prefecture names
    (``changsha``), or GB/T 2260 codes (``430100``, ``430104``). The boundaries are
    the ``hunan_{province,prefectures,counties}_cgcs2000.geojson`` files of
    ``data_dir`` (default: the shipped :data:`airgrid.data.DATA_DIR`).

    Raises
    ------
    AreaError
        The name matches nothing, or several counties.
    """
    key = name.strip()
    low = key.lower()
    if low in ("hunan", "湖南", "湖南省", "430000"):
        _, _, geom = _load_units("province", data_dir)[0]
        return Area("Hunan", geom)
    code = PREFECTURES_EN.get(low, key)
    for level in ("prefectures", "counties"):
        hits = [
            u
            for u in _load_units(level, data_dir)
            if code in (u[1], u[0]) or u[0].rstrip("市县区") == key
        ]
        if len(hits) == 1:
            label = name if low in PREFECTURES_EN else hits[0][0]
            return Area(label, hits[0][2])
        if len(hits) > 1:
            raise AreaError(
                f"{name!r} names several areas: {[h[0] for h in hits]}; use the GB code"
            )
    raise AreaError(
        f"unknown area {name!r}: use 'hunan', a prefecture ({', '.join(PREFECTURES_EN)}), "
        "a county's Chinese name, or a GB/T 2260 code"
    )


def list_named_areas(data_dir: Path = DATA_DIR) -> list[dict]:
    """Every named area: level, Chinese name, GB code (and English for prefectures).

    The areas are those of ``data_dir`` (see :func:`named_area`).
    """
    en = {v: k for k, v in PREFECTURES_EN.items()}
    out = [{"level": "province", "name": "湖南省", "code": "430000", "en": "hunan"}]
    for level in ("prefectures", "counties"):
        for nm, code, _ in _load_units(level, data_dir):
            out.append({"level": level[:-1], "name": nm, "code": code, "en": en.get(code, "")})
    return out


def _cover_part(args: tuple[dict, int, bool]) -> tuple[np.ndarray, tuple | None]:
    geo, res, with_vertices = args
    cells = h3.h3shape_to_cells_experimental(h3.geo_to_h3shape(geo), res, contain="overlap")
    ids = np.sort(np.fromiter((h3.str_to_int(c) for c in cells), np.int64, len(cells)))
    if not with_vertices:
        return ids, None
    # imported here: the terrain package (rasterio, pyproj) is needed for vertices only,
    # not to cover an area (route no-go areas) nor to load a saved grid
    from airgrid.terrain import cell_vertices_lonlat

    return ids, cell_vertices_lonlat(ids)


def cover_cells(area: Area, resolution: int, *, workers: int | None = None) -> np.ndarray:
    """Every H3 cell at ``resolution`` that overlaps the area (h3's overlap containment).

    Parameters
    ----------
    area
        The area.
    resolution
        H3 resolution.
    workers
        Processes for large areas (default: CPU count); the area is cut into strips,
        each covered on its own, and the union taken. A cell overlaps the area iff it
        overlaps some strip, so the result equals the cover of the whole.

    Returns
    -------
    numpy.ndarray
        Sorted unique int64 cell ids.

    Notes
    -----
    h3 v4's ``polygon_to_cells_experimental`` with ``contain='overlap'`` keeps every
    cell whose boundary overlaps the polygon, never only those whose centres fall
    inside: the cover is a superset of the area, which is the safe side.
    """
    return cover_with_vertices(area, resolution, workers=workers, vertices=False)[0]


def cover_with_vertices(
    area: Area, resolution: int, *, workers: int | None = None, vertices: bool = True
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
    """:func:`cover_cells` plus the cells' boundary vertices, computed in the same workers.

    Returns
    -------
    cells : int64[n]
        Sorted unique cell ids.
    vertices : tuple or None
        :func:`airgrid.terrain.cell_vertices_lonlat` of ``cells`` when asked for.
    """
    est = area.geometry.area / max(_cell_area_deg2(resolution, area), 1e-30)
    nproc = workers if workers is not None else (os.cpu_count() or 1)
    if est < SPLIT_MIN_CELLS or nproc <= 1:
        return _cover_part((mapping(area.geometry), resolution, vertices))
    w, s, e, n = area.bounds
    k = max(2, nproc * 2)
    edges = np.linspace(w, e, k + 1)
    strips = [
        area.geometry.intersection(shapely.box(edges[i], s - 1, edges[i + 1], n + 1))
        for i in range(k)
    ]
    jobs = [(mapping(g), resolution, vertices) for g in strips if not g.is_empty and g.area > 0]
    from concurrent.futures import ProcessPoolExecutor  # only large areas use processes

    with ProcessPoolExecutor(nproc) as pool:
        parts = list(pool.map(_cover_part, jobs))
    if not parts:
        return np.empty(0, np.int64), None
    ids = np.concatenate([p[0] for p in parts])
    cells, first = np.unique(ids, return_index=True)  # strips share the cells on their seams
    if not vertices:
        return cells, None
    verts = [v for _, v in parts if v is not None]  # every part has them when asked
    lon, lat, nv = (np.concatenate([v[k] for v in verts])[first] for k in range(3))
    return cells, (lon, lat, nv)


def _cell_area_deg2(resolution: int, area: Area) -> float:
    """Average H3 cell area at ``resolution`` in square degrees at the area's latitude."""
    lat = (area.bounds[1] + area.bounds[3]) / 2
    km2 = h3.average_hexagon_area(resolution, unit="km^2")
    km_per_deg = M_PER_DEG_LON_EQUATOR / 1000.0
    return km2 / (km_per_deg * km_per_deg * max(math.cos(math.radians(lat)), 0.01))
