"""The API fixtures (a small Changsha grid, keys per role, a client) and the store fixtures
(SQLite and a real PostgreSQL) for the analytics tests."""

from tests.airspace.conftest import maker, new_location, pg_admin_url  # noqa: F401
from tests.api.conftest import auth, client, grid_dir, services, settings, tokens  # noqa: F401
