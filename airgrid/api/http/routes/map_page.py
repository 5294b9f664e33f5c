"""The map page (``/map``) and the offline background it draws under the API's layers.

The page and its scripts are static files of ``airgrid/api/http/web/`` (package data),
served without a key; every layer the page shows comes through the public ``/v1`` API
with the key the user enters, including the background below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from airgrid.api.http.background import MapBackground, corners
from airgrid.api.http.routes.deps import V1, PrincipalDep
from airgrid.api.http.schemas.common import error_responses

#: Folder of the page, its scripts and the vendored MapLibre GL JS.
WEB_DIR = Path(__file__).resolve().parents[1] / "web"
#: Where the page's files are served.
STATIC_PREFIX = "/map/static"

page_router = APIRouter(include_in_schema=False)

router = APIRouter(prefix=f"{V1}/map", tags=["map"], responses=error_responses(401, 422))


class HillshadePublic(BaseModel):
    """Where the hillshade image lies, for a map's image source."""

    image: str = Field(description="Path of the PNG (same key).")
    bounds: list[float] = Field(
        min_length=4, max_length=4, description="west, south, east, north in degrees."
    )
    coordinates: list[list[float]] = Field(
        description="Corners [lon, lat] clockwise from the top left, as MapLibre's image source takes them."
    )
    width: int
    height: int
    projection: str = Field(
        description="Rows are evenly spaced in Web Mercator y (EPSG:3857), columns in longitude."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "image": "/v1/map/hillshade.png",
                    "bounds": [108.8, 24.6, 114.3, 30.1],
                    "coordinates": [[108.8, 30.1], [114.3, 30.1], [114.3, 24.6], [108.8, 24.6]],
                    "width": 660,
                    "height": 712,
                    "projection": "EPSG:3857 rows",
                }
            ]
        }
    )


def _background(request: Request) -> MapBackground:
    return request.app.state.map_background


@page_router.get("/map")
def page() -> FileResponse:
    """The map page."""
    return FileResponse(WEB_DIR / "map.html", media_type="text/html")


@router.get("/hillshade", response_model=HillshadePublic, summary="Hillshade placement")
def hillshade_meta(request: Request, _: PrincipalDep) -> HillshadePublic:
    """Bounds and corners of the served DEM's hillshade (rendered once per process)."""
    shade = _background(request).hillshade()
    return HillshadePublic(
        image=f"{V1}/map/hillshade.png",
        bounds=list(shade.bounds),
        coordinates=corners(shade.bounds),
        width=shade.width,
        height=shade.height,
        projection="EPSG:3857 rows",
    )


@router.get(
    "/hillshade.png",
    summary="Hillshade image",
    response_class=Response,
    responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}}}},
)
def hillshade_png(request: Request, _: PrincipalDep) -> Response:
    """The served DEM's shaded relief as a grey and alpha PNG (voids transparent)."""
    shade = _background(request).hillshade()
    return Response(
        shade.png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"}
    )


@router.get(
    "/boundaries/{level}",
    summary="Hunan boundaries",
    response_class=Response,
    responses={
        200: {
            "content": {"application/geo+json": {"schema": {"type": "object"}}},
            "description": "A FeatureCollection of (Multi)Polygons with name and gb code.",
        }
    },
)
def boundaries(
    request: Request,
    _: PrincipalDep,
    level: Annotated[
        Literal["province", "prefectures", "counties"], PathParam(examples=["prefectures"])
    ],
) -> Response:
    """The province, its prefectures or its counties (CGCS2000 lon/lat, within about 1 m of WGS84)."""
    return Response(
        _background(request).boundaries(level),
        media_type="application/geo+json",
        headers={"Cache-Control": "private, max-age=3600"},
    )
