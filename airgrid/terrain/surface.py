"""Ground bounds under H3 cells, with obstacles.

Each cell gets two heights, both in metres AMSL and both from the DEM pixels whose
footprints touch the cell (closed sets: a shared edge or corner counts):

* ``g_hi``, the highest plausible ground: the highest ``height + upward margin``,
  raised to any obstacle whose footprint touches the cell;
* ``g_lo``, the lowest plausible ground: the lowest ``height - downward margin``.

The margins come from the DEM's accuracy model
(:class:`~airgrid.terrain.dem.DemAccuracy`). Neither is ever a centre sample or a
mean: ``g_hi`` errs upward and ``g_lo`` downward, by at least the margins.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import h3
import numpy as np
import shapely
from shapely.geometry import shape

from airgrid.geo.circles import disc, grow
from airgrid.geo.constants import deg_lat_for, deg_lon_for
from airgrid.terrain.dem import Dem
from airgrid.terrain.errors import NoDataError, ObstacleError, OutsideCoverageError
from airgrid.terrain.kernels import Polygons, cell_extrema

#: Fraction of a pixel added around every cell: H3 edges are great-circle arcs, drawn
#: here as straight lines in the DEM's CRS; the bulge is below 0.03 m for cells up to
#: res 7 in Hunan, far below this pad on any DEM coarser than 3 m.
SAFETY_PAD_PX = 0.01

_MAX_VERTS = 10  # H3 cells have 5 to 10 boundary vertices (distortion vertices included)


@dataclass(frozen=True)
class CellGround:
    """Ground bounds per cell, aligned with the input cell array.

    Attributes
    ----------
    cells : int64[n]
        H3 cell ids.
    dem_max, dem_min : float32[n]
        Highest and lowest valid DEM pixel touching the cell.
    obstacle_top : float32[n]
        Highest obstacle top (m AMSL) touching the cell, NaN where none.
    has_void : bool[n]
        Whether some touched pixels were voids (left out).
    upper : float32[n]
        Highest ``height + upward margin`` over the touched pixels (m AMSL).
    g_lo : float32[n]
        Lowest plausible ground: lowest ``height - downward margin`` over the touched
        pixels (m AMSL). Obstacles never lower it.
    """

    cells: np.ndarray
    dem_max: np.ndarray
    dem_min: np.ndarray
    obstacle_top: np.ndarray
    has_void: np.ndarray
    upper: np.ndarray
    g_lo: np.ndarray

    @property
    def g_hi(self) -> np.ndarray:
        """Highest plausible ground, ``max(upper, obstacle_top)`` in metres AMSL."""
        return np.fmax(self.upper, self.obstacle_top).astype(np.float32)


def cell_vertices_lonlat(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boundary vertices of H3 cells as padded arrays.

    Parameters
    ----------
    cells
        int64 or uint64 H3 cell ids.

    Returns
    -------
    lon, lat : float64[n, 10]
        Vertices in ring order; unused slots repeat the last vertex.
    nverts : int32[n]
        How many vertices each cell has.
    """
    ids = np.asarray(cells, np.int64)
    bounds = list(map(h3.cell_to_boundary, map(h3.int_to_str, ids.tolist())))
    nv = np.fromiter(map(len, bounds), np.int32, len(bounds))
    flat = np.fromiter(chain.from_iterable(chain.from_iterable(bounds)), float, 2 * int(nv.sum()))
    start = np.zeros(len(nv), np.int64)
    np.cumsum(nv[:-1], out=start[1:])
    # padded slots repeat the last vertex
    src = start[:, None] + np.minimum(np.arange(_MAX_VERTS), nv[:, None] - 1)
    return flat[2 * src + 1], flat[2 * src], nv


def _pad_pixels(dem: Dem, pad_m: float, max_abs_lat: float) -> tuple[float, float]:
    """A pad in metres as pixel counts (x, y), rounded up for safety."""
    if pad_m <= 0:
        return SAFETY_PAD_PX, SAFETY_PAD_PX
    dx, dy = abs(dem.transform.a), abs(dem.transform.e)
    if dem.is_geographic:
        return (
            deg_lon_for(pad_m, max_abs_lat) / dx + SAFETY_PAD_PX,
            deg_lat_for(pad_m) / dy + SAFETY_PAD_PX,
        )
    return pad_m / dx + SAFETY_PAD_PX, pad_m / dy + SAFETY_PAD_PX


