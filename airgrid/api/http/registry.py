"""The geofence registry behind ``/v1/geofences``: the store's geofences with a
per-process index, reloaded whole when the store's geofence revision moves, so a check
always sees one consistent set.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from airgrid.airspace.geofences.cover import cover_geofence
from airgrid.airspace.geofences.formats.geojson import feature_to_geofence
from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.geofences.model import Category, Geofence
from airgrid.airspace.grid.voxels import Grid
from airgrid.api.http.schemas.geofences import ImportPublic
from airgrid.api.http.stores import StorePool
from airgrid.settings import Settings
from airgrid.terrain import Dem


@dataclass(frozen=True)
class Snapshot:
    """One consistent set of geofences and its index.

    Attributes
    ----------
    rev
        Database revision it was loaded at.
    fences
        Geofences by identifier, in identifier order.
    index
        Exact-check index (None when there are no geofences).
    """

    rev: int
    fences: dict[str, Geofence]
    index: GeofenceIndex | None
    _masks: dict = field(default_factory=dict, compare=False)


class GeofenceRegistry:
    """Geofences of the store with a per-process index, reloaded when the revision moves.

    Parameters
    ----------
    stores
        The per-thread flight stores.
    dem
        Terrain for true-height limits.
    settings
        Limits (vertices per polygon).
    """

    def __init__(self, stores: StorePool, dem: Dem, settings: Settings) -> None:
        self.stores = stores
        self.dem = dem
        self.settings = settings
        self._snap = Snapshot(-1, {}, None)
        self._lock = threading.Lock()
        #: Serialises point queries: the index's batch kernel is a parallel Numba kernel, and
        #: Numba's workqueue threading layer (used where OpenMP and TBB are missing) aborts on
        #: concurrent launches.
        self.query_lock = threading.Lock()

    def snapshot(self) -> Snapshot:
        """The current geofences (reloaded if a writer moved the revision)."""
        rev = self.stores.get().geofence_revision()
        if self._snap.rev == rev:
            return self._snap
        with self._lock:
            if self._snap.rev != rev:
                fences = {g.identifier: g for g in self.stores.get().list_geofences()}
                index = GeofenceIndex(list(fences.values()), dem=self.dem) if fences else None
                self._snap = Snapshot(rev, fences, index)
        return self._snap

    def parse(self, feature: dict) -> Geofence:
        """A geofence from a Feature, with the server's vertex limit."""
        return feature_to_geofence(feature, max_vertices=self.settings.max_polygon_vertices)

    def create(self, g: Geofence) -> list[str]:
        """Add a new geofence; returns the intents holding airspace it now conflicts with.

        Raises
        ------
        GeofenceExistsError
            The identifier is taken.
        """
        return self.stores.get().put_geofence(g, exists=False)

    def replace(self, g: Geofence) -> list[str]:
        """Replace an existing geofence; returns the intents it now conflicts with.

        Raises
        ------
        GeofenceNotFoundError
            No such geofence.
        """
        return self.stores.get().put_geofence(g, exists=True)

    def delete(self, ident: str) -> None:
        """Delete a geofence (404 when there is none)."""
        self.stores.get().delete_geofence(ident)

    def import_(self, fences: list[Geofence], mode: str) -> ImportPublic:
        """Upsert ``fences``; with ``mode='replace'`` also delete every geofence not among them.

        The whole document is parsed and validated before anything is written, and the
        write is one store transaction (see :meth:`~airgrid.airspace.store.service.Store.write_geofences`).
        """
        done = self.stores.get().write_geofences(fences, replace_all=mode == "replace")
        return ImportPublic(
            created=list(done.created),
            replaced=list(done.replaced),
            deleted=list(done.deleted),
            conflicting_intents=list(done.conflicting_intents),
        )

    def blocked_mask(
        self, grid: Grid, departure: datetime | None, horizon_s: float
    ) -> np.ndarray | None:
        """Voxels inside prohibited geofences active around a departure (all of them without one).

        Returns None when nothing is blocked.
        """
        snap = self.snapshot()
        t0 = None if departure is None else departure.timestamp()
        picked = tuple(
            sorted(
                i
                for i, g in snap.fences.items()
                if g.category is Category.PROHIBITED
                and (t0 is None or g.active_intervals(t0, t0 + horizon_s))
            )
        )
        if not picked:
            return None
        mask = snap._masks.get(picked)
        if mask is None:
            mask = np.zeros(grid.n_voxels, bool)
            for i in picked:
                mask[cover_geofence(grid, snap.fences[i])] = True
            snap._masks[picked] = mask
        return mask
