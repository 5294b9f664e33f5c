"""What an audit checks against: geofences (shipped or given, and the stored ones) and
the stored intents, assembled the same way for the CLI and the API's audit jobs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.geofences.model import Geofence
from airgrid.airspace.store.service import open_store
from airgrid.airspace.traffic.models import FlightIntent
from airgrid.terrain import Dem


@dataclass(frozen=True)
class AuditInputs:
    """The objects the rules check fixes against.

    Attributes
    ----------
    geofences
        Every geofence audited (a stored one replaces a given one of the same identifier).
    index
        Their index (None when there are none: no geofence rule).
    intents
        Intent id -> stored intent; None when no store was read (no intent rules run).
    """

    geofences: list[Geofence]
    index: GeofenceIndex | None
    intents: dict[str, FlightIntent] | None


def audit_inputs(
    base_fences: Sequence[Geofence], *, store: str | Path | None, dem: Dem | None
) -> AuditInputs:
    """Assemble the geofences and intents of an audit.

    Parameters
    ----------
    base_fences
        Geofences audited besides the stored ones (e.g. the shipped airport zones).
    store
        Location of an existing store (see :func:`~airgrid.airspace.store.service.open_store`)
        whose intents and geofences are audited too; None for none.
    dem
        Terrain for geofences with true-height limits.
    """
    intents: dict[str, FlightIntent] | None = None
    stored: list[Geofence] = []
    if store is not None:
        with open_store(store) as st:
            intents = {i.id: i for i in st.list_intents(limit=10**9)}
            stored = st.list_geofences()
    by_id = {g.identifier: g for g in base_fences}
    by_id.update({g.identifier: g for g in stored})  # the store's version of a fence wins
    fences = list(by_id.values())
    index = GeofenceIndex(fences, dem=dem) if fences else None
    return AuditInputs(fences, index, intents)


__all__ = ["AuditInputs", "audit_inputs"]
