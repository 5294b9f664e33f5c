"""Models of the grid routes: tiers, voxels, located points, elevations and terrain profiles."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from airgrid.api.http.schemas.common import LineStringGeometry, PolygonGeometry


class TierPublic(BaseModel):
    """One tier of the loaded grid."""

    name: str
    resolution: int = Field(description="H3 resolution of the tier's cells.")
    lower_m: float = Field(
        description="Bottom of the band of true height: every usable voxel's floor is at "
        "least this far above the highest plausible ground of its cell."
    )
    upper_m: float = Field(
        description="Top of the band of true height: every voxel's ceiling is at most this "
        "far above the lowest plausible ground of its cell."
    )
    thickness_m: float = Field(description="Layer thickness; layer k spans [k*t, (k+1)*t) m AMSL.")
    use: str
    cells: int
    voxels: int
    usable: int = Field(description="Voxels with no blocking status.")
    terrain_blocked: float = Field(description="Share of voxels blocked by terrain clearance.")
    exists_share: float = Field(
        description="Share of the tier's cells with at least one usable voxel; elsewhere "
        "the ground is too uncertain for the band, or it is blocked."
    )
    ground_span_m_median: float = Field(
        description="Median over the tier's cells of g_hi - g_lo, the width of "
        "the certain range of the ground."
    )
    cells_lost_to_envelope: int = Field(
        description="Cells where the band fits over the cell's own ground but "
        "not over the continuity envelope (the ceiling rule wins)."
    )


class TiersPublic(BaseModel):
    """The loaded grid's tiers."""

    area: str
    clearance_m: float
    tiers: list[TierPublic]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "area": "changsha",
                    "clearance_m": 30.0,
                    "tiers": [
                        {
                            "name": "T2",
                            "resolution": 9,
                            "lower_m": 120.0,
                            "upper_m": 300.0,
                            "thickness_m": 20.0,
                            "use": "logistics corridors",
                            "cells": 124384,
                            "voxels": 118110,
                            "usable": 118110,
                            "terrain_blocked": 0.0,
                            "exists_share": 0.3475,
                            "ground_span_m_median": 206.0,
                            "cells_lost_to_envelope": 4698,
                        }
                    ],
                }
            ]
        }
    )


class VoxelPublic(BaseModel):
    """One voxel: an H3 cell between a floor and a ceiling (m AMSL)."""

    id: str = Field(description="'<h3 cell>:<layer>'.")
    cell: str
    layer: int
    tier: str
    floor_m: float = Field(description="Bottom, metres AMSL.")
    ceiling_m: float = Field(description="Top, metres AMSL.")
    g_lo_m: float = Field(description="Lowest plausible ground under the cell, metres AMSL.")
    g_hi_m: float = Field(description="Highest plausible ground under the cell, metres AMSL.")
    true_height_range_m: tuple[float, float] = Field(
        description="Certain range of true height inside the voxel: floor - g_hi_m to ceiling - g_lo_m."
    )
    usable: bool
    status: list[str] = Field(description="Status flags: TERRAIN, GEOFENCE, CORRIDOR ...")
    beidou: str = Field(
        description="Beidou 3D grid location code (GB/T 39409-2020, level 10, interleaved "
        "layout) of the voxel's centre: the cell centre at mid-height, as a WGS84 ellipsoidal height."
    )
    zfxy: str = Field(
        description="4D spatial ID z/f/x/y (zoom 25, height above mean sea level) of the voxel's centre."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "8941890f497ffff:12",
                    "cell": "8941890f497ffff",
                    "layer": 12,
                    "tier": "T2",
                    "floor_m": 240.0,
                    "ceiling_m": 260.0,
                    "g_lo_m": 5.0,
                    "g_hi_m": 67.0,
                    "true_height_range_m": [173.0, 255.0],
                    "usable": True,
                    "status": [],
                    "beidou": "N049H0090030E6053131066163434172",
                    "zfxy": "25/250/27308596/14028234",
                }
            ]
        }
    )


class LocatePublic(BaseModel):
    """Which voxel holds a point, or why none does."""

    lon: float
    lat: float
    alt_m: float = Field(description="The altitude as given, in the reference alt_ref.")
    alt_ref: str = Field(description="AMSL, AGL or W84.")
    alt_amsl_m: float = Field(description="The altitude in metres AMSL, as located.")
    alt_resolution: str = Field(description="How alt_m was turned into alt_amsl_m.")
    voxel: VoxelPublic | None = Field(description="The voxel, or null when the point is in none.")
    tier: str | None = Field(description="Tier of the voxel or of the nearest tier column.")
    cell: str | None
    layer: int
    usable: bool
    reason: str = Field(description="Why not usable or why no voxel ('' when usable).")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lon": 112.99,
                    "lat": 28.27,
                    "alt_m": 250.0,
                    "alt_ref": "AMSL",
                    "alt_amsl_m": 250.0,
                    "alt_resolution": "AMSL as given",
                    "voxel": {
                        "id": "8941890f497ffff:12",
                        "cell": "8941890f497ffff",
                        "layer": 12,
                        "tier": "T2",
                        "floor_m": 240.0,
                        "ceiling_m": 260.0,
                        "g_lo_m": 5.0,
                        "g_hi_m": 67.0,
                        "true_height_range_m": [173.0, 255.0],
                        "usable": True,
                        "status": [],
                        "beidou": "N049H0090030E6053131066163434172",
                        "zfxy": "25/250/27308596/14028234",
                    },
                    "tier": "T2",
                    "cell": "8941890f497ffff",
                    "layer": 12,
                    "usable": True,
                    "reason": "",
                }
            ]
        }
    )


