"""Numba kernels of the router: arrays and scalars in, arrays and scalars out.

Nothing here knows H3, shapely or the Grid class; :mod:`airgrid.routing.graph` and
:mod:`airgrid.routing.search` convert at the edge.

Search state (per thread) is one full-size array reused across queries: per node, the
cost so far, a tag holding the generation in which it was last written (and whether
it is closed) and its parent, and the node's own coordinates and zone, in one 32-byte
row, so a new query only bumps the generation instead of clearing ``O(n)`` memory and
touching a node costs one cache line.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from airgrid.routing.costs import (
    HORIZONTAL,
    TRANSITION,
    VERTICAL,
    edge_cost,
    great_circle_m,
)

#: Search outcomes.
FOUND, NO_ROUTE, BUDGET, HEAP_FULL = 0, 1, 2, 3


# -- graph construction ---------------------------------------------------------------------
@njit(cache=True)
def _cell_edges(
    c,
    nbr,
    first,
    nl,
    start,
    parent,
    child_ptr,
    child_idx,
    cell_tier,
    usable,
    cell_xyz,
    zc,
    vfac,
    tier_w,
    climb,
    descent,
    transition,
    indices,
    weights,
    out_ptr,
    write,
):
    """Count (``write=False``) or write the out-edges of every voxel of cell ``c``."""
    total = 0
    n0 = nl[c]
    t = cell_tier[c]
    for off in range(n0):
        v = start[c] + off
        k = 0
        if usable[v]:
            p = out_ptr[v] if write else 0
            lay = first[c] + off
            # horizontal: same tier, same absolute layer
            for j in range(nbr.shape[1]):
                nc = nbr[c, j]
                if nc < 0:
                    continue
                o2 = lay - first[nc]
                if o2 < 0 or o2 >= nl[nc]:
                    continue
                w = start[nc] + o2
                if not usable[w]:
                    continue
                if write:
                    d = great_circle_m(cell_xyz, c, nc)
                    indices[p + k] = w
                    weights[p + k] = edge_cost(
                        HORIZONTAL, d, 0.0, tier_w[t], vfac[v], vfac[w], climb, descent, transition
                    )
                k += 1
            # vertical within the column
            for step in (-1, 1):
                o2 = off + step
                if o2 < 0 or o2 >= n0:
                    continue
                w = v + step
                if not usable[w]:
                    continue
                if write:
                    indices[p + k] = w
                    weights[p + k] = edge_cost(
                        VERTICAL, 0.0, zc[w] - zc[v], 1.0, 1.0, 1.0, climb, descent, transition
                    )
                k += 1
            # up to the parent (coarser) tier: top voxel -> parent's bottom voxel
            pc = parent[c]
            if off == n0 - 1 and pc >= 0 and nl[pc] > 0:
                w = start[pc]
                if usable[w]:
                    if write:
                        d = great_circle_m(cell_xyz, c, pc)
                        tw = max(tier_w[t], tier_w[cell_tier[pc]])
                        indices[p + k] = w
                        weights[p + k] = edge_cost(
                            TRANSITION,
                            d,
                            zc[w] - zc[v],
                            tw,
                            vfac[v],
                            vfac[w],
                            climb,
                            descent,
                            transition,
                        )
                    k += 1
            # down to the children (finer tier): bottom voxel -> each child's top voxel
            if off == 0:
                for q in range(child_ptr[c], child_ptr[c + 1]):
                    ch = child_idx[q]
                    if nl[ch] == 0:
                        continue
                    w = start[ch] + nl[ch] - 1
                    if not usable[w]:
                        continue
                    if write:
                        d = great_circle_m(cell_xyz, c, ch)
                        tw = max(tier_w[t], tier_w[cell_tier[ch]])
                        indices[p + k] = w
                        weights[p + k] = edge_cost(
                            TRANSITION,
                            d,
                            zc[w] - zc[v],
                            tw,
                            vfac[v],
                            vfac[w],
                            climb,
                            descent,
                            transition,
                        )
                    k += 1
        if not write:
            out_ptr[v] = k
        total += k
    return total


@njit(cache=True, parallel=True)
def count_edges(
    nbr,
    first,
    nl,
    start,
    parent,
    child_ptr,
    child_idx,
    cell_tier,
    usable,
    cell_xyz,
    zc,
    vfac,
    tier_w,
    climb,
    descent,
    transition,
    degree,
):
    """Out-degree of every voxel into ``degree`` (int64[n_voxels])."""
    dummy_i = np.empty(0, np.int32)
    dummy_w = np.empty(0, np.float32)
    for c in prange(len(nl)):
        _cell_edges(
            c,
            nbr,
            first,
            nl,
            start,
            parent,
            child_ptr,
            child_idx,
            cell_tier,
            usable,
            cell_xyz,
            zc,
            vfac,
            tier_w,
            climb,
            descent,
            transition,
            dummy_i,
            dummy_w,
            degree,
            False,
        )


@njit(cache=True, parallel=True)
def fill_edges(
    nbr,
    first,
    nl,
    start,
    parent,
    child_ptr,
    child_idx,
    cell_tier,
    usable,
    cell_xyz,
    zc,
    vfac,
    tier_w,
    climb,
    descent,
    transition,
    indptr,
    indices,
    weights,
):
    """Write targets and weights of every voxel's out-edges at ``indptr``."""
    for c in prange(len(nl)):
        _cell_edges(
            c,
            nbr,
            first,
            nl,
            start,
            parent,
            child_ptr,
            child_idx,
            cell_tier,
            usable,
            cell_xyz,
            zc,
            vfac,
            tier_w,
            climb,
            descent,
            transition,
            indices,
            weights,
            indptr,
            True,
        )


