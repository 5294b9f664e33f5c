"""Numba A* over the CSR graph (single query and batch), its heuristic, and the
heuristic rates taken from the edges.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from airgrid.routing.kernels.heap import pack, pop, push
from airgrid.routing.kernels.status import BUDGET, FOUND, HEAP_FULL, NO_ROUTE


@njit(cache=True, inline="always")
def _h(v, x, y, z, gx, gy, gz, hr, dirs, rates, vr, lm, lt, nl):
    """Heuristic of node ``v`` at planar ``x, y`` and altitude ``z`` (see :func:`astar`)."""
    dx = gx - x
    dy = gy - y
    h = hr * math.sqrt(dx * dx + dy * dy)
    for j in range(3):
        a = dx * dirs[j, 0] + dy * dirs[j, 1]
        b = a * rates[0, j] if a > 0 else -a * rates[1, j]
        if b > h:
            h = b
    h += vr * abs(gz - z)
    for i in range(nl):
        # explicit comparisons: a nan bound (inf - inf, both unreachable) must never win
        a = lt[i] - lm[v, i]  # d(L, t) - d(L, v)
        if a > h:
            h = a
        b = lm[v, nl + i] - lt[nl + i]  # d(v, L) - d(t, L)
        if b > h:
            h = b
    return h


@njit(cache=True, inline="always")
def _first_touch(sf, sz, nxyz, zone, v):
    """Copy node ``v``'s coordinates and zone into its state row (rows start all zero)."""
    sf[v, 4] = nxyz[v, 0]
    sf[v, 5] = nxyz[v, 1]
    sf[v, 6] = nxyz[v, 2]
    sz[v, 7] = zone[v]


