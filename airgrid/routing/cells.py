"""The cells of the routing graph: their unit vectors, their H3 neighbour tables and the
plane (and hex lattice directions) the A* heuristic measures in.
"""

from __future__ import annotations

import logging

import h3
import numpy as np
from h3.api import basic_int as h3i

from airgrid.airspace.grid import Grid
from airgrid.geo.constants import EARTH_RADIUS_M

log = logging.getLogger(__name__)

#: H3 local IJ offsets of the 6 neighbours (IJK axes at 120 degrees, k = -(i + j)).
_IJ_NEIGHBOURS = np.array([(1, 0), (0, 1), (1, 1), (-1, 0), (0, -1), (-1, -1)], np.int64)


def cell_unit_vectors(cell_ids: np.ndarray) -> np.ndarray:
    """Unit vectors (float64[n, 3]) of H3 cell centres."""
    ll = np.array([h3i.cell_to_latlng(int(c)) for c in cell_ids.tolist()], np.float64).reshape(
        -1, 2
    )
    la = np.radians(ll[:, 0])
    lo = np.radians(ll[:, 1])
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def cell_neighbours(grid: Grid, t: int) -> np.ndarray:
    """Cell-table index of the 6 H3 neighbours of every cell of tier ``t`` (-1 where absent).

    Neighbours come from H3 local IJ coordinates (one anchor per tier, one h3 call per
    cell, then sorted-key lookups in numpy); cells whose IJ coordinates cannot be
    computed, or that find fewer than 6 neighbours (the area's rim, pentagon
    distortion), fall back to ``h3.grid_ring``. A sample of cells is checked against
    ``grid_ring``; any disagreement makes the whole tier use ``grid_ring``.

    Returns
    -------
    numpy.ndarray
        int32[n_cells_of_tier, 6].
    """
    sl = grid.tier_slice(t)
    ids = np.asarray(grid.cell_id[sl], np.int64)
    n = len(ids)
    out = np.full((n, 6), -1, np.int32)
    if n == 0:
        return out
    anchor = int(ids[n // 2])
    ij = np.zeros((n, 2), np.int64)
    ok = np.ones(n, bool)
    to_ij = h3i.cell_to_local_ij
    for k, c in enumerate(ids.tolist()):
        try:
            ij[k] = to_ij(anchor, c)
        except h3.H3BaseException:
            ok[k] = False
    span = 1 << 24
    key = (ij[:, 0] + span // 2) * span + (ij[:, 1] + span // 2)
    key[~ok] = -1
    order = np.argsort(key, kind="stable")
    skey = key[order]
    for j, (di, dj) in enumerate(_IJ_NEIGHBOURS):
        q = key + di * span + dj
        p = np.minimum(np.searchsorted(skey, q), n - 1)
        hit = ok & (skey[p] == q)
        out[:, j] = np.where(hit, order[p] + sl.start, -1)

    def ring(rows: np.ndarray) -> None:
        for r in rows.tolist():
            nb = np.fromiter(h3i.grid_ring(int(ids[r]), 1), np.int64)
            found = grid.find_cells(nb, t)
            found = found[found >= 0]
            out[r] = -1
            out[r, : len(found)] = found

    rng = np.random.default_rng(0)
    sample = (
        rng.choice(np.flatnonzero(ok), size=min(64, int(ok.sum())), replace=False)
        if ok.any()
        else np.empty(0, np.int64)
    )
    for r in np.asarray(sample, np.int64).tolist():
        want = set(
            grid.find_cells(np.fromiter(h3i.grid_ring(int(ids[r]), 1), np.int64), t).tolist()
        ) - {-1}
        if want != set(out[r].tolist()) - {-1}:
            log.warning(
                "H3 local IJ neighbours disagree with grid_ring in tier %d; using grid_ring", t
            )
            ring(np.arange(n))
            return out
    ring(np.flatnonzero((out < 0).any(axis=1)))
    return out


def plane_frame(
    cell_xyz: np.ndarray, nbr: np.ndarray, rows: slice
) -> tuple[np.ndarray, np.ndarray]:
    """Planar positions of the cells and the face normals of the hex lattice in that plane.

    The plane is tangent at the grid's centre (orthographic projection: a planar
    distance never exceeds the chord, hence never the great-circle distance). The
    lattice orientation is the circular mean (mod 60 degrees) of the bearings of
    neighbour links among the cells ``rows``; the face normals lie 30 degrees off the
    links. Any orientation keeps the heuristic admissible (its rates come from the
    edges, see :func:`airgrid.routing.kernels.astar.planar_rates`); a good one makes it tight.

    Returns
    -------
    xy : float64[n_cells, 2]
        East and north (m) of every cell centre.
    dirs : float64[3, 2]
        Unit face normals.
    """
    centre = cell_xyz.mean(axis=0)
    centre /= max(np.linalg.norm(centre), 1e-12)
    east = np.cross([0.0, 0.0, 1.0], centre)
    east /= max(np.linalg.norm(east), 1e-12)
    north = np.cross(centre, east)
    xy = EARTH_RADIUS_M * np.column_stack([cell_xyz @ east, cell_xyz @ north])
    cells = np.arange(rows.start, rows.stop)[:20_000]
    a = np.repeat(cells, 6)
    b = nbr[cells].ravel().astype(np.int64)
    ok = b >= 0
    d = xy[b[ok]] - xy[a[ok]]
    theta = np.arctan2(d[:, 1], d[:, 0])
    phi0 = float(np.angle(np.exp(6j * theta).mean()) / 6) if len(theta) else 0.0
    ang = phi0 + np.radians(30.0) + np.radians(60.0) * np.arange(3)
    return xy, np.column_stack([np.cos(ang), np.sin(ang)])
