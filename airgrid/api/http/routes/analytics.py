"""Density and capacity analytics for planners, regulators and admins (operators: 403).

``GET /v1/analytics/density`` answers, per H3 cell of a tier and time bin of a window,
the traffic count, occupancy, conflicts and refusals with the cell's capacity, load,
hotspot flag and suggestion (:mod:`airgrid.analytics`): a GeoJSON FeatureCollection of
hexagons (``format=geojson``, what the map page draws) or plain rows (``format=json``).
``GET /v1/analytics/hotspots`` lists the cells over capacity. Each request reads at most
``max_analytics_volumes`` stored volumes and answers at most ``max_analytics_bins`` bins
and ``max_analytics_rows`` (cell, bin) rows; beyond, 422 ``analytics-limit``. A window
whose end is not after its start is 422 ``analytics-window``; an unknown tier 422
``analytics-tier``.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query, Response

from airgrid.analytics.capacity import CapacityTable, Places
from airgrid.analytics.density import Window
from airgrid.analytics.errors import AnalyticsInputError, AnalyticsLimitError
from airgrid.analytics.hotspots import hotspot_cells
from airgrid.analytics.outputs import feature_properties, iso, to_geojson
from airgrid.analytics.source import Limits, analyse_store, tier_named
from airgrid.api.http.auth import Principal, Role
from airgrid.api.http.errors import ApiError
from airgrid.api.http.jsonbody import dump_json
from airgrid.api.http.routes.deps import V1, Services, ServicesDep, require
from airgrid.api.http.schemas.analytics import DensityCollection, DensityRows, HotspotList
from airgrid.api.http.schemas.common import EXAMPLE_DAY, Instant, error_responses

GEOJSON_MEDIA_TYPE = "application/geo+json"

router = APIRouter(
    prefix=f"{V1}/analytics", tags=["analytics"], responses=error_responses(401, 403, 422)
)

PlannerDep = Annotated[Principal, Depends(require(Role.PLANNER, Role.REGULATOR, Role.ADMIN))]
TierQuery = Annotated[str, Query(description="Tier name.", examples=["T2"], max_length=32)]
StartQuery = Annotated[
    Instant, Query(description="Window start (RFC 3339).", examples=[f"{EXAMPLE_DAY}T08:00:00Z"])
]
EndQuery = Annotated[
    Instant, Query(description="Window end (RFC 3339).", examples=[f"{EXAMPLE_DAY}T09:00:00Z"])
]
BinQuery = Annotated[
    float, Query(description="Bin length, seconds.", gt=0, le=86_400, allow_inf_nan=False)
]


class AnalyticsProblem(ApiError, ValueError):
    """A window, tier or size the analytics refuse (422 with its own problem type)."""

    status = 422

    def __init__(self, detail: str, *, slug: str) -> None:
        super().__init__(detail)
        self.slug = slug


@lru_cache(maxsize=4)
def _capacity(path: Path, stamp: float) -> CapacityTable:
    return CapacityTable.from_toml(path)


@lru_cache(maxsize=4)
def _places(data_dir: Path) -> Places:
    return Places.read(data_dir)


def _assessed(
    services: Services, tier: str, start: datetime, end: datetime, bin_s: float
) -> tuple[Window, pd.DataFrame]:
    """The assessed table of a request, its errors turned into problems."""
    s = services.settings
    if end <= start:
        raise AnalyticsProblem("end must be after start", slug="analytics-window")
    try:
        chosen = tier_named(services.grid.tiers, tier)
    except AnalyticsInputError as exc:
        raise AnalyticsProblem(str(exc), slug="analytics-tier") from None
    try:
        window = Window(start.timestamp(), end.timestamp(), bin_s)
        path = Path(s.capacity_path)
        table = _capacity(path, path.stat().st_mtime if path.exists() else 0.0)
        limits = Limits(s.max_analytics_bins, s.max_analytics_volumes, s.max_analytics_rows)
        return window, analyse_store(
            services.stores.get(), chosen, window, table, _places(Path(s.data_dir)), limits
        )
    except AnalyticsLimitError as exc:
        raise AnalyticsProblem(str(exc), slug="analytics-limit") from None
    except AnalyticsInputError as exc:
        raise AnalyticsProblem(str(exc), slug="analytics-input") from None


@router.get(
    "/density",
    response_model=DensityCollection | DensityRows,
    summary="Traffic, occupancy, conflicts, refusals and load per cell and time bin",
    responses={200: {"content": {GEOJSON_MEDIA_TYPE: {}}}},
)
def density(
    services: ServicesDep,
    _: PlannerDep,
    start: StartQuery,
    end: EndQuery,
    tier: TierQuery = "T2",
    bin_s: BinQuery = 900.0,
    format: Annotated[
        Literal["geojson", "json"], Query(description="GeoJSON hexagons or plain rows.")
    ] = "geojson",
) -> Response:
    """Per cell of ``tier`` and bin of ``[start, end)``: ``count`` (intents whose volumes
    touch the cell), ``occupancy``, ``conflicts``, ``refusals``, ``capacity`` (flights per
    bin, by area class), ``load`` (count / capacity), ``hotspot`` and ``suggestion``.
    Only cells and bins with traffic, conflicts or refusals are listed."""
    window, assessed = _assessed(services, tier, start, end, bin_s)
    if format == "geojson":
        return Response(dump_json(to_geojson(assessed)), media_type=GEOJSON_MEDIA_TYPE)
    rows = DensityRows(
        tier=tier,
        start=iso(window.start),
        end=iso(window.end),
        bin_s=bin_s,
        rows=[feature_properties(r) for r in assessed.to_dict("records")],
    )
    return Response(dump_json(rows), media_type="application/json")


@router.get("/hotspots", response_model=HotspotList, summary="Cells over capacity")
def hotspots(
    services: ServicesDep,
    _: PlannerDep,
    start: StartQuery,
    end: EndQuery,
    tier: TierQuery = "T2",
    bin_s: BinQuery = 900.0,
) -> Response:
    """Every cell of ``tier`` over capacity in at least one bin of ``[start, end)``, with
    the bins it is over, its peak count and load and, for cells that stay over capacity,
    the suggested one-way or layered operation; highest peak load first."""
    window, assessed = _assessed(services, tier, start, end, bin_s)
    cells: pd.DataFrame = hotspot_cells(assessed)
    records = cells.to_dict("records")
    for r in records:
        r["suggestion"] = r["suggestion"] or None
    body = HotspotList(
        tier=tier,
        start=iso(window.start),
        end=iso(window.end),
        bin_s=bin_s,
        bins=window.n_bins,
        cells=records,
    )
    return Response(dump_json(body), media_type="application/json")
