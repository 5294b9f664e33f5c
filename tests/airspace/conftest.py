"""Store fixtures: SQLite in a temporary directory, and a REAL PostgreSQL server.

PostgreSQL comes from ``AIRGRID_TEST_PG_URL`` when set (a server the caller manages; the
tests create and drop their own databases on it). Otherwise a throwaway cluster is made
with ``initdb`` / ``pg_ctl`` in a temporary directory, listening on a free port on
127.0.0.1, and stopped at the end of the session. PostgreSQL refuses to run as root, so
as root the cluster is run as the ``postgres`` user (``runuser``).

When neither is possible the PostgreSQL tests are skipped with the reason, except in CI
(``CI=true``), where they fail: CI must exercise the real server.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import shapely

from airgrid.airspace.store.policy import AirspacePolicy
from airgrid.airspace.store.service import Store, open_store
from airgrid.airspace.traffic.conflicts import conflict_pairs
from airgrid.airspace.traffic.holders import Holder, HolderVolumes
from airgrid.airspace.traffic.models import IntentRequest, IntentState
from airgrid.airspace.traffic.planes import CIRCUMSCRIBE, QUAD_SEGS
from airgrid.airspace.traffic.separation import SeparationTable
from airgrid.geo.plane import BUFFER_SAFETY, local_metric, transform
from airgrid.geo.volumes import Volume4D
from tests.servers import free_port

#: Store backends; PostgreSQL cases carry the ``postgres`` marker.
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
#: A fixed epoch for test intents (2027-01-15 00:00 UTC) so results do not depend on "now".
T0 = 1_800_000_000.0
#: Central Changsha.
LAT0, LON0 = 28.2, 112.95
M_LAT = 110_574.0 * 1.0018  # metres per degree of latitude near 28 N (WGS84)


def offset(lat: float, lon: float, east_m: float, north_m: float) -> tuple[float, float]:
    """Approximate lat/lon ``east_m``/``north_m`` metres away (good to ~0.5 % over km)."""
    import math

    return lat + north_m / M_LAT, lon + east_m / (111_320.0 * math.cos(math.radians(lat)))


def circle_footprint(lat: float, lon: float, radius_m: float) -> shapely.Polygon:
    """A lon/lat polygon that contains the circle: circumscribed, grown by ``BUFFER_SAFETY``."""
    _, inv = local_metric(lon, lat)
    disc = shapely.Point(0.0, 0.0).buffer(
        radius_m * (1 + BUFFER_SAFETY) * CIRCUMSCRIBE, quad_segs=QUAD_SEGS
    )
    return transform(inv, disc)


def intents_conflict(
    a: Sequence[Volume4D], a_tier: str, b: Sequence[Volume4D], b_tier: str, table: SeparationTable
) -> bool:
    """Whether two intents conflict (any volume pair), tested both ways round."""
    ha = Holder("a", "", 0, a_tier, IntentState.ACCEPTED, tuple(a))
    hb = Holder("b", "", 0, b_tier, IntentState.ACCEPTED, tuple(b))
    return (
        len(conflict_pairs(a, a_tier, HolderVolumes.of([hb]), table).i) > 0
        or len(conflict_pairs(b, b_tier, HolderVolumes.of([ha]), table).i) > 0
    )


def circle(
    operator: str,
    *,
    east: float = 0.0,
    north: float = 0.0,
    r: float = 20.0,
    floor: float = 200.0,
    ceiling: float = 230.0,
    t: float = 0.0,
    dur: float = 120.0,
    priority: int = 20,
    tier: str = "T2",
    intent_id: str | None = None,
) -> IntentRequest:
    """A one-volume intent: a circle ``east``/``north`` metres from the test origin."""
    lat, lon = offset(LAT0, LON0, east, north)
    vol = Volume4D(circle_footprint(lat, lon, r), floor, ceiling, T0 + t, T0 + t + dur)
    return IntentRequest(operator, priority, tier, (vol,), intent_id)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"PostgreSQL is required in CI but unavailable: {reason}")
    pytest.skip(f"PostgreSQL unavailable: {reason}")


class _Cluster:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl)."""

    def __init__(self) -> None:
        self.initdb = shutil.which("initdb")
        self.pg_ctl = shutil.which("pg_ctl")
        if not (self.initdb and self.pg_ctl):
            raise RuntimeError("initdb/pg_ctl not on PATH (run scripts/ensure-postgres.sh)")
        self.prefix: list[str] = []
        self.user = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root and there is no 'postgres' user") from None
            runuser = shutil.which("runuser")
            if not runuser:
                raise RuntimeError("running as root and runuser is missing")
            self.prefix = [runuser, "-u", "postgres", "--"]
            self.user = "postgres"
        self.dir = Path(tempfile.mkdtemp(prefix="airgrid-pg-"))
        if self.user:
            shutil.chown(self.dir, self.user)
        self.data = self.dir / "data"
        self.port = free_port()

    def _run(self, *args: str) -> None:
        proc = subprocess.run([*self.prefix, *args], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args[:2])} failed: {proc.stderr.strip() or proc.stdout.strip()}"
            )

    def start(self) -> str:
        self._run(self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        opts = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c max_connections=60 -c shared_buffers=128MB"
        )
        self._run(
            self.pg_ctl,
            "-D",
            str(self.data),
            "-o",
            opts,
            "-l",
            str(self.dir / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        try:
            self._run(self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """URL of a PostgreSQL server where the tests may create databases."""
    url = os.environ.get("AIRGRID_TEST_PG_URL")
    if url:
        yield url
        return
    try:
        cluster = _Cluster()
    except RuntimeError as exc:
        _unavailable(str(exc))
    try:
        url = cluster.start()
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        shutil.rmtree(cluster.dir, ignore_errors=True)
        _unavailable(f"could not start a throwaway cluster: {exc}")
    try:
        yield url
    finally:
        cluster.stop()


def _with_db(admin_url: str, dbname: str) -> str:
    """The admin URL pointing at another database."""
    parts = urlsplit(admin_url)
    if parts.scheme not in ("postgresql", "postgres"):
        pytest.fail(f"AIRGRID_TEST_PG_URL must be a postgresql:// URL, got {admin_url!r}")
    return urlunsplit(parts._replace(path="/" + dbname))


def sent_sql(st: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL ``st`` sends through its backend from now on, as written (``?``
    placeholders), on whichever connection the backend holds (it reconnects when a
    refused PostgreSQL try left a prepared statement missing); the list fills as it runs."""
    seen: list[str] = []
    db = st._db
    execute = db.execute

    def spy(sql, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(sql)
        return execute(sql, *args, **kwargs)

    monkeypatch.setattr(db, "execute", spy)
    return seen


class StoreMaker:
    """Opens stores of one backend on one fresh database (SQLite dir or PostgreSQL db)."""

    def __init__(self, backend: str, location: str) -> None:
        self.backend = backend
        self.location = location
        self.opened: list[Store] = []

    def open(self, policy: AirspacePolicy | None = None, **kw) -> Store:
        """A new connection to this test's database."""
        st = open_store(self.location, policy=policy, **kw)
        assert st.backend == self.backend
        self.opened.append(st)
        return st

    def close_all(self) -> None:
        for st in self.opened:
            st.close()


@pytest.fixture
def new_location(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], str]]:
    """Factory: a fresh, empty store location for a backend (databases dropped at the end)."""
    created: list[tuple[str, str]] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            return str(tmp_path_factory.mktemp("store"))
        admin = request.getfixturevalue("pg_admin_url")
        import psycopg

        name = f"airgrid_t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        created.append((admin, name))
        return _with_db(admin, name)

    yield make
    if created:
        import psycopg

        for admin, name in created:
            with psycopg.connect(admin, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def maker(
    request: pytest.FixtureRequest, new_location: Callable[[str], str]
) -> Iterator[StoreMaker]:
    """A :class:`StoreMaker` on a fresh database, for each backend."""
    m = StoreMaker(request.param, new_location(request.param))
    yield m
    m.close_all()
