"""Grid and terrain: tiers, the voxel at a point, voxels of an area, elevation, profiles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import h3
import numpy as np
import shapely
from fastapi import APIRouter, Query
from pyproj import Geod

from airgrid.airspace.errors import OutsideGridError
from airgrid.airspace.grid.altitude import AltitudeReference, resolve_altitude
from airgrid.airspace.grid.codes.overlap import voxel_centres, voxel_codes
from airgrid.airspace.grid.voxels import BLOCKING, Grid, Status
from airgrid.api.http.errors import InputError, LimitError
from airgrid.api.http.jsonbody import ThreadBodyRoute
from airgrid.api.http.routes.deps import V1, PrincipalDep, Services, ServicesDep
from airgrid.api.http.schemas.common import Lat, Lon, PolygonGeometry, error_responses
from airgrid.api.http.schemas.grid import (
    ElevationPublic,
    LocatePublic,
    ProfileCreate,
    ProfilePoint,
    ProfilePublic,
    TierPublic,
    TiersPublic,
    VoxelCollection,
    VoxelFeature,
    VoxelProperties,
    VoxelPublic,
)

#: The altitude of a point query, in metres from its ``alt_ref``.
AltQuery = Annotated[
    float,
    Query(
        ge=-500,
        le=20_000,
        allow_inf_nan=False,
        examples=[250.0],
        description="Altitude in metres, measured from alt_ref.",
    ),
]


router = APIRouter(
    route_class=ThreadBodyRoute,
    prefix=f"{V1}/grid",
    tags=["grid"],
    responses=error_responses(401, 422),
)

GEOD = Geod(ellps="WGS84")

BboxQuery = Annotated[
    str,
    Query(
        pattern=r"^\s*-?[0-9.]+\s*,\s*-?[0-9.]+\s*,\s*-?[0-9.]+\s*,\s*-?[0-9.]+\s*$",
        description="west,south,east,north in degrees (RFC 7946 order).",
        examples=["112.98,28.26,113.01,28.29"],
    ),
]


def status_names(bits: int) -> list[str]:
    """Names of the status flags set in ``bits``."""
    return [f.name for f in Status if bits & f and f.name]


def codes_of_voxels(services: Services, voxels: np.ndarray) -> list[tuple[str, str]]:
    """(Beidou 3D code, spatial ID) of each voxel's centre: Beidou from its height above
    the ellipsoid, the spatial ID from its height above mean sea level."""
    if len(voxels) == 0:
        return []
    lat, lon, mid = voxel_centres(services.grid, voxels)
    bd, sid = voxel_codes(lat, lon, mid, np.asarray(services.geoid.undulation(lat, lon), float))
    return list(zip(bd.tolist(), sid.tolist()))


def voxel_public(grid: Grid, v: int, codes: tuple[str, str]) -> VoxelPublic:
    """The public form of voxel ``v`` with its centre's (Beidou, ZFXY) codes."""
    bits = int(grid.status[v])
    cell = h3.int_to_str(int(grid.cell[v]))
    floor, ceiling = float(grid.floor[v]), float(grid.ceiling[v])
    g_lo, g_hi = float(grid.cell_g_lo[grid.voxel_cell[v]]), float(grid.g_hi[v])
    return VoxelPublic(
        id=f"{cell}:{int(grid.layer[v])}",
        cell=cell,
        layer=int(grid.layer[v]),
        tier=grid.tiers[int(grid.tier[v])].name,
        floor_m=floor,
        ceiling_m=ceiling,
        g_lo_m=g_lo,
        g_hi_m=g_hi,
        true_height_range_m=(round(floor - g_hi, 1), round(ceiling - g_lo, 1)),
        usable=(bits & int(BLOCKING)) == 0,
        status=status_names(bits),
        beidou=codes[0],
        zfxy=codes[1],
    )


