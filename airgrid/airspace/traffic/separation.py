"""Separation minima per tier: how far apart two flight intents must stay.

Two intents conflict when a volume of one, grown by the separation minima, meets a volume
of the other in all four dimensions (see
:func:`airgrid.airspace.traffic.conflicts.find_conflicts`). The minima below are the
defaults of the deconfliction service, not regulation: they are chosen so that the
horizontal minimum stays below the tier's H3 edge length (cells stay a useful index) and so
that the vertical minimum is at least one layer thickness of the tier (a neighbouring layer
is separated). Lower tiers carry slow, small aircraft flying close together; higher tiers
faster ones that need more room.

============ ========== =========== ========= ===================================
tier         lateral m  vertical m  seconds   reasoning
============ ========== =========== ========= ===================================
T1 (res 10)  50         20          30        light UAVs at <= 15 m/s, GNSS error
T2 (res 9)   100        30          30        logistics drones, 20-25 m/s
T3 (res 8)   300        50          60        eVTOL / larger UAVs, 50 m layers
T4 (res 7)   500        100         60        intercity, 100 m layers
============ ========== =========== ========= ===================================

A tier missing from a table is an error, never a silent zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from airgrid.airspace.errors import SeparationError


@dataclass(frozen=True)
class SeparationMinima:
    """Minimum separation between two intents, in each dimension.

    Attributes
    ----------
    lateral_m
        Horizontal distance between footprints, metres.
    vertical_m
        Vertical gap between altitude bands, metres.
    seconds
        Gap between time windows, seconds.

    Raises
    ------
    SeparationError
        A value is negative or not finite.
    """

    lateral_m: float
    vertical_m: float
    seconds: float

    def __post_init__(self) -> None:
        for name in ("lateral_m", "vertical_m", "seconds"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise SeparationError(f"separation {name} must be a finite number >= 0, got {v!r}")

    def combine(self, other: SeparationMinima) -> SeparationMinima:
        """The minima between intents of two tiers: the larger value in each dimension.

        Taking the maximum errs towards safety: the pair is held to the stricter tier.
        """
        return SeparationMinima(
            max(self.lateral_m, other.lateral_m),
            max(self.vertical_m, other.vertical_m),
            max(self.seconds, other.seconds),
        )


#: Default minima by tier name (see the module docstring for the reasoning).
DEFAULT_SEPARATION: dict[str, SeparationMinima] = {
    "T1": SeparationMinima(50.0, 20.0, 30.0),
    "T2": SeparationMinima(100.0, 30.0, 30.0),
    "T3": SeparationMinima(300.0, 50.0, 60.0),
    "T4": SeparationMinima(500.0, 100.0, 60.0),
}


@dataclass(frozen=True)
class SeparationTable:
    """Separation minima per tier name.

    Parameters
    ----------
    minima
        Tier name -> minima. Default: :data:`DEFAULT_SEPARATION`.

    Raises
    ------
    SeparationError
        Empty table or a value that is not a :class:`SeparationMinima`.
    """

    minima: dict[str, SeparationMinima] = field(default_factory=lambda: dict(DEFAULT_SEPARATION))

    def __post_init__(self) -> None:
        if not self.minima:
            raise SeparationError("a separation table needs at least one tier")
        for k, v in self.minima.items():
            if not isinstance(v, SeparationMinima):
                raise SeparationError(
                    f"separation of tier {k!r} must be SeparationMinima, got {v!r}"
                )

    def for_tier(self, tier: str) -> SeparationMinima:
        """Minima of ``tier``.

        Raises
        ------
        SeparationError
            The tier has no entry (never defaulted to zero).
        """
        try:
            return self.minima[tier]
        except KeyError:
            raise SeparationError(
                f"no separation minima for tier {tier!r}; table has {sorted(self.minima)}"
            ) from None

    def between(self, a: str, b: str) -> SeparationMinima:
        """Minima between an intent of tier ``a`` and one of tier ``b`` (the stricter)."""
        return self.for_tier(a).combine(self.for_tier(b))

    def cover_minima(self, tier: str) -> SeparationMinima:
        """Minima by which an intent of ``tier`` is grown for its index keys.

        For a pair of tiers, the test uses the larger value per dimension. If one tier's
        minima dominate the other's in every dimension, the dominant intent's keys
        (grown by its own minima) reach the other intent, so the pair shares a key. For
        tiers whose minima are incomparable (one larger laterally, the other vertically),
        neither would; so a tier's keys are grown by the per-dimension maximum of its own
        minima and those of every tier it is incomparable with. With the default table
        (each tier at least as strict as the one below) this is the tier's own minima.
        """
        own = self.for_tier(tier)
        out = own
        for m in self.minima.values():
            le = (
                m.lateral_m <= own.lateral_m
                and m.vertical_m <= own.vertical_m
                and m.seconds <= own.seconds
            )
            ge = (
                m.lateral_m >= own.lateral_m
                and m.vertical_m >= own.vertical_m
                and m.seconds >= own.seconds
            )
            if not (le or ge):
                out = out.combine(m)
        return out

    @property
    def max_minima(self) -> SeparationMinima:
        """The largest value of each dimension over all tiers (for conservative searches)."""
        vals = list(self.minima.values())
        return SeparationMinima(
            max(v.lateral_m for v in vals),
            max(v.vertical_m for v in vals),
            max(v.seconds for v in vals),
        )

    def to_dict(self) -> dict:
        """Plain-data form."""
        return {k: [v.lateral_m, v.vertical_m, v.seconds] for k, v in sorted(self.minima.items())}

    @classmethod
    def from_dict(cls, doc: dict) -> SeparationTable:
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        SeparationError
            Malformed document.
        """
        try:
            return cls({str(k): SeparationMinima(*(float(x) for x in v)) for k, v in doc.items()})
        except (TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, SeparationError):
                raise
            raise SeparationError(f"malformed separation table: {exc!r}") from exc


__all__ = ["DEFAULT_SEPARATION", "SeparationMinima", "SeparationTable"]