# -- 4-ary heap of (key, packed), min on key, ties to the larger g --------------------------
# ``packed`` = ``quantised g << 32 | node``: one int64 carries the node and the tie-break.
@njit(cache=True, inline="always")
def _before(ka, pa, kb, pb):
    return ka < kb or (ka == kb and (pa >> 32) > (pb >> 32))


@njit(cache=True, inline="always")
def _pack(g, node):
    """Heap payload of ``node`` reached at cost ``g`` (g quantised to 1/16 for tie-breaks only)."""
    return (np.int64(min(g * 16.0, 2147483647.0)) << 32) | np.int64(node)


@njit(cache=True, inline="always")
def _push(hk, hp, size, key, pk):
    i = size
    while i > 0:
        p = (i - 1) >> 2
        if _before(key, pk, hk[p], hp[p]):
            hk[i] = hk[p]
            hp[i] = hp[p]
            i = p
        else:
            break
    hk[i] = key
    hp[i] = pk


@njit(cache=True, inline="always")
def _pop(hk, hp, size):
    """Remove the root of a heap of ``size`` (> 0) entries; returns its payload."""
    top = hp[0]
    size -= 1
    if size > 0:
        key = hk[size]
        pk = hp[size]
        i = 0
        while True:
            c = 4 * i + 1
            if c >= size:
                break
            b = c
            for q in range(c + 1, min(c + 4, size)):
                if _before(hk[q], hp[q], hk[b], hp[b]):
                    b = q
            if _before(hk[b], hp[b], key, pk):
                hk[i] = hk[b]
                hp[i] = hp[b]
                i = b
            else:
                break
        hk[i] = key
        hp[i] = pk
    return top


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
    _push(hk, hp, 0, h0, _pack(0.0, src))
    size = 1
    exp = 0
    while size > 0:
        u = _pop(hk, hp, size) & 0xFFFFFFFF
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
            _push(hk, hp, size, ng + hv, _pack(ng, v))
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


@njit(cache=True)
def zone_crossings(indptr, indices, weights, zone, nxyz):
    """Edges that cross between zones: (zone of u, zone of v, cost per planar metre).

    Returns
    -------
    za, zb : int32[m]
    rate : float64[m]
        ``weight / planar length`` of each crossing edge (edges of zero planar
        length, if any, are skipped).
    """
    n = len(indptr) - 1
    m = 0
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            if zone[indices[e]] != zone[u]:
                m += 1
    za = np.empty(m, np.int32)
    zb = np.empty(m, np.int32)
    rate = np.empty(m, np.float64)
    k = 0
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if zone[v] == zone[u]:
                continue
            dx = np.float64(nxyz[v, 0]) - np.float64(nxyz[u, 0])
            dy = np.float64(nxyz[v, 1]) - np.float64(nxyz[u, 1])
            d = math.sqrt(dx * dx + dy * dy)
            if d <= 0:
                continue
            za[k] = zone[u]
            zb[k] = zone[v]
            rate[k] = weights[e] / d
            k += 1
    return za[:k], zb[:k], rate[:k]


@njit(cache=True, nogil=True)
def dijkstra_all(indptr, indices, weights, src, dist, hk, hp):
    """Exact costs from ``src`` to every node into ``dist`` (pre-filled with inf).

    Dijkstra (1959) with the lazy heap of :func:`astar`. Returns FOUND, or HEAP_FULL
    when the heap (``hk``, ``hp``) is too small (the caller retries with a larger heap).
    """
    cap = len(hk)
    dist[src] = 0.0
    _push(hk, hp, 0, 0.0, _pack(0.0, src))
    size = 1
    while size > 0:
        key = hk[0]
        u = _pop(hk, hp, size) & 0xFFFFFFFF
        size -= 1
        if key > dist[u]:
            continue
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd = key + weights[e]
            if nd < dist[v]:
                if size == cap:
                    return HEAP_FULL
                dist[v] = nd
                _push(hk, hp, size, nd, _pack(nd, v))
                size += 1
    return FOUND


@njit(cache=True, parallel=True, nogil=True)
def dijkstra_many(indptr, indices, weights, rptr, ridx, rw, sources, out, cap):
    """Exact costs from each source (rows ``0..k-1`` of ``out``) and to it (rows ``k..2k-1``).

    ``rptr, ridx, rw`` is the reversed graph (see :func:`transpose`); ``out`` is
    float64[2k, n]; the 2k runs are spread over threads, each with a heap of ``cap``.

    Returns
    -------
    int32[2k]
        FOUND, or HEAP_FULL for runs the caller must redo with a larger heap.
    """
    k = len(sources)
    status = np.empty(2 * k, np.int32)
    for j in prange(2 * k):
        hk = np.empty(cap)
        hp = np.empty(cap, np.int64)
        out[j, :] = np.inf
        if j < k:
            status[j] = dijkstra_all(indptr, indices, weights, sources[j], out[j], hk, hp)
        else:
            status[j] = dijkstra_all(rptr, ridx, rw, sources[j - k], out[j], hk, hp)
    return status


@njit(cache=True, nogil=True)
def transpose(indptr, indices, weights):
    """The reversed CSR graph (edge ``u -> v`` becomes ``v -> u``)."""
    n = len(indptr) - 1
    tptr = np.zeros(n + 1, np.int64)
    for e in range(len(indices)):
        tptr[indices[e] + 1] += 1
    for i in range(n):
        tptr[i + 1] += tptr[i]
    cur = tptr[:-1].copy()
    tidx = np.empty(len(indices), np.int32)
    tw = np.empty(len(indices), np.float32)
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            tidx[cur[v]] = u
            tw[cur[v]] = weights[e]
            cur[v] += 1
    return tptr, tidx, tw
