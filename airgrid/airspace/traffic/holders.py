"""What held intents occupy: holders and their volumes as flat arrays.

A :class:`Holder` is an intent that holds airspace as the conflict test sees it (a store
row). :class:`HolderVolumes` flattens many holders' volumes into one row per volume
(footprint, bounding box, band and window) for the vectorised tests, and
:func:`volume_limits` and :func:`band_window` give those arrays for any volumes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from airgrid.airspace.traffic.models import IntentState
from airgrid.geo.volumes import Volume4D


@dataclass(frozen=True)
class Holder:
    """An intent that holds airspace, as seen by the conflict test (a store row)."""

    id: str
    operator: str
    priority: int
    tier: str
    state: IntentState
    volumes: tuple[Volume4D, ...]


def volume_limits(volumes: Sequence[Volume4D]) -> tuple[np.ndarray, np.ndarray]:
    """Footprints (object array) and limits of volumes: per row ``west, south, east, north``
    (the footprint's bounds), ``floor_m, ceiling_m, t_start, t_end`` (shape ``(n, 8)``)."""
    fps = np.array([v.footprint for v in volumes], dtype=object)
    limits = np.empty((len(fps), 8))
    if len(fps):
        limits[:, :4] = shapely.bounds(fps)
        limits[:, 4:] = [(v.floor_m, v.ceiling_m, v.t_start, v.t_end) for v in volumes]
    return fps, limits


@dataclass(frozen=True)
class HolderVolumes:
    """Holders' volumes flattened for the vectorised conflict test, one row per volume.

    :func:`~airgrid.airspace.traffic.conflicts.find_conflicts` builds this from a list of holders
    (:meth:`of`); an index that keeps these arrays anyway passes them directly, and may
    leave out volumes that cannot be in conflict.

    Attributes
    ----------
    holders
        The holders.
    holder, volume
        Per row: index into ``holders`` and into that holder's volumes (int64).
    footprint
        Per row: the volume's footprint (object array).
    limits
        Per row: the volume's limits (see :func:`volume_limits`).
    """

    holders: Sequence[Holder]
    holder: np.ndarray
    volume: np.ndarray
    footprint: np.ndarray
    limits: np.ndarray

    @classmethod
    def of(cls, holders: Sequence[Holder]) -> HolderVolumes:
        """Every volume of ``holders``."""
        idx = [(h, j) for h, holder in enumerate(holders) for j in range(len(holder.volumes))]
        fps, limits = volume_limits([v for holder in holders for v in holder.volumes])
        hv = np.array(idx, np.int64).reshape(-1, 2)
        return cls(holders, hv[:, 0], hv[:, 1], fps, limits)


def band_window(vols: Sequence[Volume4D]) -> np.ndarray:
    """Per volume ``floor_m, ceiling_m, t_start, t_end`` (shape ``(n, 4)``, float64)."""
    return np.array(
        [(v.floor_m, v.ceiling_m, v.t_start, v.t_end) for v in vols], np.float64
    ).reshape(-1, 4)


def as_holder_volumes(holders: Sequence[Holder] | HolderVolumes) -> HolderVolumes:
    """``holders`` flattened (:meth:`HolderVolumes.of`), or as given if already flat."""
    return holders if isinstance(holders, HolderVolumes) else HolderVolumes.of(holders)


__all__ = ["Holder", "HolderVolumes", "as_holder_volumes", "band_window", "volume_limits"]
