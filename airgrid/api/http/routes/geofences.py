"""Geofences: write (regulators, admins), list and filter, import/export, checks.

Geofences live in the flight store (:class:`~airgrid.airspace.store.service.Store`), so an
intent is refused by every prohibited geofence written here. Each worker keeps an
in-memory :class:`~airgrid.airspace.geofences.index.GeofenceIndex` over all of them,
rebuilt once when the store's geofence revision moves and swapped in whole, so a
check always sees one consistent set.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import numba
import numpy as np
import shapely
from fastapi import APIRouter, Body, Query, Response
from fastapi import Path as PathParam
from shapely.geometry import mapping

from airgrid.airspace.errors import GeofenceNotFoundError
from airgrid.airspace.geofences.formats.ed269 import from_ed269, to_ed269
from airgrid.airspace.geofences.formats.ed318 import from_ed318, to_ed318
from airgrid.airspace.geofences.formats.geojson import from_geojson, to_geojson
from airgrid.airspace.geofences.index import TrackHit, TrackPoint
from airgrid.airspace.geofences.model import Geofence
from airgrid.airspace.grid.altitude import band_to_amsl
from airgrid.api.http.errors import InputError, LimitError
from airgrid.api.http.jsonbody import ThreadBodyRoute
from airgrid.api.http.routes.deps import V1, PrincipalDep, ServicesDep, WriterDep
from airgrid.api.http.routes.grid import parse_bbox
from airgrid.api.http.schemas.checks import (
    PlanCheckCreate,
    PlanCheckPublic,
    PointCheckCreate,
    PointCheckPublic,
    TrackCheckCreate,
    TrackCheckPublic,
    TrackHitPublic,
    VolumeHitPublic,
)
from airgrid.api.http.schemas.common import TrackPointModel, error_responses, links
from airgrid.api.http.schemas.geofences import (
    GeofenceCollection,
    GeofenceFeature,
    GeofenceRef,
    GeofenceWritePublic,
    ImportPublic,
)
from airgrid.geo.volumes import Volume4D
from airgrid.settings import Settings

#: The path parameter naming a geofence (the example is the POST example's identifier).
Identifier = Annotated[str, PathParam(examples=["CSX-TEST-1"])]

router = APIRouter(
    route_class=ThreadBodyRoute,
    prefix=f"{V1}/geofences",
    tags=["geofences"],
    responses=error_responses(401, 422),
)

_WRITE_ERRORS = error_responses(403, 413)


def _ref(g: Geofence) -> GeofenceRef:
    return GeofenceRef(identifier=g.identifier, name=g.name, category=g.category.value)


def _iso(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _tp(p: TrackPoint) -> TrackPointModel:
    return TrackPointModel(lon=p.lon, lat=p.lat, alt_m=p.alt_m, time=_iso(p.t))


def _track_hits(hits: list[TrackHit]) -> list[TrackHitPublic]:
    return [
        TrackHitPublic(
            geofence=_ref(h.geofence),
            entry=_tp(h.entry),
            exit=_tp(h.exit),
            entry_segment=h.entry_segment,
            exit_segment=h.exit_segment,
        )
        for h in hits
    ]


def _feature(g: Geofence) -> GeofenceFeature:
    return GeofenceFeature.model_validate(g.to_geojson_feature())


@router.get("", response_model=GeofenceCollection, summary="List and filter geofences")
def list_geofences(
    services: ServicesDep,
    _: PrincipalDep,
    bbox: Annotated[
        str | None,
        Query(
            description="west,south,east,north: footprints meeting this box.",
            examples=["112.9,28.1,113.05,28.25"],
        ),
    ] = None,
    active_at: Annotated[
        datetime | None, Query(description="Only geofences active at this instant.")
    ] = None,
    active_from: Annotated[
        datetime | None, Query(description="Start of a window (with active_to).")
    ] = None,
    active_to: Annotated[
        datetime | None, Query(description="End of a window (with active_from).")
    ] = None,
    category: Annotated[
        list[Literal["prohibited", "authorisation_required", "advisory"]] | None,
        Query(description="Only these categories."),
    ] = None,
) -> GeofenceCollection:
    """Geofences whose footprint meets the box, active at the instant or during the window, of the categories."""
    if (active_from is None) != (active_to is None):
        raise InputError("give both active_from and active_to, or neither")
    for name, t in (
        ("active_at", active_at),
        ("active_from", active_from),
        ("active_to", active_to),
    ):
        if t is not None and t.tzinfo is None:
            raise InputError(f"{name} needs a time zone (add Z or an offset)")
    window = None
    if active_from is not None and active_to is not None:
        if active_to < active_from:
            raise InputError("active_to must not be before active_from")
        _check_span(
            services.settings, active_from.timestamp(), active_to.timestamp(), "the active window"
        )
        window = (active_from, active_to)
    box = parse_bbox(bbox) if bbox else None
    out = []
    for g in services.geofences.snapshot().fences.values():
        if box is not None and not g.footprint.intersects(box):
            continue
        if active_at is not None and not g.is_active(active_at):
            continue
        if window is not None and not g.active_intervals(*window):
            continue
        if category and g.category.value not in category:
            continue
        out.append(_feature(g))
    return GeofenceCollection(type="FeatureCollection", features=out)


@router.post(
    "",
    response_model=GeofenceWritePublic,
    status_code=201,
    summary="Create a geofence",
    responses={
        201: {
            "links": links(
                "identifier",
                "$response.body#/geofence/id",
                GetGeofence="get_one_v1_geofences__identifier__get",
                ReplaceGeofence="replace_v1_geofences__identifier__put",
                DeleteGeofence="delete_v1_geofences__identifier__delete",
            )
        },
        **_WRITE_ERRORS,
        **error_responses(409),
    },
)
def create(services: ServicesDep, _: WriterDep, body: GeofenceFeature) -> GeofenceWritePublic:
    """Add a geofence (regulators and admins); 409 if the identifier exists.

    The answer names the intents holding airspace that a prohibited geofence now
    conflicts with; they are reported, not cancelled.
    """
    reg = services.geofences
    g = reg.parse(body.model_dump(mode="json"))
    return GeofenceWritePublic(geofence=_feature(g), conflicting_intents=reg.create(g))


@router.get("/export/geojson", response_model=GeofenceCollection, summary="Export as GeoJSON")
def export_geojson(services: ServicesDep, _: PrincipalDep) -> GeofenceCollection:
    """Every geofence as an RFC 7946 FeatureCollection (exact round trip with import)."""
    return GeofenceCollection.model_validate(
        to_geojson(list(services.geofences.snapshot().fences.values()))
    )


@router.get(
    "/export/ed269",
    response_model=dict[str, Any],
    summary="Export as ED-269",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {"title": "airgrid geofences", "description": "", "UASZoneList": []}
                }
            }
        }
    },
)
def export_ed269(services: ServicesDep, _: PrincipalDep) -> dict[str, Any]:
    """Every geofence as a EUROCAE ED-269 ``UASZoneList`` document."""
    return to_ed269(list(services.geofences.snapshot().fences.values()))


@router.get(
    "/export/ed318",
    response_model=dict[str, Any],
    summary="Export as ED-318",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "type": "FeatureCollection",
                        "name": "airgrid geofences",
                        "metadata": {},
                        "features": [],
                    }
                }
            }
        }
    },
)
def export_ed318(services: ServicesDep, _: PrincipalDep) -> dict[str, Any]:
    """Every geofence as a EUROCAE ED-318 geographical-zone FeatureCollection."""
    return to_ed318(list(services.geofences.snapshot().fences.values()))


ModeQuery = Annotated[
    Literal["merge", "replace"],
    Query(
        description="merge: add and replace by identifier; replace: also delete geofences not imported."
    ),
]


@router.post(
    "/import/geojson",
    response_model=ImportPublic,
    summary="Import GeoJSON",
    responses=_WRITE_ERRORS,
)
def import_geojson(
    services: ServicesDep,
    _: WriterDep,
    doc: Annotated[dict[str, Any], Body(examples=[{"type": "FeatureCollection", "features": []}])],
    mode: ModeQuery = "merge",
) -> ImportPublic:
    """Add or replace geofences from a FeatureCollection; all or nothing."""
    reg = services.geofences
    return reg.import_(from_geojson(doc, max_vertices=services.settings.max_polygon_vertices), mode)


@router.post(
    "/import/ed269", response_model=ImportPublic, summary="Import ED-269", responses=_WRITE_ERRORS
)
def import_ed269(
    services: ServicesDep,
    _: WriterDep,
    doc: Annotated[dict[str, Any], Body(examples=[{"title": "zones", "UASZoneList": []}])],
    mode: ModeQuery = "merge",
) -> ImportPublic:
    """Add or replace geofences from an ED-269 ``UASZoneList``; all or nothing."""
    reg = services.geofences
    return reg.import_(from_ed269(doc, max_vertices=services.settings.max_polygon_vertices), mode)


@router.post(
    "/import/ed318", response_model=ImportPublic, summary="Import ED-318", responses=_WRITE_ERRORS
)
def import_ed318(
    services: ServicesDep,
    _: WriterDep,
    doc: Annotated[
        dict[str, Any],
        Body(examples=[{"type": "FeatureCollection", "metadata": {}, "features": []}]),
    ],
    mode: ModeQuery = "merge",
) -> ImportPublic:
    """Add or replace geofences from an ED-318 FeatureCollection; all or nothing."""
    reg = services.geofences
    return reg.import_(from_ed318(doc, max_vertices=services.settings.max_polygon_vertices), mode)


@router.post("/check/point", response_model=PointCheckPublic, summary="Geofences at a 4D point")
def check_point(services: ServicesDep, _: PrincipalDep, body: PointCheckCreate) -> PointCheckPublic:
    """Which geofences contain the point (all counted active when no time is given)."""
    reg = services.geofences
    snap = reg.snapshot()
    if snap.index is None:
        hits = []
    else:
        # One point needs no worker threads; waking them (OpenMP spins after each region)
        # would take CPU from the server itself. The thread count is per calling thread.
        numba.set_num_threads(1)
        with reg.query_lock:
            hits = snap.index.check_point(body.lat, body.lon, body.alt_m, body.time)
    return PointCheckPublic(inside=bool(hits), geofences=[_ref(g) for g in hits])


def _check_span(settings: Settings, t0: float, t1: float, what: str) -> None:
    """Refuse a query whose time span exceeds ``max_check_span_s`` (before any work)."""
    if abs(t1 - t0) > settings.max_check_span_s:
        raise LimitError(
            f"{what} spans {abs(t1 - t0) / 86_400:.1f} days, the limit is "
            f"{settings.max_check_span_s / 86_400:g} days; split the query"
        )


def _check_track(
    services: ServicesDep, points: list[tuple[float, float, float, float]]
) -> list[TrackHitPublic]:
    if len(points) > services.settings.max_track_points:
        raise LimitError(
            f"{len(points)} track points, the limit is {services.settings.max_track_points}"
        )
    if points:
        times = [p[3] for p in points]
        _check_span(services.settings, min(times), max(times), "the track")
    snap = services.geofences.snapshot()
    return [] if snap.index is None else _track_hits(snap.index.check_track(points))


@router.post("/check/track", response_model=TrackCheckPublic, summary="Geofences along a 4D track")
def check_track(services: ServicesDep, _: PrincipalDep, body: TrackCheckCreate) -> TrackCheckPublic:
    """Every passage of the track through a geofence, with entry and exit points and times."""
    pts = [(p.lat, p.lon, p.alt_m, p.time.timestamp()) for p in body.points]
    return TrackCheckPublic(hits=_check_track(services, pts))


def route_track(
    line: list[list[float]], departure: float, speed_mps: float
) -> list[tuple[float, float, float, float]]:
    """Timed track points along a 3D line flown at a constant 3D speed."""
    from pyproj import Geod

    arr = np.array(line, float)
    _, _, d = Geod(ellps="WGS84").inv(arr[:-1, 0], arr[:-1, 1], arr[1:, 0], arr[1:, 1])
    step = np.hypot(np.atleast_1d(d), np.diff(arr[:, 2]))
    t = departure + np.concatenate([[0.0], np.cumsum(step)]) / speed_mps
    return [(float(la), float(lo), float(al), float(tt)) for (lo, la, al), tt in zip(arr, t)]


@router.post("/check/plan", response_model=PlanCheckPublic, summary="Geofences a flight plan meets")
def check_plan(services: ServicesDep, _: PrincipalDep, body: PlanCheckCreate) -> PlanCheckPublic:
    """Passages of a timed route and overlaps of 4D volumes with geofences, and where."""
    if body.route is None and not body.volumes:
        raise InputError("give a route, volumes, or both")
    verts = sum(v.footprint.n_vertices for v in body.volumes)
    if verts > services.settings.max_polygon_vertices * 10:
        raise LimitError(
            f"the volumes have {verts} vertices in all, the limit is "
            f"{services.settings.max_polygon_vertices * 10}"
        )
    for k, v in enumerate(body.volumes):
        _check_span(services.settings, v.start.timestamp(), v.end.timestamp(), f"volume {k}")
    route_hits = []
    if body.route is not None:
        pts = route_track(
            body.route.line.coordinates, body.route.departure.timestamp(), body.route.speed_mps
        )
        route_hits = _check_track(services, pts)
    snap = services.geofences.snapshot()
    vol_hits = []
    for k, v in enumerate(body.volumes):
        fp = v.footprint.to_shapely()
        vol = Volume4D(
            fp,
            *band_to_amsl(
                v.floor_m,
                v.ceiling_m,
                v.altitude_reference,
                fp,
                grid=services.grid,
                geoid=services.geoid,
            ),
            v.start.timestamp(),
            v.end.timestamp(),
        )
        for h in [] if snap.index is None else snap.index.check_volume(vol):
            vol_hits.append(
                VolumeHitPublic(
                    geofence=_ref(h.geofence),
                    volume=k,
                    where=mapping(shapely.orient_polygons(h.where)),
                    floor_m=h.floor_m,
                    ceiling_m=h.ceiling_m,
                    intervals=[(_iso(a), _iso(b)) for a, b in h.intervals],
                )
            )
    return PlanCheckPublic(route_hits=route_hits, volume_hits=vol_hits)


@router.get(
    "/{identifier}",
    response_model=GeofenceFeature,
    summary="One geofence",
    responses=error_responses(404),
)
def get_one(services: ServicesDep, _: PrincipalDep, identifier: Identifier) -> GeofenceFeature:
    """The geofence with this identifier."""
    g = services.geofences.snapshot().fences.get(identifier)
    if g is None:
        raise GeofenceNotFoundError(f"no geofence {identifier!r}")
    return _feature(g)


@router.put(
    "/{identifier}",
    response_model=GeofenceWritePublic,
    summary="Replace a geofence",
    responses={**_WRITE_ERRORS, **error_responses(404)},
)
def replace(
    services: ServicesDep, _: WriterDep, identifier: Identifier, body: GeofenceFeature
) -> GeofenceWritePublic:
    """Replace the geofence (regulators and admins); the body's identifier must match the path."""
    if body.properties.identifier != identifier:
        raise InputError(
            f"the body's identifier {body.properties.identifier!r} differs from the path's "
            f"{identifier!r}"
        )
    reg = services.geofences
    g = reg.parse(body.model_dump(mode="json"))
    return GeofenceWritePublic(geofence=_feature(g), conflicting_intents=reg.replace(g))


@router.delete(
    "/{identifier}",
    status_code=204,
    response_class=Response,
    summary="Delete a geofence",
    responses={**_WRITE_ERRORS, **error_responses(404)},
)
def delete(services: ServicesDep, _: WriterDep, identifier: Identifier) -> Response:
    """Remove the geofence (regulators and admins)."""
    services.geofences.delete(identifier)
    return Response(status_code=204)