def parse_bbox(text: str) -> shapely.Polygon:
    """A lon/lat box from 'west,south,east,north'.

    Raises
    ------
    InputError
        Not four numbers, out of range, or empty.
    """
    try:
        w, s, e, n = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"bbox must be four numbers west,south,east,north, got {text!r}") from None
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise InputError(
            f"bbox must be west<east in [-180,180] and south<north in [-90,90], got {text!r}"
        )
    return shapely.box(w, s, e, n)


def area_km2(geom: shapely.Geometry) -> float:
    """Geodesic area of a lon/lat polygon in square kilometres."""
    area, _ = GEOD.geometry_area_perimeter(geom)
    return abs(area) / 1e6


def check_area(geom: shapely.Geometry, limit_km2: float, what: str) -> None:
    """Refuse areas over the configured limit.

    Raises
    ------
    LimitError
        The area is larger than ``limit_km2``.
    """
    km2 = area_km2(geom)
    if km2 > limit_km2:
        raise LimitError(
            f"{what} covers {km2:.1f} km², over the limit of {limit_km2:g} km²; query a smaller box"
        )


@router.get("/tiers", response_model=TiersPublic, summary="Tiers of the loaded grid")
def tiers(services: ServicesDep, _: PrincipalDep) -> TiersPublic:
    """Each tier's band, resolution, layer thickness and voxel counts."""
    grid = services.grid
    rows = []
    for tier, row in zip(grid.tiers, grid.tier_summary()):
        rows.append(
            TierPublic(
                name=tier.name,
                resolution=tier.resolution,
                lower_m=tier.lower_m,
                upper_m=tier.upper_m,
                thickness_m=tier.thickness_m,
                use=tier.use,
                cells=row["cells"],
                voxels=row["voxels"],
                usable=row["usable"],
                terrain_blocked=row["terrain_blocked"],
                exists_share=row["exists_share"],
                ground_span_m_median=row["span_m_median"],
                cells_lost_to_envelope=row["cells_lost_to_envelope"],
            )
        )
    return TiersPublic(
        area=str(grid.meta.get("area", "")), clearance_m=grid.tiers.clearance_m, tiers=rows
    )


@router.get(
    "/voxel",
    response_model=LocatePublic,
    summary="The voxel at a point and altitude",
    responses=error_responses(404),
)
def voxel(
    services: ServicesDep,
    _: PrincipalDep,
    lon: Annotated[Lon, Query(examples=[112.99])],
    lat: Annotated[Lat, Query(examples=[28.27])],
    alt_m: AltQuery,
    alt_ref: Annotated[
        AltitudeReference,
        Query(
            description="AMSL (mean sea level), AGL (above the ground, resolved over the highest plausible ground "
            "of the finest cell there) or W84 (WGS84 ellipsoid, through the EGM96 geoid)."
        ),
    ] = AltitudeReference.AMSL,
) -> LocatePublic:
    """Which voxel contains the point, whether it may be flown, and why not.

    A point inside the grid's area but in no voxel (below the lowest tier, between
    tiers, above the top) answers 200 with ``voxel: null`` and the reason; a point
    outside the grid's area answers 404.
    """
    grid = services.grid
    if np.isnan(grid.ground_at(lat, lon)[1]):
        raise OutsideGridError(
            f"({lon}, {lat}) is outside the grid's area "
            f"{grid.meta.get('area', '')} {grid.meta.get('area_bounds', '')}"
        )
    alt = resolve_altitude(alt_m, alt_ref, lat, lon, grid=grid, geoid=services.geoid)
    loc = grid.locate(lat, lon, alt.alt_amsl_m)
    return LocatePublic(
        lon=lon,
        lat=lat,
        alt_m=alt_m,
        alt_ref=alt_ref.value,
        alt_amsl_m=round(alt.alt_amsl_m, 2),
        alt_resolution=alt.how,
        voxel=(
            voxel_public(grid, loc.voxel, codes_of_voxels(services, np.array([loc.voxel]))[0])
            if loc.voxel >= 0
            else None
        ),
        tier=grid.tiers[loc.tier].name,
        cell=loc.cell or None,
        layer=loc.layer,
        usable=loc.usable,
        reason=loc.reason,
    )


