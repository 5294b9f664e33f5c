"""A bounded cache of held intents' volumes as :class:`~airgrid.geo.volumes.Volume4D`.

The holding index keeps footprints compactly as WKB and turns the intents a query returns
back into volumes. On a busy day the same intents near a hub are returned by query after
query, and parsing and validating their volumes each time costs more than the query itself;
this cache keeps the volumes of the intents used last, up to :data:`CACHE_VOLUMES` volumes.
"""

from __future__ import annotations

from collections import OrderedDict

from airgrid.geo.volumes import Volume4D

#: Volumes kept at most (about 1-2 KB each with their footprints).
CACHE_VOLUMES = 60_000


class VolumeCache:
    """Least-recently-used volumes per intent (keyed by store seq).

    Parameters
    ----------
    capacity
        Volumes kept at most; the intents used longest ago are dropped first.
    """

    def __init__(self, capacity: int = CACHE_VOLUMES) -> None:
        self.capacity = capacity
        self._vols: OrderedDict[int, tuple[Volume4D, ...]] = OrderedDict()
        self._count = 0

    def __len__(self) -> int:
        """Volumes held."""
        return self._count

    def get(self, seq: int) -> tuple[Volume4D, ...] | None:
        """The volumes of ``seq`` (now the most recently used), or None."""
        vols = self._vols.get(seq)
        if vols is not None:
            self._vols.move_to_end(seq)
        return vols

    def put(self, seq: int, vols: tuple[Volume4D, ...]) -> None:
        """Keep the volumes of ``seq``, dropping the least recently used beyond capacity."""
        self.drop(seq)
        if len(vols) > self.capacity:
            return
        self._vols[seq] = vols
        self._count += len(vols)
        while self._count > self.capacity:
            _, old = self._vols.popitem(last=False)
            self._count -= len(old)

    def drop(self, seq: int) -> None:
        """Forget ``seq`` (no-op if absent)."""
        old = self._vols.pop(seq, None)
        if old is not None:
            self._count -= len(old)


__all__ = ["CACHE_VOLUMES", "VolumeCache"]
