"""Numba A* over the CSR graph (single query and batch), its heuristic, and the
heuristic rates taken from the edges.

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

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from airgrid.routing.kernels.heap import pack, pop, push
from airgrid.routing.kernels.status import BUDGET, FOUND, HEAP_FULL, NO_ROUTE
from airgrid.routing.kernels.tables import Workspace


@njit(cache=True, inline="always")
def _h(v, x, y, z, gx, gy, gz, dirs, rates, hr, vr, lm, lt, nl):
    """Heuristic of node ``v`` at planar ``x, y`` and altitude ``z`` for the goal at ``gx, gy, gz``,
    from the fields of :class:`~airgrid.routing.kernels.tables.Bounds` (see the module notes).
    """
    dx = gx - x
    dy = gy - y
    h = hr * math.sqrt(dx * dx + dy * dy)
    for j in range(3):
        a = dx * dirs[j, 0] + dy * dirs[j, 1]
        c = a * rates[0, j] if a > 0 else -a * rates[1, j]
        if c > h:
            h = c
    h += vr * abs(gz - z)
    for i in range(nl):
        # explicit comparisons: a nan bound (inf - inf, both unreachable) must never win
        a = lt[i] - lm[v, i]  # d(L, t) - d(L, v)
        if a > h:
            h = a
        c = lm[v, nl + i] - lt[nl + i]  # d(v, L) - d(t, L)
        if c > h:
            h = c
    return h


@njit(cache=True, inline="always")
def _point(nxyz, v):
    """Planar x, y and altitude z of node ``v`` as float64."""
    return np.float64(nxyz[v, 0]), np.float64(nxyz[v, 1]), np.float64(nxyz[v, 2])


@njit(cache=True, inline="always")
def _first_touch(sf, sz, nodes, v):
    """Copy node ``v``'s coordinates and zone into its state row (rows start all zero)."""
    sf[v, 4] = nodes.nxyz[v, 0]
    sf[v, 5] = nodes.nxyz[v, 1]
    sf[v, 6] = nodes.nxyz[v, 2]
    sz[v, 7] = nodes.zone[v]


# -- A* -----------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def astar(g, nodes, b, lim, src, dst, gen, ws):
    """A* from ``src`` to ``dst`` on a CSR graph.

    Parameters
    ----------
    g
        The graph (:class:`~airgrid.routing.kernels.tables.Csr`).
    nodes
        Its per-node table (:class:`~airgrid.routing.kernels.tables.Nodes`), copied into a
        node's state row when a query first touches it.
    b
        The heuristic's lower bounds (:class:`~airgrid.routing.kernels.tables.Bounds`),
        see the module notes.
    lim
        Nodes and zones that may not be entered, expansion budget, range and heuristic
        weight (:class:`~airgrid.routing.kernels.tables.Limits`). Range pruning uses
        planar distances, which never exceed the true ones, so nothing within range is
        pruned. A weight ``w > 1`` is weighted A* (Pohl 1970), whose route costs at most
        ``w`` times the optimum (the heuristic being consistent) for far fewer expansions.
    src, dst
        Node indices.
    gen
        Even generation of this query, larger than every generation in ``ws.state``
        and below 2**30.
    ws
        The :class:`~airgrid.routing.kernels.tables.Workspace`. ``state`` holds per node
        one 32-byte row, reused across queries (one cache line per touch), float64[n, 4]
        viewed three ways: ``[v, 0]`` the cost so far; as int64, ``[v, 1]`` =
        ``generation << 32 | parent + 1`` (generation ``gen``: open, ``gen + 1``: closed;
        older: untouched this query; 0: never touched); as float32, columns 4-6 the
        node's planar x, y (m) and altitude z (m); as int32, column 7 its zone. Allocate
        it zeroed (``numpy.zeros``): the operating system then only materialises the
        pages the searches touch, and each row gets its coordinates on its first touch.
        ``hk, hp`` are the heap keys and payloads, of capacity ``len(hk)`` (lazy deletion).

    Returns
    -------
    status : int
        FOUND, NO_ROUTE, BUDGET or HEAP_FULL.
    cost : float
        Cost of the route (inf unless FOUND).
    expansions : int
        Nodes expanded.
    """
    state = ws.state
    si = state.view(np.int64)
    sf = state.view(np.float32)
    sz = state.view(np.int32)
    nl = b.lm.shape[1] // 2
    lt = b.lm[dst].copy() if nl > 0 else np.empty(0)
    gx, gy, gz = _point(nodes.nxyz, dst)
    if si[src, 1] == 0:
        _first_touch(sf, sz, nodes, src)
    si[src, 1] = gen << 32
    state[src, 0] = 0.0
    dirs, rates, hr, vr, lm = b
    h0 = lim.hw * _h(
        src, sf[src, 4], sf[src, 5], sf[src, 6], gx, gy, gz, dirs, rates, hr, vr, lm, lt, nl
    )
    push(ws.hk, ws.hp, 0, h0, pack(0.0, src))
    return _search(g, nodes, b, lim, src, dst, gen, ws, lt)


