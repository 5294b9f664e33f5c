"""Fixes for a refused intent: the smallest departure delay or altitude offset that is free.

Each search asks the exact test (:func:`~airgrid.airspace.traffic.conflicts.near_pairs`,
then :func:`~airgrid.airspace.traffic.conflicts.lateral_hits`) which pairs conflict in every
dimension but the one being moved; each such pair forbids a closed interval of moves, and
the first lattice value outside all of them is the fix.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from airgrid.airspace.errors import ConflictBudgetError
from airgrid.airspace.traffic.conflicts import NearPairs, conflict_pairs, lateral_hits, near_pairs
from airgrid.airspace.traffic.holders import Holder, HolderVolumes, as_holder_volumes, band_window
from airgrid.airspace.traffic.models import IntentRequest
from airgrid.airspace.traffic.separation import SeparationTable
from airgrid.geo.volumes import Volume4D


def _first_free(
    lo: np.ndarray, hi: np.ndarray, stop: float, step: float, both: bool
) -> float | None:
    """First non-zero lattice value ``k * step`` (|value| <= stop) outside every closed [lo, hi].

    Candidates go ``step, 2 step, ...``; with ``both``, ``step, -step, 2 step, -2 step, ...``.
    Each interval covers a run of the sorted candidates, counted with a difference array.
    """
    k = np.arange(1, int(stop // step) + 1, dtype=np.float64) * step
    cand = np.column_stack([k, -k]).ravel() if both else k
    if not len(cand):
        return None
    values = np.sort(cand)
    cover = np.zeros(len(values) + 1, np.int64)
    np.add.at(cover, np.searchsorted(values, lo, "left"), 1)
    np.add.at(cover, np.searchsorted(values, hi, "right"), -1)
    free = (np.cumsum(cover[:-1]) == 0)[np.searchsorted(values, cand)]
    first = np.flatnonzero(free)
    return float(cand[first[0]]) if len(first) else None


def free_departure_shift(
    request: IntentRequest,
    holders: Sequence[Holder] | HolderVolumes,
    table: SeparationTable,
    *,
    step_s: float = 60.0,
    max_shift_s: float = 7_200.0,
    exclude: Iterable[float] = (),
) -> float | None:
    """Smallest delay ``k * step_s`` (0 < delay <= max) free of every holder, or None.

    Pairs that conflict horizontally and vertically forbid the closed interval of delays
    ``[B.t_start - A.t_end - s, B.t_end - A.t_start + s]``; the first lattice delay
    outside all of them is returned. ``holders`` must include every intent whose
    airspace the shifted windows could reach (the caller widens its query by
    ``max_shift_s``). ``exclude`` lists delays to skip (e.g. blocked by a geofence).
    None also when the search would examine more candidate pairs than one decision may
    (:data:`~airgrid.airspace.traffic.limits.MAX_CANDIDATE_PAIRS`): no fix is offered.

    The pairs whose bands meet and whose bounding boxes are near (:func:`near_pairs`,
    over each volume's window stretched by the largest delay) each forbid their interval
    only if their footprints pass the exact horizontal test. The first delay free of all
    of them is an upper bound of the answer, so the exact test runs only on the pairs
    whose intervals start at or before it.
    """
    hv = as_holder_volumes(holders)
    reach = [
        Volume4D(v.footprint, v.floor_m, v.ceiling_m, v.t_start, v.t_end + max_shift_s)
        for v in request.volumes
    ]
    try:
        near = near_pairs(reach, request.tier, hv, table)
    except ConflictBudgetError:
        return None
    a = band_window(request.volumes)
    lo = hv.limits[near.k, 6] - a[near.i, 3] - near.seconds
    hi = hv.limits[near.k, 7] - a[near.i, 2] + near.seconds
    skip = np.asarray(list(exclude), np.float64)
    # the first delay free of every near pair bounds the answer: pairs whose intervals
    # start beyond it cannot forbid a smaller delay, so only the others are tested
    keep = np.flatnonzero((hi >= step_s) & (lo <= max_shift_s))
    bound = _first_free(
        np.concatenate([lo[keep], skip]),
        np.concatenate([hi[keep], skip]),
        max_shift_s,
        step_s,
        False,
    )
    if bound is not None:
        keep = keep[lo[keep] <= bound]
    hit, _ = lateral_hits(_subset(near, keep), hv)
    keep = keep[hit]
    return _first_free(
        np.concatenate([lo[keep], skip]),
        np.concatenate([hi[keep], skip]),
        max_shift_s,
        step_s,
        False,
    )


def _subset(near: NearPairs, rows: np.ndarray) -> NearPairs:
    """The pairs ``rows`` of ``near``."""
    return near._replace(
        i=near.i[rows],
        k=near.k[rows],
        lateral=near.lateral[rows],
        vertical=near.vertical[rows],
        seconds=near.seconds[rows],
        limit=near.limit[rows],
        lat_max=near.lat_max[rows],
    )


def free_altitude_offset(
    request: IntentRequest,
    holders: Sequence[Holder] | HolderVolumes,
    table: SeparationTable,
    *,
    step_m: float,
    max_offset_m: float = 300.0,
    min_offset_m: float = -math.inf,
    top_offset_m: float = math.inf,
    exclude: Iterable[float] = (),
) -> float | None:
    """Smallest non-zero offset ``+-k * step_m`` (up first on ties) free of every holder,
    not below ``min_offset_m`` (the caller's terrain limit, if it has one) and not above
    ``top_offset_m`` (the caller's band-top limit, if it has one).

    Pairs that conflict horizontally and in time forbid the closed interval
    ``[B.floor - A.ceiling - v, B.ceiling - A.floor + v]``. Terrain is not known here:
    the caller passes ``min_offset_m`` to keep the volumes clear of it. None when no
    offset is free, or when the search would examine more candidate pairs than one decision
    may (:data:`~airgrid.airspace.traffic.limits.MAX_CANDIDATE_PAIRS`).
    """
    n = int(max_offset_m // step_m)
    k_lo = max(-n, math.ceil(max(min_offset_m, -max_offset_m) / step_m))
    k_hi = min(n, math.floor(min(top_offset_m, max_offset_m) / step_m))
    if k_lo > k_hi or k_lo == k_hi == 0:
        return None  # no candidate offset lies between the limits
    hv = as_holder_volumes(holders)
    try:
        p = conflict_pairs(request.volumes, request.tier, hv, table, check_vertical=False)
    except ConflictBudgetError:
        return None
    a = band_window(request.volumes)
    lo = list(hv.limits[p.k, 4] - a[p.i, 1] - p.vertical)
    hi = list(hv.limits[p.k, 5] - a[p.i, 0] + p.vertical)
    for x in exclude:
        lo.append(x)
        hi.append(x)
    if min_offset_m > -math.inf:
        lo.append(-math.inf)
        hi.append(math.nextafter(min_offset_m, -math.inf))
    if top_offset_m < math.inf:
        lo.append(math.nextafter(top_offset_m, math.inf))
        hi.append(math.inf)
    return _first_free(np.asarray(lo), np.asarray(hi), max_offset_m, step_m, both=True)


__all__ = ["free_altitude_offset", "free_departure_shift"]
