"""The state every part of a :class:`~airgrid.airspace.store.service.Store` shares.

One connection (``_db``), the policy, the DEM, the cached geofence index and, on SQLite, the
process's copy of the holding intents; with narrowing accessors for what only one backend
has, so each part states which backend a path is for.
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
    #: SQLite: the process's copy of the holding intents; None on PostgreSQL.
    _index: HoldingIndex | None
    #: Geofence revision and the index of the prohibited geofences at it (None: none).
    _fences: tuple[int, GeofenceIndex | None] | None
    _pair_minima: dict[str, dict[str, SeparationMinima]]

    @property
    def _holding(self) -> HoldingIndex:
        """The in-process copy of the holding intents (SQLite stores only).

        Raises
        ------
        RuntimeError
            On a PostgreSQL store, which finds candidates through its key table instead.
        """
        if self._index is None:
            raise RuntimeError(
                f"a {self._db.name} store keeps no in-process copy of the holding intents"
            )
        return self._index

    @property
    def _sqlite(self) -> _Sqlite:
        """The connection, on a SQLite store.

        Raises
        ------
        RuntimeError
            On a PostgreSQL store.
        """
        if not isinstance(self._db, _Sqlite):
            raise RuntimeError(f"a SQLite-only path was taken on a {self._db.name} store")
        return self._db

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
