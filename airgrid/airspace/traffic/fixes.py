"""Fixes for a refused intent: the smallest departure delay or altitude offset that is free.

Each search asks the exact test (:func:`~airgrid.airspace.traffic.conflicts.conflict_pairs`)
which pairs conflict in every dimension but the one being moved; each such pair forbids a
closed interval of moves, and the first lattice value outside all of them is the fix.
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
    """
    k = np.arange(1, int(stop // step) + 1, dtype=np.float64) * step
    cand = np.column_stack([k, -k]).ravel() if both else k
    if len(lo) == 0:
        return float(cand[0]) if len(cand) else None
    bad = ((cand[:, None] >= lo[None, :]) & (cand[:, None] <= hi[None, :])).any(axis=1)
    free = cand[~bad]
    return float(free[0]) if len(free) else None


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
    only if their footprints pass the exact horizontal test, which runs lazily: a delay
    is returned once every pair whose interval holds it has been tested and none
    passed, and a delay that tested pairs forbid moves the search past the end of their
    intervals. Delays are tried in order, so the answer is the eager search's; only the
    pairs that could forbid a delay up to it are tested.
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
    skip = np.asarray(sorted(set(exclude)), np.float64)
    state = np.zeros(len(lo), np.int8)  # 0 untested, 1 forbids, -1 cleared by the test
    n_max = int(max_shift_s // step_s)
    n = 1
    while n <= n_max:
        x = n * step_s
        if np.any(skip == x):
            n += 1
            continue
        holds = (lo <= x) & (x <= hi) & (state >= 0)
        if not holds.any():
            return x
        untested = holds & (state == 0)
        if untested.any():
            rows = np.flatnonzero(untested)
            hit, _ = lateral_hits(_subset(near, rows), hv)
            state[rows] = np.where(hit, 1, -1)
            holds &= state >= 0
            if not holds.any():
                return x
        # each interval holding x forbids every delay from x to its end: go past the last
        n = max(n + 1, math.floor(float(hi[holds].max()) / step_s) + 1)
    return None


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