LayerQuery = Annotated[
    int | None,
    Query(ge=0, le=10_000, description="Only this absolute layer (with tier).", examples=[12]),
]


def _voxels_in_box(
    services: Services, bbox: str, tier: str | None, keep: Callable[[np.ndarray], np.ndarray]
) -> VoxelCollection:
    """The voxels of the cells overlapping the box (one tier or all) that ``keep`` selects.

    ``keep`` maps an array of voxel indices to a boolean mask of those to answer.

    Raises
    ------
    InputError
        A malformed box.
    LimitError
        The box is over ``max_query_area_km2`` or the answer over ``max_query_voxels``.
    """
    grid = services.grid
    lim = services.settings
    box = parse_bbox(bbox)
    check_area(box, lim.max_query_area_km2, "the bbox")
    tier_ids = [grid.tiers.index(tier)] if tier else range(len(grid.tiers))
    shape = h3.geo_to_h3shape(shapely.geometry.mapping(box))
    picked: list[np.ndarray] = []
    total = 0
    for t in tier_ids:
        cells = h3.h3shape_to_cells_experimental(shape, grid.tiers[t].resolution, contain="overlap")
        ci = grid.find_cells(
            np.fromiter((h3.str_to_int(c) for c in cells), np.int64, len(cells)), t
        )
        ci = np.sort(ci[ci >= 0])
        if len(ci) == 0:
            continue
        counts = grid.cell_nlayers[ci].astype(np.int64)
        vox = np.repeat(grid.cell_start[ci], counts) + (
            np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        )
        vox = vox[keep(vox)]
        total += len(vox)
        if total > lim.max_query_voxels:
            raise LimitError(
                f"the query matches more than {lim.max_query_voxels} voxels; "
                "narrow the bbox or pick one tier"
            )
        picked.append(vox)
    features = []
    rings: dict[int, PolygonGeometry] = {}
    every = np.concatenate(picked) if picked else np.zeros(0, np.int64)
    for v, codes in zip(every.tolist(), codes_of_voxels(services, every)):
        c = int(grid.cell[v])
        if c not in rings:
            boundary = [(lng, lat) for lat, lng in h3.cell_to_boundary(h3.int_to_str(c))]
            rings[c] = PolygonGeometry.from_shapely(shapely.Polygon(boundary))
        pub = voxel_public(grid, v, codes)
        features.append(
            VoxelFeature(
                type="Feature",
                id=pub.id,
                geometry=rings[c],
                properties=VoxelProperties(**pub.model_dump(exclude={"id"})),
            )
        )
    return VoxelCollection(type="FeatureCollection", features=features)


@router.get("/voxels", response_model=VoxelCollection, summary="Voxels of an area")
def voxels(
    services: ServicesDep,
    _: PrincipalDep,
    bbox: BboxQuery,
    tier: Annotated[
        str | None, Query(description="Only this tier (name).", examples=["T2"])
    ] = None,
    usable: Annotated[
        bool | None, Query(description="Only usable (true) or blocked (false) voxels.")
    ] = None,
    layer: LayerQuery = None,
) -> VoxelCollection:
    """Every voxel whose cell overlaps the box, as hexagon Features (GeoJSON).

    Each hexagon's ``floor_m`` and ``ceiling_m`` (m AMSL) are the voxel's; ``status``
    names its flags. The box may cover at most ``max_query_area_km2`` and the answer
    hold at most ``max_query_voxels`` voxels (422 otherwise, naming the count: narrow the
    box or pick a tier). ``layer`` (absolute layer number of ``tier``) needs ``tier``.
    """
    if layer is not None and tier is None:
        raise InputError("layer needs tier: layers are numbered per tier")
    grid = services.grid

    def keep(vox: np.ndarray) -> np.ndarray:
        ok = np.ones(len(vox), bool)
        if usable is not None:
            ok &= ((grid.status[vox] & np.uint8(BLOCKING)) == 0) == usable
        if layer is not None:
            ok &= grid.layer[vox] == layer
        return ok

    return _voxels_in_box(services, bbox, tier, keep)


