"""The airgrid voxels that overlap a grid code's box, and the codes of voxels."""

from __future__ import annotations

import h3
import numpy as np
import shapely
from numpy.typing import NDArray

from airgrid.airspace.errors import GridCodeError
from airgrid.airspace.grid.codes import beidou, zfxy
from airgrid.airspace.grid.codes.beidou import CodeBox
from airgrid.airspace.grid.voxels import Grid

#: Beidou level and ZFXY zoom of the codes given for a voxel's centre.
VOXEL_BEIDOU_LEVEL = 10
VOXEL_ZFXY_ZOOM = 25


def decode_any(code: str) -> tuple[str, CodeBox]:
    """The kind (``beidou2d``, ``beidou3d`` or ``zfxy``) and box of a grid code.

    A code with ``/`` is a spatial ID; otherwise a Beidou code. The 3D codes of levels 1,
    3, 5 and 6 (7, 12, 18 and 20 characters) are as long as the 2D codes of levels 3, 6,
    9 and 10, so the length alone does not tell them apart: a 2D code has its latitude
    letter fourth (``N49H...``), an interleaved 3D code a digit there and the letter
    fifth (``N049H...``: hemisphere, height sign, zone). An appended 3D code of those
    four levels starts like the 2D code of the same length and is read as that 2D code;
    :func:`~airgrid.airspace.grid.codes.beidou.decode_3d` with ``layout="appended"``
    reads it as 3D. Every other length belongs to one kind only.

    Raises
    ------
    GridCodeError
        The code is none of these.
    """
    text = str(code).strip()
    if "/" in text:
        return "zfxy", zfxy.decode(text)
    if len(text) in beidou.CODE_LENGTH[1:] and not _interleaved_3d(text):
        return "beidou2d", beidou.decode_2d(text)
    return "beidou3d", beidou.decode_3d(text)


def _interleaved_3d(text: str) -> bool:
    """Whether a Beidou code has the interleaved 3D form's start: a digit fourth, a letter fifth."""
    return text[3:4].isdigit() and text[4:5].isalpha()


def clip_to_grid(grid: Grid, box: CodeBox) -> shapely.Polygon | None:
    """The part of the box's lon/lat bounds inside the grid's area bounds; None if empty."""
    poly = shapely.box(box.west, box.south, box.east, box.north)
    area = shapely.box(*grid.meta.get("area_bounds", (-180.0, -90.0, 180.0, 90.0)))
    clipped = poly.intersection(area)
    return None if clipped.is_empty or clipped.area == 0 else clipped


def voxels_in_box(
    grid: Grid,
    box: CodeBox,
    bottom_amsl_m: float,
    top_amsl_m: float,
    max_voxels: int,
) -> NDArray[np.int64]:
    """Indices of the voxels whose hexagon overlaps the box and whose height range overlaps
    ``[bottom_amsl_m, top_amsl_m)`` (metres AMSL), sorted.

    Parameters
    ----------
    grid
        The voxel grid.
    box
        Lon/lat bounds (its heights are ignored: the caller converts them to AMSL).
    bottom_amsl_m, top_amsl_m
        Height range in metres AMSL (``-inf``/``inf`` for a 2D code).
    max_voxels
        Refuse answers with more voxels than this.

    Raises
    ------
    GridCodeError
        More than ``max_voxels`` voxels overlap (a coarser code than the grid can list).
    """
    clipped = clip_to_grid(grid, box)
    if clipped is None:
        return np.zeros(0, np.int64)
    shape = h3.geo_to_h3shape(shapely.geometry.mapping(clipped))
    picked: list[np.ndarray] = []
    total = 0
    for t, tier in enumerate(grid.tiers):
        cells = h3.h3shape_to_cells_experimental(shape, tier.resolution, contain="overlap")
        ci = grid.find_cells(
            np.fromiter((h3.str_to_int(c) for c in cells), np.int64, len(cells)), t
        )
        ci = np.sort(ci[ci >= 0])
        counts = grid.cell_nlayers[ci].astype(np.int64)
        vox = np.repeat(grid.cell_start[ci], counts) + (
            np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        )
        vox = vox[(grid.floor[vox] < top_amsl_m) & (grid.ceiling[vox] > bottom_amsl_m)]
        total += len(vox)
        if total > max_voxels:
            raise GridCodeError(
                f"more than {max_voxels} voxels overlap the code's box; use a finer code"
            )
        picked.append(vox)
    return np.sort(np.concatenate(picked)) if picked else np.zeros(0, np.int64)


def box_heights(
    box: CodeBox, undulation_min: float, undulation_max: float
) -> tuple[float, float, float, float] | None:
    """The box's height range above the ellipsoid and above mean sea level,
    ``(bottom_w84, top_w84, bottom_amsl, top_amsl)``, each converted conservatively (the
    range only grows) with the geoid undulations ``N`` over the box; ``None`` for a 2D code.

    ``AMSL = W84 - N``: a W84 box's AMSL bottom takes the greatest ``N``, its top the least;
    an AMSL box (ZFXY) converts the other way.
    """
    if box.bottom_m is None or box.top_m is None:
        return None
    if box.height_reference == "AMSL":
        return (
            box.bottom_m + undulation_min,
            box.top_m + undulation_max,
            box.bottom_m,
            box.top_m,
        )
    return box.bottom_m, box.top_m, box.bottom_m - undulation_max, box.top_m - undulation_min


def voxel_centres(grid: Grid, voxels: NDArray[np.int64]) -> tuple[NDArray, NDArray, NDArray]:
    """(lat, lon, mid-height m AMSL) of each voxel's centre."""
    v = np.asarray(voxels, np.int64)
    lat = np.empty(len(v))
    lon = np.empty(len(v))
    for i, c in enumerate(grid.cell[v].tolist()):
        lat[i], lon[i] = h3.cell_to_latlng(h3.int_to_str(int(c)))
    mid = (grid.floor[v].astype(float) + grid.ceiling[v].astype(float)) / 2.0
    return lat, lon, mid


def voxel_codes(
    lat: NDArray, lon: NDArray, h_amsl: NDArray, undulation: NDArray
) -> tuple[NDArray[np.str_], NDArray[np.str_]]:
    """Beidou 3D (level 10, interleaved) and ZFXY (zoom 25) codes of voxel centres.

    ``h_amsl`` is the centre's height above mean sea level (what ZFXY measures) and
    ``undulation`` the geoid's height above the ellipsoid there (Beidou measures
    ``h_amsl + undulation``).
    """
    return (
        beidou.encode_3d(lat, lon, np.asarray(h_amsl) + np.asarray(undulation), VOXEL_BEIDOU_LEVEL),
        zfxy.encode(lat, lon, h_amsl, VOXEL_ZFXY_ZOOM),
    )