# -- A* -----------------------------------------------------------------------------------
@njit(cache=True)
def astar(
    indptr,
    indices,
    weights,
    nxyz,
    zone,
    dirs,
    rates,
    hr,
    vr,
    lm,
    blocked,
    zone_ok,
    src,
    dst,
    budget,
    max_range_m,
    hw,
    gen,
    state,
    hk,
    hp,
):
    """A* from ``src`` to ``dst`` on a CSR graph.

    Parameters
    ----------
    indptr, indices, weights
        CSR graph (int64, int32, float32).
    nxyz, zone
        Per node, planar x, y (m) and altitude z (m), float32[n, 3], and zone, int32[n];
        copied into the node's state row when a query first touches it.
    dirs
        Unit vectors (x, y) of the 3 face normals of the hex lattice in the graph's
        plane, float64[3, 2].
    rates
        Per direction, cost lower bounds per metre of progress along (row 0) and
        against (row 1) it, float64[2, 3]; see :func:`planar_rates`.
    hr, vr
        Lower bounds of cost per planar / vertical metre.
    lm
        Landmark distances, float64[n, 2L]: ``lm[v, i] = d(L_i, v)`` and
        ``lm[v, L + i] = d(v, L_i)`` (inf where unreachable); shape (0, 0) for none.
    blocked
        uint8 per node (nonzero: may not be entered) or an empty array.
    zone_ok
        uint8 per zone (zero: the zone's nodes may not be entered) or an empty array;
        a node's zone is in its state row.
    src, dst
        Node indices.
    budget
        Maximum node expansions.
    max_range_m
        If > 0, nodes farther than this along origin -> node -> destination (planar
        distances, which never exceed the true ones, so nothing within range is
        pruned) are pruned.
    hw
        Heuristic weight: 1 for exact A*; ``w > 1`` is weighted A* (Pohl 1970), whose
        route costs at most ``w`` times the optimum (the heuristic below being
        consistent) for far fewer expansions.
    gen
        Even generation of this query, larger than every generation in ``state``
        and below 2**30.
    state
        Per node one 32-byte row, reused across queries (one cache line per touch),
        float64[n, 4] viewed three ways: ``[v, 0]`` the cost so far; as int64,
        ``[v, 1]`` = ``generation << 32 | parent + 1`` (generation ``gen``: open,
        ``gen + 1``: closed; older: untouched this query; 0: never touched); as float32,
        columns 4-6 the node's planar x, y (m) and altitude z (m); as int32, column 7 its
        zone. Allocate it zeroed (``numpy.zeros``): the operating system then only
        materialises the pages the searches touch, and each row gets its coordinates
        on its first touch.
    hk, hp
        Heap keys and payloads, of capacity ``len(hk)`` (lazy deletion).

    Returns
    -------
    status : int
        FOUND, NO_ROUTE, BUDGET or HEAP_FULL.
    cost : float
        Cost of the route (inf unless FOUND).
    expansions : int
        Nodes expanded.

    Notes
    -----
    A* (Hart, Nilsson & Raphael 1968). The heuristic is the largest of several
    consistent lower bounds, plus the vertical one ``vr * |z(n) - z(goal)|``:

    * isotropic: ``hr * |p(goal) - p(n)|`` with ``p`` the node's position in the
      graph's plane (an orthographic projection about the grid's centre);
    * directional (the hex-lattice bound): ``rate_j * (w_j . (p(goal) - p(n)))`` for the
      3 face normals ``w_j`` of the hexagonal lattice. A hex path cannot move along
      ``w_j`` directly; its edges run at >= ~30 degrees to it, so per metre of progress
      along ``w_j`` it pays about ``1/cos 30 = 1.155`` metres of edge. The max over the
      three normals is the hex-lattice distance ``|D| cos(theta - 30) / cos 30`` of a
      regular lattice, which removes the ~12 % looseness of straight-line distance.

    ``hr`` and ``rate_j`` are not assumed from geometry: :func:`planar_rates` takes
    them as minima over *every* edge of the graph of (edge cost minus its vertical
    lower bound) per metre of planar progress, from the same float32 coordinates, so
    each edge ``u -> v`` satisfies ``h(u) <= c(u, v) + h(v)`` for each bound by
    construction, whatever H3's and the projection's distortion. With landmarks, the
    ALT bounds (Goldberg & Harrelson 2005) join the max: ``d(L, t) - d(L, v)`` and
    ``d(v, L) - d(t, L)`` by the triangle inequality of exact shortest-path distances
    on the unmasked graph (a request's mask only removes nodes, which never shortens
    a path). Where they are infinite, ``v`` cannot reach the goal and is pruned.

    The max of consistent heuristics is consistent, hence admissible, and a node is
    final when first popped (closed nodes are never reopened).
    """
    si = state.view(np.int64)
    sf = state.view(np.float32)
    sz = state.view(np.int32)
    nb = len(blocked) > 0
    nz = len(zone_ok) > 0
    nl = lm.shape[1] // 2
    lt = lm[dst].copy() if nl > 0 else np.empty(0)
    cap = len(hk)
    opened = gen << 32
    closed = (gen + 1) << 32
    gx = np.float64(nxyz[dst, 0])
    gy = np.float64(nxyz[dst, 1])
    gz = np.float64(nxyz[dst, 2])
    ox = np.float64(nxyz[src, 0])
    oy = np.float64(nxyz[src, 1])
    if si[src, 1] == 0:
        _first_touch(sf, sz, nxyz, zone, src)
    si[src, 1] = opened
    state[src, 0] = 0.0
    h0 = hw * _h(
        src, sf[src, 4], sf[src, 5], sf[src, 6], gx, gy, gz, hr, dirs, rates, vr, lm, lt, nl
    )
    push(hk, hp, 0, h0, pack(0.0, src))
    size = 1
    exp = 0
    while size > 0:
        u = pop(hk, hp, size) & 0xFFFFFFFF
        size -= 1
        tu = si[u, 1]
        if tu >= closed:
            continue
        si[u, 1] = closed | (tu & 0xFFFFFFFF)
        if u == dst:
            return FOUND, state[u, 0], exp
        if exp >= budget:
            return BUDGET, np.inf, exp
        exp += 1
        gu = state[u, 0]
        pu = u + 1
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if nb and blocked[v] != 0:
                continue
            tv = si[v, 1]
            if tv >= closed:
                continue
            ng = gu + weights[e]
            if tv >= opened:
                if ng >= state[v, 0]:
                    continue
            else:
                if tv == 0:
                    _first_touch(sf, sz, nxyz, zone, v)
                if nz and zone_ok[sz[v, 7]] == 0:
                    si[v, 1] = closed
                    continue
                if max_range_m > 0:
                    ex = sf[v, 4] - ox
                    ey = sf[v, 5] - oy
                    dx = sf[v, 4] - gx
                    dy = sf[v, 5] - gy
                    if math.sqrt(ex * ex + ey * ey) + math.sqrt(dx * dx + dy * dy) > max_range_m:
                        si[v, 1] = closed
                        continue
            hv = hw * _h(
                v, sf[v, 4], sf[v, 5], sf[v, 6], gx, gy, gz, hr, dirs, rates, vr, lm, lt, nl
            )
            if hv == np.inf:
                si[v, 1] = closed
                continue
            if size == cap:
                return HEAP_FULL, np.inf, exp
            state[v, 0] = ng
            si[v, 1] = opened | pu
            push(hk, hp, size, ng + hv, pack(ng, v))
            size += 1
    return NO_ROUTE, np.inf, exp