@router.get("/corridors", response_model=VoxelCollection, summary="Corridor voxels of an area")
def corridors(
    services: ServicesDep,
    _: PrincipalDep,
    bbox: BboxQuery,
    tier: Annotated[
        str | None, Query(description="Only this tier (name).", examples=["T2"])
    ] = None,
) -> VoxelCollection:
    """The voxels of planned corridors whose cell overlaps the box, as hexagon Features.

    Corridors are the marks ``airgrid corridors --save-grid`` leaves in a grid: status
    ``CORRIDOR``, and ``LANE_B`` on the lane of the reverse direction. A grid without
    corridors answers an empty collection. Limits as for ``/v1/grid/voxels``.
    """
    grid = services.grid
    return _voxels_in_box(
        services, bbox, tier, lambda vox: (grid.status[vox] & np.uint8(Status.CORRIDOR)) != 0
    )


@router.get("/elevation", response_model=ElevationPublic, summary="Terrain height at a point")
def elevation(
    services: ServicesDep,
    _: PrincipalDep,
    lon: Annotated[Lon, Query(examples=[112.99])],
    lat: Annotated[Lat, Query(examples=[28.27])],
) -> ElevationPublic:
    """The DEM's best estimate (bilinear, m AMSL) with the grid's ground bounds there (422 outside the DEM)."""
    dem = services.dem
    h = float(dem.elevation(lat, lon))
    g_lo, g_hi = services.grid.ground_at(lat, lon)
    inside = not np.isnan(g_hi)
    return ElevationPublic(
        lon=lon,
        lat=lat,
        elevation_m=h,
        g_lo_m=g_lo if inside else None,
        g_hi_m=g_hi if inside else None,
        geoid_undulation_m=round(float(services.geoid.undulation(lat, lon)), 3),
        dem_accuracy=dem.accuracy.describe(),
    )


@router.post(
    "/profile",
    response_model=ProfilePublic,
    summary="Terrain profile along a line",
    responses=error_responses(413),
)
def profile(services: ServicesDep, _: PrincipalDep, body: ProfileCreate) -> ProfilePublic:
    """Heights at evenly spaced geodesic distances along a line, ends included."""
    lim = services.settings
    coords = np.array([p[:2] for p in body.line.coordinates], float)
    if len(coords) > lim.max_polygon_vertices:
        raise LimitError(
            f"the line has {len(coords)} vertices, over the limit of {lim.max_polygon_vertices}"
        )
    if body.samples > lim.max_profile_samples:
        raise LimitError(f"{body.samples} samples asked, the limit is {lim.max_profile_samples}")
    lon, lat = coords[:, 0], coords[:, 1]
    az, _, seg = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    seg = np.atleast_1d(np.asarray(seg, float))
    az = np.atleast_1d(np.asarray(az, float))
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    length = float(cum[-1])
    if length <= 0:
        raise InputError("the line has zero length; give two distinct positions")
    dist = np.linspace(0.0, length, body.samples)
    k = np.clip(np.searchsorted(cum, dist, side="right") - 1, 0, len(seg) - 1)
    plon, plat, _ = GEOD.fwd(lon[k], lat[k], az[k], dist - cum[k])
    plon, plat = np.atleast_1d(plon), np.atleast_1d(plat)
    plon[-1], plat[-1] = lon[-1], lat[-1]
    h = np.atleast_1d(services.dem.elevation(plat, plon))
    pts = [
        ProfilePoint(distance_m=float(d), lon=float(a), lat=float(b), elevation_m=float(e))
        for d, a, b, e in zip(dist, plon, plat, h)
    ]
    return ProfilePublic(
        length_m=length, min_elevation_m=float(h.min()), max_elevation_m=float(h.max()), points=pts
    )
