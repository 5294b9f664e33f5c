"""Standard grid codes: a point's Beidou and ZFXY codes and voxel, a code's box and voxels."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Path, Query

from airgrid.airspace.grid.altitude import AltitudeReference, resolve_altitude
from airgrid.airspace.grid.codes import beidou, zfxy
from airgrid.airspace.grid.codes.overlap import (
    box_heights,
    clip_to_grid,
    decode_any,
    voxels_in_box,
)
from airgrid.api.http.routes.deps import V1, PrincipalDep, ServicesDep
from airgrid.api.http.routes.grid import AltQuery, check_area, voxel
from airgrid.api.http.schemas.codes import (
    BeidouCodes,
    GridCodeBoxPublic,
    GridCodesPublic,
    ZfxyCode,
)
from airgrid.api.http.schemas.common import Lat, Lon, error_responses

router = APIRouter(prefix=f"{V1}/grid", tags=["grid"], responses=error_responses(401, 404, 422))


@router.get("/codes", response_model=GridCodesPublic, summary="Beidou and ZFXY codes of a point")
def point_codes(
    services: ServicesDep,
    principal: PrincipalDep,
    lon: Annotated[Lon, Query(examples=[112.99])],
    lat: Annotated[Lat, Query(examples=[28.27])],
    alt_m: AltQuery,
    alt_ref: Annotated[
        AltitudeReference,
        Query(description="AMSL, AGL (over the highest plausible ground) or W84 (ellipsoid)."),
    ] = AltitudeReference.AMSL,
    level: Annotated[int, Query(ge=1, le=10, description="Beidou level.")] = 10,
    zoom: Annotated[int, Query(ge=0, le=30, description="ZFXY zoom.")] = 25,
) -> GridCodesPublic:
    """The Beidou grid location codes (GB/T 39409-2020, from the height above the WGS84
    ellipsoid) and the 4D spatial ID (ZFXY, from the height above mean sea level) of a
    point, and the airgrid voxel holding it (``located`` is null outside the grid's area;
    AGL needs the grid's area).
    """
    grid = services.grid
    inside = not np.isnan(grid.ground_at(lat, lon)[1])
    alt = resolve_altitude(alt_m, alt_ref, lat, lon, grid=grid, geoid=services.geoid)
    h = alt.alt_amsl_m + float(services.geoid.undulation(lat, lon))
    b2d = str(beidou.encode_2d(lat, lon, level))
    return GridCodesPublic(
        lon=lon,
        lat=lat,
        alt_m=alt_m,
        alt_ref=alt_ref.value,
        alt_amsl_m=round(alt.alt_amsl_m, 2),
        alt_w84_m=round(h, 3),
        beidou=BeidouCodes(
            level=level,
            code_2d=b2d,
            height_code=str(beidou.encode_height(h, level)),
            code_3d=str(beidou.encode_3d(lat, lon, h, level)),
            code_3d_appended=str(beidou.encode_3d(lat, lon, h, level, "appended")),
        ),
        zfxy=ZfxyCode(zoom=zoom, id=str(zfxy.encode(lat, lon, alt.alt_amsl_m, zoom))),
        located=voxel(services, principal, lon, lat, alt_m, alt_ref) if inside else None,
    )


@router.get(
    "/codes/{code:path}",
    response_model=GridCodeBoxPublic,
    summary="The box of a Beidou code or spatial ID, and the voxels overlapping it",
)
def code_box(
    services: ServicesDep,
    _: PrincipalDep,
    code: Annotated[
        str,
        Path(
            max_length=64,
            description="A Beidou 2D or 3D code (either layout) or a spatial ID z/f/x/y.",
            examples=["N049H0090030E2060101006"],
        ),
    ],
) -> GridCodeBoxPublic:
    """Bounds and height range of the code (above the WGS84 ellipsoid and above mean sea
    level: a Beidou code measures from the ellipsoid, a spatial ID from mean sea level,
    and the other range is converted with the geoid over the box, conservatively), and
    every airgrid voxel whose hexagon overlaps the bounds and whose height range overlaps
    the code's (over the whole height for a 2D Beidou code).

    The part of the box over the grid's area may cover at most ``max_query_area_km2`` and
    overlap at most ``max_query_voxels`` voxels (422 otherwise: use a finer code).
    """
    grid = services.grid
    kind, box = decode_any(code)
    lim = services.settings
    heights = None
    ids: list[str] = []
    clipped = clip_to_grid(grid, box)
    if clipped is not None:
        check_area(clipped, lim.max_query_area_km2, "the code's box over the grid")
        heights = box_heights(box, *services.geoid.undulation_range(*clipped.bounds))
        lo_m, hi_m = (-np.inf, np.inf) if heights is None else heights[2:]
        vox = voxels_in_box(grid, box, lo_m, hi_m, lim.max_query_voxels)
        ids = [grid.voxel_id(int(v)) for v in vox]
    w84: tuple[float | None, float | None] = (None, None)
    amsl: tuple[float | None, float | None] = (None, None)
    if heights is not None:
        w84, amsl = (heights[0], heights[1]), (heights[2], heights[3])
    elif box.bottom_m is not None:  # outside the grid (no geoid there): the code's own range
        own = (box.bottom_m, box.top_m)
        w84, amsl = (own, amsl) if box.height_reference == "W84" else (w84, own)
    return GridCodeBoxPublic(
        code=code,
        kind=kind,
        level=box.level,
        bbox=[box.west, box.south, box.east, box.north],
        bottom_w84_m=_round(w84[0]),
        top_w84_m=_round(w84[1]),
        bottom_amsl_m=_round(amsl[0]),
        top_amsl_m=_round(amsl[1]),
        voxel_count=len(ids),
        voxels=ids,
    )


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)
