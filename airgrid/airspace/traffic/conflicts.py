"""The exact 4D conflict test: THE verdict on whether two intents may share airspace.

Two volumes conflict iff volume A grown by the separation minima meets volume B in all
four dimensions (:func:`find_conflicts` gives the details). Candidates from a key index
or the holding index only narrow down what this test examines; it alone decides.

Rules
-----
* **Closed intervals everywhere.** A gap *equal* to the minimum is a conflict; only a
  strictly larger gap separates (touching grown volumes conflict).
* **Horizontal test by distance.** "A grown by ``lateral`` meets B" is evaluated as
  ``distance(A, B) <= lateral * (1 + BUFFER_SAFETY) + LATERAL_TOLERANCE_M`` in a local
  stereographic plane, which equals intersecting an exact round buffer (no
  polygonal arc approximation), plus a relative and an absolute margin that only add
  conflicts.
* **Separation between tiers** is the larger of the two tiers' minima per dimension.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numba as nb
import numpy as np
import shapely

from airgrid.airspace.traffic.holders import (
    Holder,
    HolderVolumes,
    as_holder_volumes,
    volume_limits,
)
from airgrid.airspace.traffic.limits import check_pair_count
from airgrid.airspace.traffic.models import Conflict, IntentState
from airgrid.airspace.traffic.overlap import overlap_centroids
from airgrid.airspace.traffic.plane_distance import (
    boundaries,
    closest_midpoints,
    lonlat_distances,
    plane_distances_of,
    small_unique,
)
from airgrid.airspace.traffic.separation import SeparationMinima, SeparationTable
from airgrid.geo.constants import M_PER_DEG_LAT_MIN
from airgrid.geo.plane import BUFFER_SAFETY
from airgrid.geo.volumes import Volume4D

#: Absolute horizontal margin (m) added to every lateral test. Covers the difference between
#: edges straight in lon/lat and straight in the local plane (< 1 cm after densifying to
#: :data:`~airgrid.airspace.traffic.planes.DENSIFY_DEG`) and projection round-off, with a
#: wide margin; it only adds conflicts.
LATERAL_TOLERANCE_M = 0.5


class ConflictPairs(NamedTuple):
    """Volume pairs that conflict (or would, in the dimensions tested), one entry per pair.

    Built by :func:`conflict_pairs`; the minima are those of the pair's two tiers.
    """

    i: np.ndarray  # own volume index
    k: np.ndarray  # row of the holder volumes
    h: np.ndarray  # holder index
    j: np.ndarray  # holder volume index
    lateral: np.ndarray
    vertical: np.ndarray
    seconds: np.ndarray
    dist: np.ndarray  # metres in the pair's local plane; 0 where the footprints overlap
    own_fp: np.ndarray  # the pair's own footprint (lon/lat)
    oth_fp: np.ndarray  # the pair's other footprint (lon/lat)


@nb.njit(cache=True, nogil=True)
def _near_boxes(
    a: np.ndarray,
    b: np.ndarray,
    limit: np.ndarray,
    vertical: np.ndarray,
    seconds: np.ndarray,
    check_vertical: bool,
    check_time: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (own row i, holder row k) of limits ``a`` and ``b`` (see
    :func:`~airgrid.airspace.traffic.holders.volume_limits`) whose bands (if
    ``check_vertical``) and windows (if ``check_time``) meet once grown by ``vertical[k]``
    and ``seconds[k]``, and whose bounding boxes are at most ``limit[k]`` metres apart in a
    plane that never overstates distances (see
    :func:`~airgrid.airspace.traffic.planes.flat_plane`; the cosine is taken at the pair's
    largest latitude); with that latitude per pair."""
    n = a.shape[0] * b.shape[0]
    out_i = np.empty(n, np.int64)
    out_k = np.empty(n, np.int64)
    out_lat = np.empty(n)
    c = 0
    for i in range(a.shape[0]):
        for k in range(b.shape[0]):
            if check_vertical and not (
                a[i, 4] - vertical[k] <= b[k, 5] and b[k, 4] <= a[i, 5] + vertical[k]
            ):
                continue
            if check_time and not (
                a[i, 6] - seconds[k] <= b[k, 7] and b[k, 6] <= a[i, 7] + seconds[k]
            ):
                continue
            lat = max(abs(a[i, 1]), abs(a[i, 3]), abs(b[k, 1]), abs(b[k, 3]))
            gx = max(0.0, a[i, 0] - b[k, 2], b[k, 0] - a[i, 2])
            gy = max(0.0, a[i, 1] - b[k, 3], b[k, 1] - a[i, 3])
            gap = math.hypot(
                gx * M_PER_DEG_LAT_MIN * math.cos(math.radians(min(lat, 89.0))),
                gy * M_PER_DEG_LAT_MIN,
            )
            if gap <= limit[k]:
                out_i[c] = i
                out_k[c] = k
                out_lat[c] = lat
                c += 1
    return out_i[:c], out_k[:c], out_lat[:c]


