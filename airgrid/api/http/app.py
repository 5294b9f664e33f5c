"""The FastAPI app: routers under ``/v1``, auth, problem+json errors, limits, metrics.

Build it with :func:`create_app`; ``airgrid serve`` runs it under uvicorn::

    uvicorn --factory airgrid.api.http.app:create_app
"""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

import airgrid
from airgrid.airspace.grid.served import border_voxels, covered_by_area
from airgrid.airspace.grid.voxels import Grid
from airgrid.api.http.audit_jobs import AuditJobs
from airgrid.api.http.audit_task import task_maker
from airgrid.api.http.auth import KeyStore, jwt_verifier
from airgrid.api.http.background import MapBackground
from airgrid.api.http.errors import PROBLEM_MEDIA_TYPE, BodyLimitMiddleware, install_error_handlers
from airgrid.api.http.housekeeping import Housekeeping
from airgrid.api.http.interuss import flight_planning, geospatial_map
from airgrid.api.http.interuss.geomap import DataSources
from airgrid.api.http.interuss.planning import FlightPlanner
from airgrid.api.http.planner import RoutePlanner
from airgrid.api.http.registry import GeofenceRegistry
from airgrid.api.http.routes import (
    analytics,
    audits,
    codes,
    conformance,
    geofences,
    grid,
    health,
    intents,
    map_page,
    routes,
)
from airgrid.api.http.routes.deps import Services
from airgrid.api.http.routes.health import Metrics, MetricsMiddleware
from airgrid.api.http.stores import StorePool
from airgrid.settings import Settings
from airgrid.terrain import Dem
from airgrid.terrain.geoid import Geoid

#: Collector thresholds while the app runs: young passes as usual, full passes rare. A
#: full pass walks every live object the in-flight requests made (tens to hundreds of
#: milliseconds with the GIL held under large requests); with the default third threshold
#: (10) it ran about once a second under abuse, with 1,000 a hundred times less often.
GC_THRESHOLDS = (700, 10, 1_000)

DESCRIPTION = """\
Tiered H3 3D airspace over Hunan: voxels on real terrain, geofences, routes and flight
intents with strategic deconfliction.

* **Auth**: every `/v1` call except health, readiness and metrics needs
  `Authorization: Bearer <API key>` (`airgrid keys create --role R --name N`).
* **Errors** are `application/problem+json` (RFC 9457) with a `detail` telling what to fix.
* **GeoJSON** follows RFC 7946: `[lon, lat]` or `[lon, lat, alt_m]` (metres AMSL).
* **InterUSS** automated-testing interfaces: `/flight_planning/v1` and
  `/geospatial_map/v1`, with RS256 JWTs carrying their scopes (see the README).
"""


def load_services(settings: Settings) -> Services:
    """Load everything the handlers use: grid, DEM, stores, key store, route planner,
    geofences, audit jobs.

    Raises
    ------
    airgrid.airspace.GridFileError
        No grid at ``settings.grid_path`` (run ``airgrid build``).
    airgrid.terrain.TerrainError
        The DEM or the geoid grid cannot be read.
    airgrid.api.http.stores.DatabaseUrlError
        An unusable ``db_url``.
    """
    grid_ = Grid.load(settings.grid_path)
    border_voxels(grid_)  # every route's mask holds it: computed before the first request
    covered_by_area(grid_, [])  # the area rule's tiles of every intent, likewise
    dem = Dem.open(settings.dem_paths)
    stores = StorePool(settings.db_url, dem)
    geoid = Geoid(settings.geoid_path)
    return Services(
        settings=settings,
        grid=grid_,
        dem=dem,
        geoid=geoid,
        keys=KeyStore(stores.get, settings.key_cache_s),
        stores=stores,
        routing=RoutePlanner(grid_, settings, geoid),
        geofences=GeofenceRegistry(stores, dem, settings),
        audits=AuditJobs(
            stores.get,
            task_maker(settings, grid_.tiers, stores.location),
            workers=settings.audit_workers,
            queue_size=settings.audit_queue,
        ),
        jwt=jwt_verifier(settings.jwt_audience, settings.jwt_jwks_path, settings.jwt_jwks_url),
    )


