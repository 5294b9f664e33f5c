"""Size and compute limits of one intent, checked before any work is done.

An intent may hold a bounded number of volumes, each with a bounded footprint, and may
need a bounded number of index keys (or grid voxel-slots): requests beyond these limits
are refused with a clear error instead of costing unbounded time or memory.
"""

from __future__ import annotations

from airgrid.airspace.errors import ConflictBudgetError, IntentError

#: A single volume's footprint may not span more than this (keeps the local plane exact).
MAX_FOOTPRINT_EXTENT_M = 50_000.0
#: An intent may hold at most this many volumes.
MAX_VOLUMES = 5_000
#: Most index keys (or grid voxel-slots) one intent may need; counted before any is made.
MAX_KEYS = 5_000_000
#: Most (own volume, held volume) pairs whose bounding boxes come within the separation
#: minima that one decision examines exactly (about 25 us each); counted before the test.
MAX_CANDIDATE_PAIRS = 100_000


def check_key_count(n: int, what: str) -> None:
    """Refuse an intent that would need more than :data:`MAX_KEYS` ``what``."""
    if n > MAX_KEYS:
        raise IntentError(
            f"the intent would need {n:.3g} {what}, more than {MAX_KEYS:,}; make it shorter "
            "in time, lower or smaller, or split it"
        )


def check_pair_count(n: int, limit: int | None = None) -> None:
    """Refuse a decision that would examine more than ``limit`` candidate pairs
    (:data:`MAX_CANDIDATE_PAIRS` when None).

    Refusing is the safe side: nothing is accepted or pre-empted, and the client is told
    to split the intent, which also makes each piece's answer (its conflicts) readable.
    """
    cap = MAX_CANDIDATE_PAIRS if limit is None else limit
    if n > cap:
        raise ConflictBudgetError(
            f"the intent comes within the separation minima of {n:,} held volumes' bounding "
            f"boxes, more than the {cap:,} one decision examines; split it into shorter or "
            "smaller intents"
        )


__all__ = [
    "MAX_CANDIDATE_PAIRS",
    "MAX_FOOTPRINT_EXTENT_M",
    "MAX_KEYS",
    "MAX_VOLUMES",
    "check_key_count",
    "check_pair_count",
]
