"""Analytics of a store: read the traffic, refusals and conflicts of a tier and window,
count them and assess them against capacity, within limits.

Traffic is every intent of the tier that flies or flew (accepted, activated,
nonconforming, contingent, ended; cancelled and pre-empted intents never flew), refusals
the recorded refused submissions, conflicts the points those refusals recorded
(:mod:`~airgrid.airspace.store.refusals`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from airgrid.airspace.grid.tiers import Tier, TierTable
from airgrid.airspace.store.refusals import VolumeColumns
from airgrid.airspace.store.service import Store
from airgrid.analytics.capacity import CapacityTable, Places
from airgrid.analytics.density import ConflictPoints, Traffic, Window, density
from airgrid.analytics.errors import AnalyticsInputError, AnalyticsLimitError
from airgrid.analytics.hotspots import assess


@dataclass(frozen=True)
class Limits:
    """How much one analytics request may compute.

    Attributes
    ----------
    max_bins
        Most time bins of a window.
    max_volumes
        Most stored volumes (traffic plus refused) one request reads.
    max_rows
        Most (cell, bin) rows of an answer.
    """

    max_bins: int = 2_000
    max_volumes: int = 2_000_000
    max_rows: int = 500_000


def _traffic(cols: VolumeColumns) -> Traffic:
    return Traffic(
        cols.owner, cols.footprint, cols.floor_m, cols.ceiling_m, cols.t_start, cols.t_end
    )


def tier_named(tiers: TierTable, name: str) -> Tier:
    """The tier called ``name``.

    Raises
    ------
    AnalyticsInputError
        No such tier.
    """
    names = [t.name for t in tiers]
    if name not in names:
        raise AnalyticsInputError(f"unknown tier {name!r}; tiers are {names}")
    return tiers[names.index(name)]


def analyse_store(
    store: Store,
    tier: Tier,
    window: Window,
    table: CapacityTable,
    places: Places,
    limits: Limits = Limits(),
) -> pd.DataFrame:
    """The assessed density table of ``tier`` over ``window`` from a store.

    Parameters
    ----------
    store
        The store read.
    tier
        The tier counted.
    window
        The bins.
    table, places
        Capacity table and populated places.
    limits
        Bounds on the work.

    Returns
    -------
    pandas.DataFrame
        See :func:`~airgrid.analytics.hotspots.assess`.

    Raises
    ------
    AnalyticsLimitError
        Too many bins, volumes or rows.
    """
    if window.n_bins > limits.max_bins:
        raise AnalyticsLimitError(
            f"{window.n_bins} time bins; at most {limits.max_bins} (shorten the window or "
            "lengthen the bins)"
        )
    flown = store.traffic_volumes(tier.name, window.start, window.end, limit=limits.max_volumes + 1)
    left = limits.max_volumes - len(flown.owner)
    refused = store.refused_volumes(tier.name, window.start, window.end, limit=max(left, 0) + 1)
    if len(refused.owner) > left:
        raise AnalyticsLimitError(
            f"more than {limits.max_volumes} stored volumes in the window; shorten it"
        )
    pts = store.refusal_conflicts(tier.name, window.start, window.end, limit=limits.max_volumes)
    counted = density(
        _traffic(flown),
        tier,
        window,
        refused=_traffic(refused),
        conflicts=ConflictPoints(pts.lat, pts.lon, pts.t_start, pts.t_end),
    )
    if len(counted.table) > limits.max_rows:
        raise AnalyticsLimitError(
            f"{len(counted.table)} (cell, bin) rows; at most {limits.max_rows} (shorten the "
            "window, lengthen the bins or choose a coarser tier)"
        )
    return assess(counted, table, places)


__all__ = ["Limits", "analyse_store", "tier_named"]
