"""What a store enforces and how it searches fixes: :class:`AirspacePolicy`, persisted when
the store is created and fixed afterwards, and the per-process :class:`ProposalSettings`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from airgrid.airspace.errors import SeparationError, StoreConfigError
from airgrid.airspace.grid.tiers import TierTable
from airgrid.airspace.traffic.keys import KeyScheme
from airgrid.airspace.traffic.separation import SeparationTable


@dataclass(frozen=True)
class AirspacePolicy:
    """What a store enforces; persisted when the store is created, fixed afterwards.

    Attributes
    ----------
    tiers
        Tier table (intents name a tier; grid mode uses its resolution and layers).
    separation
        Separation minima per tier (every tier must have an entry).
    keys
        The key lattice of the index.
    grid_tiers
        Tiers in cell-exclusive grid mode: at most one intent per voxel-slot.

    Raises
    ------
    StoreConfigError
        A grid-mode tier or a tier without separation minima.
    """

    tiers: TierTable = field(default_factory=TierTable)
    separation: SeparationTable = field(default_factory=SeparationTable)
    keys: KeyScheme = field(default_factory=KeyScheme)
    grid_tiers: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "grid_tiers", frozenset(self.grid_tiers))
        names = {t.name for t in self.tiers}
        unknown = set(self.grid_tiers) - names
        if unknown:
            raise StoreConfigError(f"grid-mode tiers {sorted(unknown)} are not in the tier table")
        for n in names:
            try:
                self.separation.for_tier(n)
            except SeparationError as exc:
                raise StoreConfigError(str(exc)) from None
        for n in (self.keys.resolution, self.keys.layer_m, self.keys.slot_s):
            if not n > 0:
                raise StoreConfigError(f"key scheme values must be positive, got {self.keys}")

    def to_dict(self) -> dict:
        """Plain-data form (stored in the ``meta`` table)."""
        return {
            "tiers": self.tiers.to_dict(),
            "separation": self.separation.to_dict(),
            "keys": {
                "resolution": self.keys.resolution,
                "layer_m": self.keys.layer_m,
                "slot_s": self.keys.slot_s,
            },
            "grid_tiers": sorted(self.grid_tiers),
        }

    @classmethod
    def from_dict(cls, doc: dict) -> AirspacePolicy:
        """Inverse of :meth:`to_dict`."""
        return cls(
            TierTable.from_dict(doc["tiers"]),
            SeparationTable.from_dict(doc["separation"]),
            KeyScheme(
                int(doc["keys"]["resolution"]),
                float(doc["keys"]["layer_m"]),
                float(doc["keys"]["slot_s"]),
            ),
            frozenset(doc["grid_tiers"]),
        )


@dataclass(frozen=True)
class ProposalSettings:
    """How fixes for refused intents are searched (per process, not persisted).

    Attributes
    ----------
    shift_step_s, max_shift_s
        Departure delays tried: ``step, 2*step, ...`` up to ``max``.
    max_offset_m
        Altitude offsets tried: multiples of the tier's layer thickness up to this.
    """

    shift_step_s: float = 60.0
    max_shift_s: float = 7_200.0
    max_offset_m: float = 300.0


__all__ = ["AirspacePolicy", "ProposalSettings"]
