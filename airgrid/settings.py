"""The one configuration of airgrid: the CLI and the HTTP API, read from ``AIRGRID_*``.

Every field can be set as ``AIRGRID_<FIELD>`` (``AIRGRID_DB_URL``,
``AIRGRID_MAX_BODY_BYTES`` ...; lists and mappings as JSON). The environment is read when
a :class:`Settings` is constructed, which the CLI does once per command and the HTTP app
once when it is created; importing airgrid reads nothing. Library functions take their
inputs as arguments, with the shipped files of :mod:`airgrid.data` as defaults.

Two folders, one meaning each:

* ``data_dir`` (``AIRGRID_DATA_DIR``): the inputs read (DEM, geoid, tier table, named
  areas, airports, places); by default the files shipped inside the package.
* ``var_dir`` (``AIRGRID_VAR_DIR``): what airgrid writes (built grids, the embedded
  SQLite database, audit results under ``audits/``); by default ``var/`` under the working directory.

``dem_paths``, ``geoid_path`` and ``tiers_path`` default to the files of ``data_dir``;
``grid_path`` and ``db_url`` to places in ``var_dir``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from airgrid.airspace.traffic.models import Priority
from airgrid.data import DATA_DIR, DEFAULT_DEM, DEFAULT_GEOID_GRID, DEFAULT_TIER_FILE

#: Folder name of the default grid inside ``var_dir``.
DEFAULT_GRID_NAME = "grid-default"
#: Folder name of the server-side flight logs inside ``var_dir``.
AUDIT_LOG_DIR_NAME = "flight-logs"
#: File name of the embedded SQLite database inside ``var_dir``.
SQLITE_NAME = "airgrid.sqlite"


class Settings(BaseSettings):
    """Configuration of airgrid's command line and HTTP service.

    Attributes
    ----------
    data_dir
        Folder of the inputs: DEM, geoid, tier table, named areas, airports, places
        (default: the files shipped in the package, :data:`airgrid.data.DATA_DIR`).
    var_dir
        Folder for built grids and the embedded database (default: ``var/`` under the
        working directory; made absolute when the settings are read).
    grid_path
        Built grid folder (default: ``<var_dir>/grid-default``, which ``airgrid build``
        writes and ``airgrid serve`` builds when it is missing).
    dem_paths
        DEM file(s) for grids, elevations and terrain profiles (default: the
        30-arc-second Hunan DEM of ``data_dir``); several tiles make a mosaic.
    obstacle_path
        Obstacles GeoJSON that ``airgrid serve`` builds the default grid with.
    geoid_path
        Geoid grid for W84 altitudes (default: the EGM96 clip of ``data_dir``; any
        grid PROJ reads, such as a worldwide ``egm96_15.gtx``).
    tiers_path
        Tier table TOML of the default grid and of ``airgrid build`` (default:
        ``tiers.toml`` of ``data_dir``).
    db_url
        ``sqlite:///<dir>/airgrid.sqlite`` (default: ``<var_dir>/airgrid.sqlite``) or
        ``postgresql://...``: flight intents, geofences and API keys.
    max_body_bytes
        Largest request body accepted (413 beyond).
    max_polygon_vertices
        Most vertices in one polygon or line of a request.
    max_query_area_km2
        Largest area a voxel query or geofence listing may cover.
    max_query_voxels
        Most voxels one voxel query may return.
    max_profile_samples
        Most samples along one terrain profile.
    max_route_km
        Longest great-circle span (sum over legs) a route request may ask for.
    max_route_stops
        Most stops of a multi-stop route.
    search_budget
        Most node expansions one route search may make.
    max_track_points
        Most 4D points in a track check.
    route_geofence_horizon_s
        A route with a departure time avoids prohibited geofences active at any time
        from departure to this many seconds after it.
    max_check_span_s
        Longest time span of one geofence query: a checked volume, track or route, or an
        ``active_from``/``active_to`` window (daily periods make the work grow with it).
    intent_horizon_s
        An intent must start within this many seconds after it is submitted (ASTM F3548
        OPIN0030 asks for at most 30 days).
    intent_max_duration_s
        Longest time from an intent's first start to its last end.
    operator_max_priority
        Highest priority operators and planners may submit (default
        :attr:`Priority.COMMERCIAL`, 20); higher ones need a grant or an admin key.
    priority_grants
        Per operator (key name): the highest priority granted to it (e.g.
        ``{"hospital-fleet": 40}``); ``AIRGRID_PRIORITY_GRANTS`` takes JSON.
    max_telemetry_points
        Most positions in one telemetry batch (413 beyond).
    contingent_after_s
        A flight whose telemetry stays outside its intent's volumes longer than this
        becomes ``contingent`` (ASTM F3548); shorter, it is ``nonconforming``.
    housekeeping_interval_s
        How often each server process makes intents nonconforming for longer than
        ``contingent_after_s`` (by its clock) contingent, and deletes expired audit jobs.
    audit_retention_s
        Audit jobs that ended longer ago than this are deleted with their results.
    telemetry_ahead_s
        Latest a telemetry position may lie ahead of the server's clock (clock skew).
    telemetry_early_s
        Earliest a telemetry position may lie before its intent's start.
    work_threads
        Most requests one worker process computes at once; the others wait their turn.
        ``/v1/health`` runs on the event loop and never waits for them.
    route_workers
        Most route searches one worker process runs at once, each in its own search
        state (about 32 bytes per voxel plus 32 per cell, materialised as searches
        touch it); more wait for a state to come back.
    audit_workers
        Most audit jobs that run at once, each in its own process.
    audit_queue
        Most audit jobs waiting for a worker; more are refused (503) until some finish.
    max_audit_upload_bytes
        Largest flight log uploaded to ``POST /v1/audits`` (413 beyond).
    max_audit_points
        Most fixes one audit job may read; a job with more fails.
    audit_log_dir
        Server-side folder of flight logs that audit jobs may name by relative path
        (default: ``<var_dir>/flight-logs``); nothing outside it can be named.
    capacity_path
        Cell capacity table TOML of the density analytics (default: ``capacity.toml`` of
        ``data_dir``).
    max_analytics_bins
        Most time bins of one density or hotspot request.
    max_analytics_volumes
        Most stored volumes (flown and refused) one analytics request reads.
    max_analytics_rows
        Most (cell, bin) rows one analytics answer holds.
    switch_interval_s
        The interpreter's thread switch interval while the app runs (Python's default
        is 0.005 s): a shorter one hands the event loop the GIL sooner, so health probes
        stay fast while requests compute.
    key_cache_s
        How long a server process uses a live API key it read from the database before
        reading it again (0: on every request). A key revoked through another process
        (``airgrid keys revoke``, another server on the same PostgreSQL) is refused by
        this one at the latest this many seconds after the revocation; one revoked in
        this process is refused at once.
    jwt_jwks_path
        JWKS file (JSON Web Key Set) of the RS256 public keys that sign bearer JWTs: the
        InterUSS test interfaces need it (or ``jwt_jwks_url``).
    jwt_jwks_url
        ``http(s)`` URL of the JWKS, fetched when first needed and again every five
        minutes or when a token names an unknown key.
    jwt_audience
        The ``aud`` a JWT must carry: the host name clients call the server by
        (InterUSS: the fully qualified domain name of the URL).
    jwt_for_v1
        Also accept JWTs on ``/v1`` (API keys stay accepted); the role comes from the
        token's scopes through ``jwt_role_scopes``.
    jwt_role_scopes
        Scope -> airgrid role for JWTs on ``/v1``; a token with several gets the most
        powerful, one with none is refused (403).
    interuss_max_source_bytes
        Largest geospatial data source (an ED-269 document) the InterUSS
        ``geospatial_map`` interface loads.
    interuss_source_timeout_s
        Longest time a geospatial data source may take to download.
    """

    model_config = SettingsConfigDict(env_prefix="AIRGRID_", extra="ignore")

    data_dir: Path = DATA_DIR
    var_dir: Path = Path("var")
    grid_path: Path = Path("var", DEFAULT_GRID_NAME)
    dem_paths: list[Path] = Field(default_factory=lambda: [DEFAULT_DEM])
    obstacle_path: Path | None = None
    geoid_path: Path = DEFAULT_GEOID_GRID
    tiers_path: Path = DEFAULT_TIER_FILE
    db_url: str = f"sqlite:///var/{SQLITE_NAME}"
    max_body_bytes: int = Field(1_000_000, gt=0)
    max_polygon_vertices: int = Field(2_000, gt=3)
    max_query_area_km2: float = Field(400.0, gt=0)
    max_query_voxels: int = Field(20_000, gt=0)
    max_profile_samples: int = Field(2_000, ge=2)
    max_route_km: float = Field(400.0, gt=0)
    max_route_stops: int = Field(20, ge=2)
    search_budget: int = Field(2_000_000, gt=0)
    max_track_points: int = Field(5_000, gt=0)
    route_geofence_horizon_s: float = Field(7_200.0, gt=0)
    max_check_span_s: float = Field(31 * 86_400.0, gt=0)
    intent_horizon_s: float = Field(30 * 86_400.0, gt=0)
    intent_max_duration_s: float = Field(86_400.0, gt=0)
    operator_max_priority: int = Field(int(Priority.COMMERCIAL), ge=0, le=1000)
    max_telemetry_points: int = Field(1_000, gt=0)
    contingent_after_s: float = Field(30.0, ge=0)
    housekeeping_interval_s: float = Field(5.0, gt=0)
    audit_retention_s: float = Field(7 * 86_400.0, gt=0)
    telemetry_ahead_s: float = Field(30.0, ge=0)
    telemetry_early_s: float = Field(3_600.0, ge=0)
    work_threads: int = Field(4, ge=1, le=64)
    route_workers: int = Field(4, ge=1, le=64)
    switch_interval_s: float = Field(0.001, gt=0, le=0.1)
    audit_workers: int = Field(1, ge=1, le=64)
    audit_queue: int = Field(8, ge=0, le=10_000)
    max_audit_upload_bytes: int = Field(50_000_000, gt=0)
    max_audit_points: int = Field(20_000_000, gt=0)
    audit_log_dir: Path = Path("var", "flight-logs")
    priority_grants: dict[str, Annotated[int, Field(ge=0, le=1000)]] = Field(default_factory=dict)
    key_cache_s: float = Field(1.0, ge=0, le=60)
    jwt_jwks_path: Path | None = None
    jwt_jwks_url: str | None = None
    jwt_audience: str = "localhost"
    jwt_for_v1: bool = False
    jwt_role_scopes: dict[str, str] = Field(
        default_factory=lambda: {
            "airgrid.operator": "operator",
            "airgrid.planner": "planner",
            "airgrid.regulator": "regulator",
            "airgrid.admin": "admin",
        }
    )
    interuss_max_source_bytes: int = Field(20_000_000, gt=0)
    interuss_source_timeout_s: float = Field(10.0, gt=0)
    capacity_path: Path = DATA_DIR / "capacity.toml"
    max_analytics_bins: int = Field(2_000, gt=0)
    max_analytics_volumes: int = Field(2_000_000, gt=0)
    max_analytics_rows: int = Field(500_000, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _derive_defaults(cls, values: Any) -> Any:
        """Make ``var_dir`` absolute and derive the unset paths from the two folders."""
        if not isinstance(values, dict):
            return values
        out = dict(values)
        data = Path(out.get("data_dir") or DATA_DIR)
        var = Path(out.get("var_dir") or "var").absolute()
        out["var_dir"] = var
        out.setdefault("grid_path", var / DEFAULT_GRID_NAME)
        out.setdefault("db_url", f"sqlite:///{var / SQLITE_NAME}")
        out.setdefault("audit_log_dir", var / AUDIT_LOG_DIR_NAME)
        out.setdefault("dem_paths", [data / DEFAULT_DEM.name])
        out.setdefault("geoid_path", data / DEFAULT_GEOID_GRID.name)
        out.setdefault("tiers_path", data / DEFAULT_TIER_FILE.name)
        out.setdefault("capacity_path", data / "capacity.toml")
        return out

    @property
    def default_grid_path(self) -> Path:
        """The grid folder ``airgrid serve`` may build by itself: ``<var_dir>/grid-default``."""
        return self.var_dir / DEFAULT_GRID_NAME