@njit(cache=True, nogil=True)
def _search(g, nodes, b, lim, src, dst, gen, ws, lt):
    """The main loop of :func:`astar`: pop, expand and relax, from a heap holding the opened source.

    The checks on a node's first entry (zone, range) stay inline in the loop, and the
    goal in scalars: as a helper returning a flag, with the goal in a tuple, the loop
    measured about 15 % slower.
    """
    state, hk, hp = ws
    indptr, indices, weights = g
    dirs, rates, hr, vr, lm = b
    blocked, zone_ok, budget, max_range_m, hw = lim
    nxyz = nodes.nxyz
    si = state.view(np.int64)
    sf = state.view(np.float32)
    sz = state.view(np.int32)
    nb = len(blocked) > 0
    nz = len(zone_ok) > 0
    nl = lm.shape[1] // 2
    cap = len(hk)
    opened = gen << 32
    closed = (gen + 1) << 32
    gx, gy, gz = _point(nxyz, dst)
    ox, oy, _ = _point(nxyz, src)
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
                    _first_touch(sf, sz, nodes, v)
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
                v, sf[v, 4], sf[v, 5], sf[v, 6], gx, gy, gz, dirs, rates, hr, vr, lm, lt, nl
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


@njit(cache=True, nogil=True)
def lower_bound(nodes, b, src, dst):
    """The heuristic of :func:`astar` at ``src`` for goal ``dst``: a lower bound of the optimal cost.

    ``nodes`` and ``b`` are the graph's :class:`~airgrid.routing.kernels.tables.Nodes`
    and :class:`~airgrid.routing.kernels.tables.Bounds`.
    """
    nl = b.lm.shape[1] // 2
    lt = b.lm[dst].copy() if nl > 0 else np.empty(0)
    x, y, z = _point(nodes.nxyz, src)
    dirs, rates, hr, vr, lm = b
    gx, gy, gz = _point(nodes.nxyz, dst)
    return _h(src, x, y, z, gx, gy, gz, dirs, rates, hr, vr, lm, lt, nl)


@njit(cache=True, nogil=True)
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
def astar_batch(g, nodes, b, lim, srcs, dsts, gens, ws):
    """A* for many (src, dst) pairs, spread over threads; one state row per thread.

    Arguments as in :func:`astar`, except that the workspace's arrays have a leading
    row axis (one row per chunk); ``gens[c]`` is the last generation used by row ``c``
    and is advanced in place (by 2 per query). Pairs ``i`` go to row ``i % n_rows``.

    Returns
    -------
    status : int32[n_pairs]
    cost : float64[n_pairs]
    expansions : int64[n_pairs]
    """
    n = len(srcs)
    rows = ws.state.shape[0]
    status = np.empty(n, np.int32)
    cost = np.empty(n, np.float64)
    exps = np.empty(n, np.int64)
    for r in prange(rows):
        row = Workspace(ws.state[r], ws.hk[r], ws.hp[r])
        for i in range(r, n, rows):
            gens[r] += 2
            s, c, x = astar(g, nodes, b, lim, srcs[i], dsts[i], gens[r], row)
            status[i] = s
            cost[i] = c
            exps[i] = x
    return status, cost, exps


@njit(cache=True, parallel=True)
def planar_rates(g, nxyz, dirs, vr, chunks):
    """Heuristic rates taken from the edges of the :class:`~airgrid.routing.kernels.tables.Csr` ``g``.

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
    indptr, indices, weights = g.indptr, g.indices, g.weights
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