class NearPairs(NamedTuple):
    """(own volume, holder row) pairs whose bounding boxes pass :func:`near_pairs`' filter,
    before the exact horizontal test (:func:`lateral_hits`), one entry per pair.

    ``a`` and ``own_fp`` are the own volumes' limits and footprints (see
    :func:`~airgrid.airspace.traffic.holders.volume_limits`); the minima are those of the
    pair's two tiers and ``limit`` the lateral limit of the exact test.
    """

    i: np.ndarray  # own volume index
    k: np.ndarray  # row of the holder volumes
    lateral: np.ndarray
    vertical: np.ndarray
    seconds: np.ndarray
    limit: np.ndarray
    lat_max: np.ndarray  # the pair's largest |latitude| (degrees)
    a: np.ndarray
    own_fp: np.ndarray


def near_pairs(
    own: Sequence[Volume4D],
    own_tier: str,
    hv: HolderVolumes,
    table: SeparationTable,
    *,
    check_time: bool = True,
    check_vertical: bool = True,
    max_pairs: int | None = None,
) -> NearPairs:
    """Every (own volume, holder volume) pair of ``own`` and ``hv`` whose bands (if
    ``check_vertical``) and windows (if ``check_time``) meet once grown by the pair's
    minima, and whose bounding boxes are no farther apart than the lateral limit in a
    plane that never overstates distances: a superset of the pairs in conflict.

    Raises
    ------
    ConflictBudgetError
        More than ``max_pairs`` (default
        :data:`~airgrid.airspace.traffic.limits.MAX_CANDIDATE_PAIRS`) pairs pass.
    """
    own_fp, a = volume_limits(own)
    if not own or not len(hv.holder):
        z = np.empty(0, np.int64)
        f = np.empty(0)
        return NearPairs(z, z, f, f, f, f, f, a, own_fp)
    minima = {t: table.between(own_tier, t) for t in {h.tier for h in hv.holders}}
    per_holder = np.array(
        [(m.lateral_m, m.vertical_m, m.seconds) for m in (minima[h.tier] for h in hv.holders)]
    ).reshape(-1, 3)[hv.holder]
    lat_h, ver_h, sec_h = per_holder.T
    limit = lat_h * (1 + BUFFER_SAFETY) + LATERAL_TOLERANCE_M  # per holder volume
    i, k, lat_max = _near_boxes(a, hv.limits, limit, ver_h, sec_h, check_vertical, check_time)
    check_pair_count(len(i), max_pairs)
    return NearPairs(i, k, lat_h[k], ver_h[k], sec_h[k], limit[k], lat_max, a, own_fp)


