"""Service settings, read from the environment (prefix ``AIRGRID_``).

Every field can be set as ``AIRGRID_<FIELD>`` (``AIRGRID_DB_URL``,
``AIRGRID_MAX_BODY_BYTES`` ...). The defaults are the embedded set-up: the grid that
``airgrid build`` writes to ``var/grid-default``, the DEM shipped in ``data/`` and a
SQLite database under ``var/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from airgrid.airspace.grid.areas import DATA_DIR
from airgrid.airspace.traffic.models import Priority
from airgrid.terrain.geoid import DEFAULT_GEOID_GRID

#: Where built grids and stores go by default (not committed).
VAR_DIR = Path(__file__).resolve().parents[3] / "var"
#: The 30-arc-second Hunan DEM shipped in ``data/``.
DEFAULT_DEM = DATA_DIR / "hunan_dem_30arcsec.tif"
#: The grid ``airgrid build`` writes and ``airgrid serve`` loads by default.
DEFAULT_GRID = VAR_DIR / "grid-default"


class Settings(BaseSettings):
    """Configuration of the HTTP service.

    Attributes
    ----------
    data_dir
        Folder of the shipped inputs (DEM, airports, tier table).
    var_dir
        Folder for built grids and the embedded database.
    grid_path
        Built grid folder (see ``airgrid build``).
    dem_paths
        DEM file(s) for elevations and terrain profiles (default: the 30-arc-second
        Hunan DEM in ``data/``); several tiles make a mosaic.
    obstacle_path
        Obstacles GeoJSON that ``airgrid serve`` builds the default grid with.
    geoid_path
        Geoid grid for W84 altitudes (default: the EGM96 clip in ``data/``; any
        grid PROJ reads, such as a worldwide ``egm96_15.gtx``).
    db_url
        ``sqlite:///<dir>/airgrid.sqlite`` (default: ``var/airgrid.sqlite``) or
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
    work_threads
        Most requests one worker process computes at once; the others wait their turn.
        ``/v1/health`` runs on the event loop and never waits for them.
    switch_interval_s
        The interpreter's thread switch interval while the app runs (Python's default
        is 0.005 s): a shorter one hands the event loop the GIL sooner, so health probes
        stay fast while requests compute.
    """

    model_config = SettingsConfigDict(env_prefix="AIRGRID_", extra="ignore")

    data_dir: Path = DATA_DIR
    var_dir: Path = VAR_DIR
    grid_path: Path = DEFAULT_GRID
    dem_paths: list[Path] = Field(default_factory=lambda: [DEFAULT_DEM])
    obstacle_path: Path | None = None
    geoid_path: Path = DEFAULT_GEOID_GRID
    db_url: str = f"sqlite:///{VAR_DIR / 'airgrid.sqlite'}"
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
    work_threads: int = Field(4, ge=1, le=64)
    switch_interval_s: float = Field(0.001, gt=0, le=0.1)
    priority_grants: dict[str, Annotated[int, Field(ge=0, le=1000)]] = Field(default_factory=dict)