@njit(cache=True)
def lower_bound(nxyz, dirs, rates, hr, vr, lm, src, dst):
    """The heuristic of :func:`astar` at ``src`` for goal ``dst``: a lower bound of the optimal cost."""
    nl = lm.shape[1] // 2
    lt = lm[dst].copy() if nl > 0 else np.empty(0)
    return _h(
        src,
        nxyz[src, 0],
        nxyz[src, 1],
        nxyz[src, 2],
        np.float64(nxyz[dst, 0]),
        np.float64(nxyz[dst, 1]),
        np.float64(nxyz[dst, 2]),
        hr,
        dirs,
        rates,
        vr,
        lm,
        lt,
        nl,
    )


@njit(cache=True)
def trace_path(state, src, dst):
    """Nodes from ``src`` to ``dst`` following the parent links (see :func:`astar`) back from ``dst``."""
    si = state.view(np.int64)
    n = 1
    v = dst
    while v != src:
        v = (si[v, 1] & 0xFFFFFFFF) - 1
        n += 1
    out = np.empty(n, np.int32)
    v = dst
    for i in range(n - 1, -1, -1):
        out[i] = v
        v = (si[v, 1] & 0xFFFFFFFF) - 1
    return out


@njit(cache=True, parallel=True)
def astar_batch(
    indptr,
    indices,
    weights,
    nxyz,
    zone,
    dirs,
    rates,
    hr,
    vr,
    lm,
    blocked,
    zone_ok,
    srcs,
    dsts,
    budget,
    max_range_m,
    gens,
    state,
    hk,
    hp,
):
    """A* for many (src, dst) pairs, spread over threads; one state row per thread.

    State arrays have a leading row axis (one row per chunk); ``gens[c]`` is the last
    generation used by row ``c`` and is advanced in place (by 2 per query, see
    :func:`astar`). Pairs ``i`` go to row ``i % n_rows``.

    Returns
    -------
    status : int32[n_pairs]
    cost : float64[n_pairs]
    expansions : int64[n_pairs]
    """
    n = len(srcs)
    rows = state.shape[0]
    status = np.empty(n, np.int32)
    cost = np.empty(n, np.float64)
    exps = np.empty(n, np.int64)
    for r in prange(rows):
        for i in range(r, n, rows):
            gens[r] += 2
            s, c, x = astar(
                indptr,
                indices,
                weights,
                nxyz,
                zone,
                dirs,
                rates,
                hr,
                vr,
                lm,
                blocked,
                zone_ok,
                srcs[i],
                dsts[i],
                budget,
                max_range_m,
                1.0,
                gens[r],
                state[r],
                hk[r],
                hp[r],
            )
            status[i] = s
            cost[i] = c
            exps[i] = x
    return status, cost, exps


@njit(cache=True, parallel=True)
def planar_rates(indptr, indices, weights, nxyz, dirs, vr, chunks):
    """Heuristic rates taken from the edges themselves.

    For each edge ``u -> v`` let ``b = weight - vr * |z(v) - z(u)|`` (what the edge
    pays beyond its vertical lower bound), ``d`` the planar distance between its
    nodes and ``a_j = dirs[j] . (p(v) - p(u))`` its planar progress along direction
    ``j``, all from the float32 coordinates ``nxyz`` (x, y, z) that A* reads.

    Returns
    -------
    hr : float
        min of ``b / d`` over edges with ``d > 0`` (inf if none).
    rates : float64[2, 3]
        Row 0: min of ``b / a_j`` over edges with ``a_j > 0``; row 1: min of
        ``b / -a_j`` over edges with ``a_j < 0`` (0 where no edge moves that way,
        which disables that bound).
    """
    n = len(indptr) - 1
    hmin = np.full(chunks, np.inf)
    dmin = np.full((chunks, 2, 3), np.inf)
    step = (n + chunks - 1) // chunks
    for ch in prange(chunks):
        for u in range(ch * step, min(n, (ch + 1) * step)):
            ux = np.float64(nxyz[u, 0])
            uy = np.float64(nxyz[u, 1])
            uz = np.float64(nxyz[u, 2])
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                dx = np.float64(nxyz[v, 0]) - ux
                dy = np.float64(nxyz[v, 1]) - uy
                if dx == 0.0 and dy == 0.0:
                    continue
                b = np.float64(weights[e]) - vr * abs(np.float64(nxyz[v, 2]) - uz)
                d = math.sqrt(dx * dx + dy * dy)
                hmin[ch] = min(hmin[ch], b / d)
                for j in range(3):
                    a = dx * dirs[j, 0] + dy * dirs[j, 1]
                    if a > 0:
                        dmin[ch, 0, j] = min(dmin[ch, 0, j], b / a)
                    elif a < 0:
                        dmin[ch, 1, j] = min(dmin[ch, 1, j], b / -a)
    out = np.empty((2, 3))
    for s in range(2):
        for j in range(3):
            m = np.inf
            for ch in range(chunks):
                m = min(m, dmin[ch, s, j])
            out[s, j] = 0.0 if m == np.inf else m
    return hmin.min(), out