def _problem_openapi(app: FastAPI) -> dict[str, Any]:
    """OpenAPI document whose every error response is ``application/problem+json``."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    ref = {"$ref": "#/components/schemas/Problem"}
    for ops in doc.get("paths", {}).values():
        for op in ops.values():
            if "requestBody" in op:
                op["responses"].setdefault(
                    "400",
                    {
                        "description": "Malformed body (not UTF-8 JSON).",
                        "content": {"application/json": {"schema": ref}},
                    },
                )
                op["responses"].setdefault(
                    "413",
                    {
                        "description": "Request body too large.",
                        "content": {"application/json": {"schema": ref}},
                    },
                )
            for code, resp in op.get("responses", {}).items():
                if (
                    code.isdigit()
                    and int(code) >= 400
                    and "application/json" in resp.get("content", {})
                ):
                    schema = resp["content"]["application/json"]["schema"]
                    if schema.get("$ref", "").endswith(("/HTTPValidationError", "Problem")):
                        if schema["$ref"].endswith("/HTTPValidationError"):
                            schema = ref
                        resp["content"] = {PROBLEM_MEDIA_TYPE: {"schema": schema}}
                        if code == "422":
                            resp["description"] = (
                                "Invalid input or over a limit; `detail` tells what to fix."
                            )
    schemas = doc.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    app.openapi_schema = doc
    return doc


#: The OpenAPI document's tags, in the order it lists them.
OPENAPI_TAGS: list[dict[str, str]] = [
    {"name": "grid", "description": "Tiers, voxels, elevation and terrain profiles."},
    {"name": "routes", "description": "Single and multi-stop routes as GeoJSON."},
    {
        "name": "geofences",
        "description": "Restricted volumes: write, list, import/export, checks.",
    },
    {
        "name": "intents",
        "description": "Flight intents: submit, read, activate, end, cancel; "
        "telemetry of airborne flights and each intent's history.",
    },
    {
        "name": "alerts",
        "description": "Conformance alerts: flights that left or came back to their "
        "intents' volumes.",
    },
    {
        "name": "audits",
        "description": "Regulators' audit jobs: flight logs against geofences, tiers and intents.",
    },
    {
        "name": "analytics",
        "description": "Planners' density and capacity analytics: traffic, occupancy, "
        "conflicts, refusals and load per cell and time bin; hotspots.",
    },
    {"name": "map", "description": "The map page's offline background: hillshade, boundaries."},
    {"name": "health", "description": "Liveness, readiness, metrics, identity."},
    {
        "name": "interuss-flight-planning",
        "description": "InterUSS flight planning automated-testing interface "
        "(`/flight_planning/v1`, RS256 JWT scopes).",
    },
    {
        "name": "interuss-geospatial-map",
        "description": "InterUSS geospatial map automated-testing interface "
        "(`/geospatial_map/v1`, RS256 JWT scopes).",
    },
]


def _lifespan(
    settings: Settings, services: Services
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """The app's lifespan: the thread budget, the switch interval, the frozen collector and
    the background services while it runs; everything restored and closed after."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # sync endpoints run in anyio's worker threads: bound how many compute at once,
        # and let the event loop (health probes, accepting connections) take the GIL
        # back from them sooner
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.work_threads
        switch = sys.getswitchinterval()
        sys.setswitchinterval(settings.switch_interval_s)
        # the loaded grid, DEM and indexes live as long as the app: keep them out of the
        # collector's full passes, which would otherwise walk them with the GIL held
        gc.collect()
        gc.freeze()
        thresholds = gc.get_threshold()
        gc.set_threshold(*GC_THRESHOLDS)
        services.audits.start()  # fails the jobs a dead server left unfinished
        keeper = Housekeeping(services.stores.get, settings)
        keeper.start()
        try:
            yield
        finally:
            keeper.close()
            gc.set_threshold(*thresholds)
            gc.unfreeze()
            sys.setswitchinterval(switch)
            services.close()

    return lifespan


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """Build the HTTP API.

    Parameters
    ----------
    settings
        Service settings (default: read from ``AIRGRID_*`` environment variables).
    services
        Already loaded services (tests share one grid between apps); by default
        loaded from ``settings``.

    Returns
    -------
    fastapi.FastAPI
    """
    settings = settings or Settings()
    services = services or load_services(settings)

    app = FastAPI(
        title="airgrid",
        version=airgrid.__version__,
        description=DESCRIPTION,
        lifespan=_lifespan(settings, services),
        openapi_tags=OPENAPI_TAGS,
    )
    app.state.services = services
    app.state.metrics = Metrics()
    app.state.map_background = MapBackground(services.dem, settings.data_dir)
    install_error_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        paths={audits.router.prefix: settings.max_audit_upload_bytes},
    )
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    _mount_routes(app, services)
    app.openapi = lambda: _problem_openapi(app)  # type: ignore[method-assign]
    return app


def _mount_routes(app: FastAPI, services: Services) -> None:
    """Every router of the API, the InterUSS interfaces and the map page's static files."""
    for module in (
        health,
        grid,
        codes,
        routes,
        geofences,
        intents,
        conformance,
        audits,
        analytics,
        map_page,
    ):
        app.include_router(module.router)
    app.state.flight_planner = FlightPlanner(services)
    app.state.data_sources = DataSources(services)
    app.include_router(flight_planning.router)
    app.include_router(geospatial_map.router)
    app.include_router(map_page.page_router)
    app.mount(map_page.STATIC_PREFIX, StaticFiles(directory=map_page.WEB_DIR), name="map-static")
