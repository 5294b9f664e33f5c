"""Models of the grid-code routes: a point's Beidou and ZFXY codes, a code's box and voxels."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from airgrid.api.http.schemas.grid import LocatePublic


class BeidouCodes(BaseModel):
    """A point's Beidou grid location codes (GB/T 39409-2020) at one level."""

    level: int = Field(description="1 (6° x 4°) to 10 (1/2048 arc-second).")
    code_2d: str = Field(description="The 2D code (20 characters at level 10).")
    height_code: str = Field(description="The height code: sign, then one digit per level.")
    code_3d: str = Field(
        description="The 3D code in the interleaved layout (hemisphere, height sign, then "
        "per level the 2D characters and the height characters); 32 characters at level 10."
    )
    code_3d_appended: str = Field(description="The 3D code as the 2D code then the height code.")


class ZfxyCode(BaseModel):
    """A point's 4D spatial ID."""

    zoom: int
    id: str = Field(description="z/f/x/y; f counts 2**(25 - z) m layers above mean sea level.")


class GridCodesPublic(BaseModel):
    """Both standard codes of a point, and the airgrid voxel there."""

    lon: float
    lat: float
    alt_m: float
    alt_ref: str
    alt_amsl_m: float = Field(description="The altitude in metres AMSL.")
    alt_w84_m: float = Field(
        description="Height above the WGS84 ellipsoid (AMSL plus the EGM96 undulation): the "
        "height the Beidou codes are computed from (the spatial ID uses alt_amsl_m)."
    )
    beidou: BeidouCodes
    zfxy: ZfxyCode
    located: LocatePublic | None = Field(
        description="The airgrid voxel holding the point (as GET /v1/grid/voxel), or null "
        "outside the grid's area."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "lon": 112.99,
                    "lat": 28.27,
                    "alt_m": 250.0,
                    "alt_ref": "AMSL",
                    "alt_amsl_m": 250.0,
                    "alt_w84_m": 233.31,
                    "beidou": {
                        "level": 10,
                        "code_2d": "N49H903E663000000000",
                        "height_code": "000000116342",
                        "code_3d": "N049H0090030E6063101006003004002",
                        "code_3d_appended": "N49H903E663000000000000000116342",
                    },
                    "zfxy": {"zoom": 25, "id": "25/250/27308647/14028343"},
                    "located": None,
                }
            ]
        }
    )


class GridCodeBoxPublic(BaseModel):
    """The box a Beidou code or spatial ID stands for, and the airgrid voxels overlapping it."""

    code: str
    kind: Literal["beidou2d", "beidou3d", "zfxy"]
    level: int = Field(description="Beidou level (1-10) or ZFXY zoom.")
    bbox: list[float] = Field(
        min_length=4, max_length=4, description="west, south, east, north in degrees."
    )
    bottom_w84_m: float | None = Field(
        description="Bottom, metres above the WGS84 ellipsoid: a Beidou code's own; a "
        "spatial ID's (measured from mean sea level) plus the least undulation under the box "
        "over the grid's area. Null for a 2D code, or a spatial ID outside the grid."
    )
    top_w84_m: float | None = Field(
        description="Top above the ellipsoid (a spatial ID's top plus the greatest undulation)."
    )
    bottom_amsl_m: float | None = Field(
        description="Bottom, metres AMSL: a spatial ID's own; a Beidou code's bottom minus "
        "the greatest undulation under the box over the grid's area. Null for a 2D code, or "
        "a Beidou code outside the grid."
    )
    top_amsl_m: float | None = Field(
        description="Top, metres AMSL (a Beidou code's top minus the least undulation)."
    )
    voxel_count: int = Field(
        description="Airgrid voxels whose hexagon and height range overlap the box."
    )
    voxels: list[str] = Field(description="Their ids '<h3 cell>:<layer>', sorted by index.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "N049H0090030E2060101006",
                    "kind": "beidou3d",
                    "level": 7,
                    "bbox": [112.99, 28.2, 112.99006944444444, 28.200069444444445],
                    "bottom_w84_m": 229.919,
                    "top_w84_m": 237.583,
                    "bottom_amsl_m": 246.542,
                    "top_amsl_m": 254.206,
                    "voxel_count": 1,
                    "voxels": ["8941890016fffff:12"],
                }
            ]
        }
    )
