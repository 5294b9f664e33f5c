"""Fixtures for the API tests: a small Changsha grid, keys for every role, a client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from airgrid.airspace.grid import TierTable, area_from_bbox, build_grid
from airgrid.api.http.app import create_app, load_services
from airgrid.api.http.auth import Role
from airgrid.api.http.routes.deps import Services
from airgrid.data import DEFAULT_DEM
from airgrid.settings import Settings
from airgrid.terrain import Dem

#: The test grid's box (lon/lat) around central Changsha.
BBOX = (112.9, 28.1, 113.05, 28.25)


@pytest.fixture(scope="session")
def grid_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A T2..T4 grid over BBOX, built once per session."""
    out = tmp_path_factory.mktemp("grid") / "grid"
    grid = build_grid(
        area_from_bbox(*BBOX), Dem.open(DEFAULT_DEM), TierTable().select(["T2", "T3", "T4"])
    )
    grid.save(out)
    return out


@pytest.fixture()
def settings(grid_dir: Path, tmp_path: Path) -> Settings:
    """Settings on the test grid with a fresh SQLite database."""
    return Settings(
        grid_path=grid_dir,
        var_dir=tmp_path,
        db_url=f"sqlite:///{tmp_path / 'airgrid.sqlite'}",
        max_body_bytes=200_000,
        max_query_area_km2=50.0,
        max_query_voxels=3_000,
        audit_queue=1_000,  # property tests may submit many audits; a test of the bound sets its own
    )


@pytest.fixture()
def services(settings: Settings) -> Services:
    """Services loaded from the test settings."""
    return load_services(settings)


@pytest.fixture()
def client(settings: Settings, services: Services) -> TestClient:
    """A TestClient on a fresh app (lifespan run)."""
    with TestClient(create_app(settings, services=services)) as c:
        yield c


@pytest.fixture()
def tokens(services: Services) -> dict[str, str]:
    """One API key per role, plus a second operator ('operator2')."""
    out = {r.value: services.keys.create(f"{r.value}-1", r)[0] for r in Role}
    out["operator2"] = services.keys.create("operator-2", Role.OPERATOR)[0]
    return out


@pytest.fixture()
def auth(tokens: dict[str, str]) -> dict[str, dict[str, str]]:
    """Authorization headers per role name (see ``tokens``)."""
    return {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()}


#: A day two days from now (UTC, ``YYYY-MM-DD``): intents must not have ended when they
#: are submitted and must start within the server's horizon.
DAY = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()

#: Two points in usable T2 voxels of the test grid ([lon, lat, alt_m]); T2 is thin and
#: patchy on the 30" DEM, so check with ``grid.locate`` before moving them.
ORIGIN = [112.98, 28.16, 290.0]
DEST = [113.0, 28.2, 260.0]


def square(lon: float, lat: float, d: float) -> list[list[list[float]]]:
    """Polygon coordinates of a lon/lat square (counter-clockwise, closed)."""
    return [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]]


def fence(ident: str, lon: float = 112.96, lat: float = 28.16, d: float = 0.03, **props) -> dict:
    """A prohibited geofence Feature from ground to 5 km AMSL over a square."""
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": square(lon, lat, d)},
        "properties": {"identifier": ident, "lower_m": 0, "upper_m": 5000, **props},
    }


def volume(
    lon: float = 112.95,
    lat: float = 28.15,
    d: float = 0.01,
    floor: float = 950.0,
    ceiling: float = 1000.0,
    start: str | None = None,
    end: str | None = None,
) -> dict:
    """A 4D volume of an intent request (default: 08:00 to 08:20 UTC on :data:`DAY`)."""
    start = start or f"{DAY}T08:00:00Z"
    end = end or f"{DAY}T08:20:00Z"
    return {
        "footprint": {"type": "Polygon", "coordinates": square(lon, lat, d)},
        "floor_m": floor,
        "ceiling_m": ceiling,
        "start": start,
        "end": end,
    }
