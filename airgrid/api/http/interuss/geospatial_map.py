"""``/geospatial_map/v1``: InterUSS's geospatial map automated-testing interface (v0.2.3).

=================================================  ==================================  ======
route                                              what                                scope
=================================================  ==================================  ======
``GET /status``                                    Ready                               direct
``GET /geospatial_data_sources``                   the sources loaded                  direct
``PUT /geospatial_data_sources/{id}``              load an ED-269 source by URL        direct
``GET /geospatial_data_sources/{id}``              its status (404 when unknown)       direct
``DELETE /geospatial_data_sources/{id}``           deactivate it (its geofences go)    direct
``POST /map/queries``                              Present / Absent per check          query
=================================================  ==================================  ======

"direct" is ``interuss.geospatial_map.direct_automated_test``, "query"
``interuss.geospatial_map.query``. Loading and the filters:
:mod:`airgrid.api.http.interuss.geomap`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi import Path as PathParam

from airgrid.api.http.auth import TokenClaims
from airgrid.api.http.interuss.geomap import DataSources, query
from airgrid.api.http.interuss.schemas import (
    UUID4_PATTERN,
    CreateGeospatialDataSourceRequest,
    GeospatialDataSourceResponse,
    GeospatialMapQueryReply,
    GeospatialMapQueryRequest,
    ListGeospatialDataSourcesResponse,
    StatusResponse,
)
from airgrid.api.http.interuss.security import DIRECT_GEOSPATIAL_MAP, MAP_QUERY, require_scope
from airgrid.api.http.routes.deps import ServicesDep
from airgrid.api.http.schemas.common import error_responses

#: The interface's name and version, as its ``/status`` gives them.
API_NAME, API_VERSION = "Geospatial Map Provider Automated Testing Interface", "v0.2.3"

router = APIRouter(
    prefix="/geospatial_map/v1",
    tags=["interuss-geospatial-map"],
    responses=error_responses(401, 403),
)

SourceId = Annotated[
    str,
    PathParam(
        pattern=UUID4_PATTERN,
        min_length=36,
        max_length=36,
        examples=["32ef0162-30c4-4e56-9ce0-b204155ef93d"],
    ),
]
Director = Annotated[TokenClaims, Depends(require_scope(DIRECT_GEOSPATIAL_MAP))]
Querier = Annotated[TokenClaims, Depends(require_scope(MAP_QUERY))]


async def get_sources(request: Request) -> DataSources:
    """The app's :class:`DataSources`."""
    return request.app.state.data_sources


SourcesDep = Annotated[DataSources, Depends(get_sources)]


@router.get("/status", response_model=StatusResponse, summary="Status of this interface")
def status(_: Director) -> StatusResponse:
    """Ready as soon as the app serves."""
    return StatusResponse(status="Ready", api_name=API_NAME, api_version=API_VERSION)


@router.get(
    "/geospatial_data_sources",
    response_model=ListGeospatialDataSourcesResponse,
    response_model_exclude_none=True,
    summary="List geospatial data sources",
)
def list_sources(sources: SourcesDep, _: Director) -> ListGeospatialDataSourcesResponse:
    """The sources loaded through this interface (by this worker)."""
    return ListGeospatialDataSourcesResponse(data_sources=sources.list())


@router.put(
    "/geospatial_data_sources/{geospatial_data_source_id}",
    response_model=GeospatialDataSourceResponse,
    response_model_exclude_none=True,
    summary="Import and activate a geospatial data source",
    responses=error_responses(409, 422),
)
def put_source(
    geospatial_data_source_id: SourceId,
    body: CreateGeospatialDataSourceRequest,
    sources: SourcesDep,
    _: Director,
) -> GeospatialDataSourceResponse:
    """Load an ED-269 document from a ``file:`` or loopback ``http:`` URL into the geofences.

    The status is Ready, or Rejected / Unsupported / Error with a ``message``; the same id
    again with the same URL answers the status again, with another URL 409.
    """
    return GeospatialDataSourceResponse(data_source=sources.put(geospatial_data_source_id, body))


@router.get(
    "/geospatial_data_sources/{geospatial_data_source_id}",
    response_model=GeospatialDataSourceResponse,
    response_model_exclude_none=True,
    summary="Status of a geospatial data source",
    responses=error_responses(404),
)
def get_source(
    geospatial_data_source_id: SourceId, sources: SourcesDep, _: Director
) -> GeospatialDataSourceResponse:
    """A source's status (404 when unknown or deactivated)."""
    found = sources.get(geospatial_data_source_id)
    if found is None:
        raise HTTPException(404, f"no geospatial data source {geospatial_data_source_id}")
    return GeospatialDataSourceResponse(data_source=found)


@router.delete(
    "/geospatial_data_sources/{geospatial_data_source_id}",
    response_model=GeospatialDataSourceResponse,
    response_model_exclude_none=True,
    summary="Deactivate a geospatial data source",
)
def delete_source(
    geospatial_data_source_id: SourceId, sources: SourcesDep, _: Director
) -> GeospatialDataSourceResponse:
    """Delete the source's geofences; the answer's status is Deactivated."""
    return GeospatialDataSourceResponse(data_source=sources.delete(geospatial_data_source_id))


@router.post(
    "/map/queries",
    response_model=GeospatialMapQueryReply,
    response_model_exclude_none=True,
    summary="Check for applicable geospatial features",
    responses=error_responses(422),
)
def map_queries(
    body: GeospatialMapQueryRequest, services: ServicesDep, _: Querier
) -> GeospatialMapQueryReply:
    """Per check: Present when one of its filter sets selects a geofence, else Absent
    (UnsupportedFilter for ``operation_rule_set`` and ED-269 filters)."""
    return query(body, services)