class VoxelProperties(BaseModel):
    """Properties of a voxel Feature."""

    cell: str
    layer: int
    tier: str
    floor_m: float
    ceiling_m: float
    g_lo_m: float
    g_hi_m: float
    true_height_range_m: tuple[float, float]
    usable: bool
    status: list[str]
    beidou: str
    zfxy: str


class VoxelFeature(BaseModel):
    """A voxel as a GeoJSON Feature (its hexagon; floor and ceiling in properties)."""

    type: Literal["Feature"]
    id: str
    geometry: PolygonGeometry
    properties: VoxelProperties


class VoxelCollection(BaseModel):
    """Voxels of an area as a GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"]
    features: list[VoxelFeature]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "id": "89418901a03ffff:9",
                            "geometry": {
                                "type": "Polygon",
                                "coordinates": [
                                    [
                                        [113.0048637, 28.263792],
                                        [113.004459, 28.2655135],
                                        [113.002584, 28.2662029],
                                        [113.0011137, 28.2651709],
                                        [113.0015184, 28.2634493],
                                        [113.0033935, 28.2627599],
                                        [113.0048637, 28.263792],
                                    ]
                                ],
                            },
                            "properties": {
                                "cell": "89418901a03ffff",
                                "layer": 9,
                                "tier": "T2",
                                "floor_m": 180.0,
                                "ceiling_m": 200.0,
                                "g_lo_m": 7.0,
                                "g_hi_m": 60.0,
                                "true_height_range_m": [120.0, 193.0],
                                "usable": True,
                                "status": [],
                                "beidou": "N049H00A00200502D110306044227306",
                                "zfxy": "25/190/27309857/14028927",
                            },
                        }
                    ],
                }
            ]
        }
    )


class ElevationPublic(BaseModel):
    """Terrain height at a point (bilinear in the DEM)."""

    lon: float
    lat: float
    elevation_m: float = Field(description="The DEM's best estimate (bilinear), metres AMSL.")
    g_lo_m: float | None = Field(
        description="Lowest plausible ground of the grid cell there (m AMSL); null "
        "outside the grid."
    )
    g_hi_m: float | None = Field(
        description="Highest plausible ground of the grid cell there (m AMSL); null "
        "outside the grid."
    )
    geoid_undulation_m: float = Field(
        description="EGM96 geoid height above the WGS84 ellipsoid there: a W84 "
        "height is elevation_m plus this."
    )
    dem_accuracy: str = Field(
        description="The DEM's uncertainty model (upward and downward margins)."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lon": 112.99,
                    "lat": 28.27,
                    "elevation_m": 28.7,
                    "g_lo_m": 5.0,
                    "g_hi_m": 67.0,
                    "geoid_undulation_m": -16.69,
                    "dem_accuracy": "up 20 m + 2 x relief, down 15 m + 1 x relief (3x3-pixel window)",
                }
            ]
        }
    )


class ProfileCreate(BaseModel):
    """A terrain profile request: a line and how many evenly spaced samples."""

    line: LineStringGeometry
    samples: int = Field(100, ge=2, description="Samples along the whole line, ends included.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "line": {
                        "type": "LineString",
                        "coordinates": [[112.93, 28.15], [113.02, 28.22]],
                    },
                    "samples": 50,
                }
            ]
        }
    )


class ProfilePoint(BaseModel):
    """One profile sample."""

    distance_m: float = Field(description="Along the line from its start (geodesic).")
    lon: float
    lat: float
    elevation_m: float = Field(description="The DEM's best estimate (bilinear), metres AMSL.")


class ProfilePublic(BaseModel):
    """Terrain heights along a line."""

    length_m: float
    min_elevation_m: float
    max_elevation_m: float
    points: list[ProfilePoint]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "length_m": 11759.2,
                    "min_elevation_m": 27.3,
                    "max_elevation_m": 53.8,
                    "points": [
                        {"distance_m": 0.0, "lon": 112.93, "lat": 28.15, "elevation_m": 38.7},
                        {
                            "distance_m": 240.0,
                            "lon": 112.9318356,
                            "lat": 28.1514292,
                            "elevation_m": 37.8,
                        },
                    ],
                }
            ]
        }
    )