def lateral_hits(near: NearPairs, hv: HolderVolumes) -> tuple[np.ndarray, np.ndarray]:
    """The exact horizontal test of the pairs ``near`` (of ``hv``): whether each pair's
    footprints are within its lateral limit, and their distance (m) where they are.

    Two filters that can only drop pairs farther apart than the limit come first: the
    footprints' distance in degrees times the shortest length of a degree (of longitude,
    at the largest latitude a shortest path between them can reach), which never
    overstates a distance, compared with the limit grown once more by ``BUFFER_SAFETY``
    and ``LATERAL_TOLERANCE_M`` (which cover the local plane's scale error and its
    straight edges, both far smaller); then footprints that meet in lon/lat, 0 m apart
    along the ellipsoid, whose densified images in the local plane are at most a few
    centimetres apart (see ``LATERAL_TOLERANCE_M``), so within every limit. Both come
    from one pass of :func:`~airgrid.airspace.traffic.plane_distance.lonlat_distances`
    over the footprints' vertices. Only the others are projected and measured in the
    local plane.
    """
    d = np.full(len(near.i), np.inf)
    if not len(near.i):
        return np.zeros(0, bool), d
    ui, a = small_unique(near.i)
    uk, b = small_unique(near.k)
    rings = boundaries(np.concatenate([near.own_fp[ui], hv.footprint[uk]]))
    a, b = a.astype(np.int64), len(ui) + b
    reach = near.limit * (1 + BUFFER_SAFETY) + LATERAL_TOLERANCE_M
    phi = np.minimum(near.lat_max + reach / M_PER_DEG_LAT_MIN, 89.0)  # a shortest path stays below
    deg = lonlat_distances(rings, a, b, reach / (M_PER_DEG_LAT_MIN * np.cos(np.radians(phi))))
    d[deg == 0.0] = 0.0
    apart = (deg > 0.0) & np.isfinite(deg)
    if apart.any():
        centres = shapely.get_coordinates(shapely.centroid(near.own_fp[ui]))
        d[apart] = plane_distances_of(rings, centres, a[apart], b[apart])
    return d <= near.limit, d


def conflict_pairs(
    own: Sequence[Volume4D],
    own_tier: str,
    hv: HolderVolumes,
    table: SeparationTable,
    *,
    check_time: bool = True,
    check_vertical: bool = True,
    max_pairs: int | None = None,
) -> ConflictPairs:
    """Every (own volume, holder volume) pair of ``own`` and ``hv`` in conflict.

    The test of :func:`find_conflicts`, as arrays: :func:`near_pairs`, then
    :func:`lateral_hits`. With ``check_vertical`` or ``check_time`` false, that dimension
    is not tested, so the pairs are those that conflict horizontally and in the remaining
    dimension (what a fix search needs).

    Raises
    ------
    ConflictBudgetError
        More than ``max_pairs`` (default
        :data:`~airgrid.airspace.traffic.limits.MAX_CANDIDATE_PAIRS`) pairs pass the
        bounding-box filter, counted before any exact test.
    """
    near = near_pairs(
        own,
        own_tier,
        hv,
        table,
        check_time=check_time,
        check_vertical=check_vertical,
        max_pairs=max_pairs,
    )
    hit, d = lateral_hits(near, hv)
    i, k = near.i[hit], near.k[hit]
    return ConflictPairs(
        i,
        k,
        hv.holder[k],
        hv.volume[k],
        near.lateral[hit],
        near.vertical[hit],
        near.seconds[hit],
        d[hit],
        near.own_fp[i],
        hv.footprint[k],
    )


def _where(p: ConflictPairs) -> tuple[np.ndarray, np.ndarray]:
    """Lat/lon of each pair's conflict: the centroid of the two footprints' overlap where
    they overlap, else the middle of the shortest line between them (where they come
    closest).

    A location for reports and re-routing, not part of the test. It is found in lon/lat
    scaled by the cosine of the footprints' mean latitude (an equirectangular plane): a
    centroid is the same in any affine image of lon/lat, and across a pair a few
    kilometres wide that plane and the local conformal one place it within a metre.
    """
    lat = np.empty(len(p.i))
    lon = np.empty(len(p.i))
    if not len(p.i):
        return lat, lon
    overlap = p.dist == 0.0
    if overlap.any():
        xy = overlap_centroids(p.own_fp[overlap], p.oth_fp[overlap])
        lon[overlap], lat[overlap] = xy[:, 0], xy[:, 1]
        overlap[overlap] = ~np.isnan(xy[:, 0])  # 0 m apart only in the plane
    if (~overlap).any():
        xy = closest_midpoints(p.own_fp[~overlap], p.oth_fp[~overlap])
        lon[~overlap], lat[~overlap] = xy[:, 0], xy[:, 1]
    return lat, lon


