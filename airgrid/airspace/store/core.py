"""The state every part of a :class:`~airgrid.airspace.store.service.Store` shares.

One connection (``_db``), the policy, the DEM, the cached geofence index and the process's
copy of the holding intents; with narrowing accessors for what only one backend has, so
each part states which backend a path is for.
"""

from __future__ import annotations

from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.store.backends import _Postgres, _Sqlite
from airgrid.airspace.store.policy import AirspacePolicy, ProposalSettings
from airgrid.airspace.traffic.holding_index import HoldingIndex
from airgrid.airspace.traffic.separation import SeparationMinima
from airgrid.terrain import Dem


class _StoreCore:
    """The connection and state of a store; the parts of :class:`~airgrid.airspace.store.service.Store`
    build on it.

    Attributes
    ----------
    policy
        What the store enforces (stored in the database).
    proposal_settings
        How fixes are searched.
    """

    _db: _Sqlite | _Postgres
    _dem: Dem | None
    policy: AirspacePolicy
    proposal_settings: ProposalSettings
    #: The process's copy of the holding intents (shared by the stores of one database).
    _index: HoldingIndex
    #: Geofence revision and the index of the prohibited geofences at it (None: none).
    _fences: tuple[int, GeofenceIndex | None] | None
    _pair_minima: dict[str, dict[str, SeparationMinima]]

    @property
    def _postgres(self) -> _Postgres:
        """The connection, on a PostgreSQL store.

        Raises
        ------
        RuntimeError
            On a SQLite store.
        """
        if not isinstance(self._db, _Postgres):
            raise RuntimeError(f"a PostgreSQL-only path was taken on a {self._db.name} store")
        return self._db

    def _minima(self, tier: str) -> dict[str, SeparationMinima]:
        """Separation between an intent of ``tier`` and one of each tier (fixed per store)."""
        found = self._pair_minima.get(tier)
        if found is None:
            table = self.policy.separation
            found = self._pair_minima[tier] = {t: table.between(tier, t) for t in table.minima}
        return found
