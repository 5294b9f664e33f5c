"""The geofence registry behind ``/v1/geofences``: the store's geofences with a
per-process index, reloaded whole when the store's geofence revision moves, so a check
always sees one consistent set.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from airgrid.airspace.geofences.cover import cover_geofence
from airgrid.airspace.geofences.formats.geojson import feature_to_geofence
from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.geofences.model import Category, Geofence
from airgrid.airspace.grid.served import border_voxels
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
    _routes: dict = field(default_factory=dict, compare=False)
    _buckets: dict = field(default_factory=dict, compare=False)


#: Departures are grouped in buckets of this many seconds to pick the prohibited
#: geofences of a route's window (see :meth:`GeofenceRegistry.route_mask`).
_BUCKET_S = 60.0
#: Buckets remembered per snapshot (all are forgotten when there are more).
_MAX_BUCKETS = 4096


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
        self._masks_lock = threading.Lock()
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

    def route_mask(self, grid: Grid, departure: datetime | None, horizon_s: float) -> np.ndarray:
        """Voxels a route may not enter: those of the prohibited geofences active around a
        departure (all of them without one) and those at the edge of the served area
        (:func:`~airgrid.airspace.grid.served.border_voxels`).

        A geofence counts when it is active at some time in ``[departure, departure +
        horizon_s]``. Masks are kept per set of geofences in the snapshot, which a
        geofence change replaces; the array is shared between requests: read it, never
        write it.
        """
        snap = self.snapshot()
        picked = self._picked(snap, departure, horizon_s)
        mask = snap._routes.get(picked)
        if mask is None:
            with self._masks_lock:  # one computation, however many requests ask at once
                mask = snap._routes.get(picked)
                if mask is None:
                    edge = border_voxels(grid)
                    mask = edge if picked is None else self._mask(grid, snap, picked) | edge
                    mask.flags.writeable = False
                    snap._routes[picked] = mask
        return mask

    @staticmethod
    def _mask(grid: Grid, snap: Snapshot, picked: tuple[str, ...]) -> np.ndarray:
        """The voxels covered by the geofences ``picked`` of ``snap``."""
        mask = snap._masks.get(picked)
        if mask is None:
            mask = np.zeros(grid.n_voxels, bool)
            for i in picked:
                mask[cover_geofence(grid, snap.fences[i])] = True
            snap._masks[picked] = mask
        return mask

    def _picked(
        self, snap: Snapshot, departure: datetime | None, horizon_s: float
    ) -> tuple[str, ...] | None:
        """Identifiers, sorted, of the prohibited geofences of ``snap`` active at some time
        in ``[departure, departure + horizon_s]`` (every prohibited one without a
        departure); None when there are none.

        Exact, bucket by bucket: for a departure ``t0`` in the bucket ``[b, b + B)``
        (``B`` = :data:`_BUCKET_S`), a geofence active in ``[b + B, b + horizon_s]`` is
        active in the request's window (which contains that interval), and one inactive
        throughout ``[b, b + B + horizon_s]`` is not (that interval contains the
        window). Those two lists are kept per bucket; only the geofences in neither are
        checked against the request's own window.
        """
        t0 = 0.0 if departure is None else departure.timestamp()
        key = None if departure is None else (math.floor(t0 / _BUCKET_S) * _BUCKET_S, horizon_s)
        entry = snap._buckets.get(key)
        if entry is None:
            entry = self._bucket(snap, key)
            if len(snap._buckets) >= _MAX_BUCKETS:
                snap._buckets.clear()
            snap._buckets[key] = entry
        sure, maybe = entry
        more = tuple(i for i in maybe if snap.fences[i].active_intervals(t0, t0 + horizon_s))
        picked = tuple(sorted(sure + more)) if more else sure
        return picked or None

    def _bucket(
        self, snap: Snapshot, key: tuple[float, float] | None
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The prohibited geofences of ``snap`` active in every window of a departure
        bucket ``key`` = ``(b, horizon_s)``, and those that may be active in some (every
        prohibited one is sure without a departure, ``key`` None); each sorted.
        """
        ids = sorted(i for i, g in snap.fences.items() if g.category is Category.PROHIBITED)
        if key is None:
            return tuple(ids), ()
        b, horizon_s = key
        some = [i for i in ids if snap.fences[i].active_intervals(b, b + _BUCKET_S + horizon_s)]
        if horizon_s < _BUCKET_S:
            return (), tuple(some)
        sure = tuple(
            i for i in some if snap.fences[i].active_intervals(b + _BUCKET_S, b + horizon_s)
        )
        return sure, tuple(i for i in some if i not in sure)