def find_conflicts(
    own: Sequence[Volume4D],
    own_tier: str,
    own_priority: int,
    holders: Sequence[Holder] | HolderVolumes,
    table: SeparationTable,
) -> list[Conflict]:
    """Every (own volume, holder volume) pair in conflict, with where and when.

    Two volumes A (own) and B (a holder's) conflict iff, with ``m`` the stricter of the
    two tiers' minima,

    * horizontally: ``distance(A, B) <= m.lateral_m * (1 + BUFFER_SAFETY) + LATERAL_TOLERANCE_M``
      (distance in a local stereographic plane, 0 if the footprints overlap);
    * vertically: ``A.floor - m.vertical_m <= B.ceiling and B.floor <= A.ceiling + m.vertical_m``;
    * in time: ``A.t_start - m.seconds <= B.t_end and B.t_start <= A.t_end + m.seconds``.

    Parameters
    ----------
    own
        The submitted intent's volumes.
    own_tier, own_priority
        Its tier (for the minima) and priority (for
        :attr:`~airgrid.airspace.traffic.models.Conflict.preemptable`).
    holders
        Intents holding airspace (candidates from an index, or all of them), or their
        volumes already flattened (:class:`~airgrid.airspace.traffic.holders.HolderVolumes`).
    table
        Separation minima.

    Returns
    -------
    list of Conflict

    Raises
    ------
    ConflictBudgetError
        The intent comes near more held volumes than one decision examines
        (:data:`~airgrid.airspace.traffic.limits.MAX_CANDIDATE_PAIRS`): it is refused.

    Notes
    -----
    All comparisons are closed, so a gap equal to the minimum conflicts, and both margins
    only enlarge the protected distance: errors go towards reporting a conflict.
    """
    table.for_tier(own_tier)
    hv = as_holder_volumes(holders)
    p = conflict_pairs(own, own_tier, hv, table)
    if len(p.i) == 0:
        return []
    return _conflicts(p, own, own_priority, hv)


def _conflicts(
    p: ConflictPairs, own: Sequence[Volume4D], own_priority: int, hv: HolderVolumes
) -> list[Conflict]:
    """One :class:`Conflict` per pair of ``p`` (at least one), with where and when."""
    lat, lon = _where(p)
    out = []
    minima: dict[tuple[float, float, float], SeparationMinima] = {}
    for n, (i, h, j, lat_m, ver_m, sec_m) in enumerate(
        zip(
            p.i.tolist(),
            p.h.tolist(),
            p.j.tolist(),
            p.lateral.tolist(),
            p.vertical.tolist(),
            p.seconds.tolist(),
        )
    ):
        a = own[i]
        holder = hv.holders[h]
        b = holder.volumes[j]
        m = minima.get((lat_m, ver_m, sec_m))
        if m is None:
            m = minima[lat_m, ver_m, sec_m] = SeparationMinima(lat_m, ver_m, sec_m)
        out.append(
            Conflict(
                other_id=holder.id,
                other_operator=holder.operator,
                other_priority=holder.priority,
                other_state=holder.state,
                volume=i,
                other_volume=j,
                lat=float(lat[n]),
                lon=float(lon[n]),
                floor_m=max(a.floor_m - m.vertical_m, b.floor_m),
                ceiling_m=min(a.ceiling_m + m.vertical_m, b.ceiling_m),
                t_start=max(a.t_start - m.seconds, b.t_start),
                t_end=min(a.t_end + m.seconds, b.t_end),
                distance_m=float(p.dist[n]),
                minima=m,
                preemptable=own_priority > holder.priority and holder.state == IntentState.ACCEPTED,
            )
        )
    return out


__all__ = [
    "LATERAL_TOLERANCE_M",
    "ConflictPairs",
    "NearPairs",
    "conflict_pairs",
    "find_conflicts",
    "lateral_hits",
    "near_pairs",
]