def _touched(
    dem: Dem,
    raster: np.ndarray,
    verts: tuple[np.ndarray, np.ndarray, np.ndarray],
    pad_m: float,
    cells: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Max, min, valid and void counts of ``raster`` (in ``dem``'s pixel grid) over touched pixels."""
    lon, lat, nv = verts
    col, row = dem.lonlat_to_pixel(lon.ravel(), lat.ravel())
    col = col.reshape(lon.shape)
    row = row.reshape(lon.shape)
    pad_x, pad_y = _pad_pixels(dem, pad_m, float(np.abs(lat).max()))
    gmax, gmin, _, n_valid, n_void, outside = cell_extrema(
        Polygons(col, row, nv), raster, pad_x, pad_y, 0
    )
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise OutsideCoverageError(
            f"{int(outside.sum())} cell(s) reach beyond the DEM, first {h3.int_to_str(int(cells[i]))} "
            f"near lat {lat[i, 0]:.5f} lon {lon[i, 0]:.5f}; DEM covers lon/lat {dem.bounds_lonlat}"
        )
    if (n_valid == 0).any():
        i = int(np.flatnonzero(n_valid == 0)[0])
        raise NoDataError(
            f"{int((n_valid == 0).sum())} cell(s) lie wholly in DEM voids, first "
            f"{h3.int_to_str(int(cells[i]))}"
        )
    return gmax, gmin, n_valid, n_void


def cell_ground(
    dem: Dem,
    cells: np.ndarray,
    *,
    obstacles: Obstacles | None = None,
    vertices: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> CellGround:
    """Lowest and highest plausible ground under each H3 cell.

    Parameters
    ----------
    dem
        The elevation raster.
    cells
        int64 H3 cell ids (any mix of resolutions).
    obstacles
        Optional obstacles that raise the cells they touch.
    vertices
        Precomputed :func:`cell_vertices_lonlat` output for ``cells``.

    Returns
    -------
    CellGround
        ``g_hi`` is the highest ``height + upward margin`` over the DEM pixels that
        touch the cell, raised to any obstacle top touching it; ``g_lo`` the lowest
        ``height - downward margin`` over the same pixels. Every point of the cell
        lies in a touched pixel, so under the margin model the true ground anywhere
        in the cell lies in ``[g_lo, g_hi]``.

    Raises
    ------
    OutsideCoverageError
        Some cell reaches beyond the DEM.
    NoDataError
        Every pixel under some cell is a void.
    """
    cells = np.asarray(cells, np.int64)
    if len(cells) == 0:
        empty = np.empty(0, np.float32)
        return CellGround(cells, empty, empty, empty, np.empty(0, bool), empty, empty)
    verts = vertices if vertices is not None else cell_vertices_lonlat(cells)
    gmax, gmin, _, n_void = _touched(dem, dem.data, verts, 0.0, cells)
    upper = _touched(dem, dem.upper, verts, 0.0, cells)[0]
    g_lo = _touched(dem, dem.lower, verts, 0.0, cells)[1]
    obstacle_top = (
        obstacles.tops_for_cells(cells)
        if obstacles is not None
        else np.full(len(cells), np.nan, np.float32)
    )
    return CellGround(cells, gmax, gmin, obstacle_top, n_void > 0, upper, g_lo)


def band_ground(
    surface: Dem,
    cells: np.ndarray,
    *,
    pad_m: float,
    obstacles: Obstacles | None = None,
    vertices: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Highest value of a surface (and of obstacles) touching each cell grown by ``pad_m``.

    Parameters
    ----------
    surface
        A conservative surface, e.g. :meth:`Dem.band_surface` of the DEM.
    cells
        int64 H3 cell ids.
    pad_m
        Grow each cell by this distance first (metres, rectangle Minkowski sum in the
        surface's CRS, so never less than a disc).
    obstacles
        Optional obstacles, grown by ``pad_m`` as well.
    vertices
        Precomputed :func:`cell_vertices_lonlat` output for ``cells``.

    Returns
    -------
    numpy.ndarray
        float32 metres AMSL.

    Notes
    -----
    The touched set of a grown footprint contains that of any footprint inside it, so
    the result is monotone under inclusion: a cell's value is at least that of any
    smaller cell lying within its grown footprint, on the same or a pointwise lower
    surface.
    """
    cells = np.asarray(cells, np.int64)
    if len(cells) == 0:
        return np.empty(0, np.float32)
    verts = vertices if vertices is not None else cell_vertices_lonlat(cells)
    top = _touched(surface, surface.data, verts, pad_m, cells)[0]
    if obstacles is not None:
        top = np.fmax(top, obstacles.tops_for_cells(cells, pad_m=pad_m))
    return top.astype(np.float32)


@dataclass(frozen=True)
class Obstacle:
    """One obstacle: a footprint and the absolute height of its top (m AMSL)."""

    footprint: shapely.Geometry
    top_m: float
    name: str = ""


class Obstacles:
    """A set of obstacles (buildings, towers, masts) that raise the ground of cells.

    Parameters
    ----------
    items
        The obstacles, footprints in WGS84 lon/lat.
    """

    def __init__(self, items: list[Obstacle]) -> None:
        self.items = items
        self._tree = shapely.STRtree([o.footprint for o in items]) if items else None
        self._tops = np.array([o.top_m for o in items], np.float32)

    def __len__(self) -> int:
        return len(self.items)

    @classmethod
    def from_geojson(cls, path: str | Path, dem: Dem) -> Obstacles:
        """Read obstacles from a GeoJSON FeatureCollection.

        Each feature is a Point, Polygon or MultiPolygon with either ``height_m``
        (height above ground; the top is then the highest plausible ground under the
        footprint, the highest touching DEM pixel plus its upward margin, plus the
        height) or ``top_m`` (absolute, m AMSL). Points may carry ``radius_m``
        (default 1 m), the footprint becoming a disc.

        Raises
        ------
        ObstacleError
            A feature has no usable geometry or height.
        """
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ObstacleError(f"obstacle file not found: {path}") from exc
        except (OSError, ValueError) as exc:
            raise ObstacleError(f"cannot read obstacle file {path}: {exc}") from exc
        feats = doc.get("features") if isinstance(doc, dict) else None
        if not isinstance(feats, list):
            raise ObstacleError(f"{path} is not a GeoJSON FeatureCollection")
        items: list[Obstacle] = []
        for k, f in enumerate(feats):
            props = (f or {}).get("properties") or {}
            try:
                geom = shape(f["geometry"])
            except Exception as exc:
                raise ObstacleError(f"obstacle #{k}: unreadable geometry ({exc})") from exc
            if geom.geom_type == "Point":
                radius = float(props.get("radius_m", 1.0))
                if not radius > 0:
                    raise ObstacleError(f"obstacle #{k}: radius_m must be positive")
                geom = disc(geom.x, geom.y, radius, segments=64)
            elif geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
                raise ObstacleError(
                    f"obstacle #{k}: geometry must be Point, Polygon or MultiPolygon"
                )
            if "top_m" in props:
                top = float(props["top_m"])
            elif "height_m" in props:
                height = float(props["height_m"])
                if not height >= 0:
                    raise ObstacleError(f"obstacle #{k}: height_m must be >= 0")
                top = _footprint_ground(dem, geom) + height
            else:
                raise ObstacleError(f"obstacle #{k}: needs 'height_m' or 'top_m'")
            if not math.isfinite(top):
                raise ObstacleError(f"obstacle #{k}: height is not a finite number")
            items.append(Obstacle(geom, top, str(props.get("name", ""))))
        return cls(items)

    def tops_for_cells(self, cells: np.ndarray, *, pad_m: float = 0.0) -> np.ndarray:
        """Highest obstacle top (m AMSL) touching each cell grown by ``pad_m``; NaN if none."""
        out = np.full(len(cells), np.nan, np.float32)
        if self._tree is None:
            return out
        polys = [
            grow(
                shapely.Polygon(
                    [(lng, lat) for lat, lng in h3.cell_to_boundary(h3.int_to_str(int(c)))]
                ),
                pad_m,
            )
            for c in cells
        ]
        cell_idx, obs_idx = self._tree.query(polys, predicate="intersects")
        if len(cell_idx):
            np.fmax.at(out, cell_idx, self._tops[obs_idx])
        return out


def _footprint_ground(dem: Dem, geom: shapely.Geometry) -> float:
    """Highest plausible ground under a footprint: highest ``height + upward margin`` of touching pixels.

    The convex hull of the footprint stands in for it (a superset, so errs upward).
    """
    hull = geom.convex_hull
    if hull.geom_type != "Polygon":
        hull = hull.buffer(1e-7)
    xy = np.asarray(hull.exterior.coords)[:-1]
    col, row = dem.lonlat_to_pixel(xy[:, 0], xy[:, 1])
    top, _, _, n_valid, _, outside = cell_extrema(
        Polygons(col[None, :], row[None, :], np.array([len(xy)], np.int32)),
        dem.upper,
        SAFETY_PAD_PX,
        SAFETY_PAD_PX,
        0,
    )
    if outside[0]:
        raise OutsideCoverageError("an obstacle lies (partly) outside the DEM")
    if n_valid[0] == 0:
        raise NoDataError("an obstacle stands wholly over DEM voids")
    return float(top[0])
