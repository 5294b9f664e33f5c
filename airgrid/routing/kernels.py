"""Numba kernels of the router: arrays and scalars in, arrays and scalars out.

Nothing here knows H3, shapely or the Grid class; :mod:`airgrid.routing.graph` and
:mod:`airgrid.routing.search` convert at the edge.

Search state (per thread) is one full-size array reused across queries: per node, the
cost so far and a tag holding the generation in which it was last written (and whether
it is closed) and its parent, so a new query only bumps the generation instead of
clearing ``O(n)`` memory.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from airgrid.routing.costs import (
    EARTH_R,
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
def _cell_edges(c, nbr, first, nl, start, parent, child_ptr, child_idx, cell_tier, usable,
                cell_xyz, zc, vfac, tier_w, climb, descent, transition, indices, weights, out_ptr, write):
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
                    weights[p + k] = edge_cost(HORIZONTAL, d, 0.0, tier_w[t], vfac[v], vfac[w],
                                               climb, descent, transition)
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
                    weights[p + k] = edge_cost(VERTICAL, 0.0, zc[w] - zc[v], 1.0, 1.0, 1.0,
                                               climb, descent, transition)
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
                        weights[p + k] = edge_cost(TRANSITION, d, zc[w] - zc[v], tw, vfac[v], vfac[w],
                                                   climb, descent, transition)
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
                        weights[p + k] = edge_cost(TRANSITION, d, zc[w] - zc[v], tw, vfac[v], vfac[w],
                                                   climb, descent, transition)
                    k += 1
        if not write:
            out_ptr[v] = k
        total += k
    return total


@njit(cache=True, parallel=True)
def count_edges(nbr, first, nl, start, parent, child_ptr, child_idx, cell_tier, usable, cell_xyz, zc,
                vfac, tier_w, climb, descent, transition, degree):
    """Out-degree of every voxel into ``degree`` (int64[n_voxels])."""
    dummy_i = np.empty(0, np.int32)
    dummy_w = np.empty(0, np.float32)
    for c in prange(len(nl)):
        _cell_edges(c, nbr, first, nl, start, parent, child_ptr, child_idx, cell_tier, usable, cell_xyz,
                    zc, vfac, tier_w, climb, descent, transition, dummy_i, dummy_w, degree, False)


@njit(cache=True, parallel=True)
def fill_edges(nbr, first, nl, start, parent, child_ptr, child_idx, cell_tier, usable, cell_xyz, zc,
               vfac, tier_w, climb, descent, transition, indptr, indices, weights):
    """Write targets and weights of every voxel's out-edges at ``indptr``."""
    for c in prange(len(nl)):
        _cell_edges(c, nbr, first, nl, start, parent, child_ptr, child_idx, cell_tier, usable, cell_xyz,
                    zc, vfac, tier_w, climb, descent, transition, indices, weights, indptr, True)


# -- binary heap of (key, g, node), min on key, ties to the larger g ---------------------
@njit(cache=True, inline="always")
def _before(ka, ga, kb, gb):
    return ka < kb or (ka == kb and ga > gb)


@njit(cache=True, inline="always")
def _push(hk, hg, hn, size, key, gv, node):
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if _before(key, gv, hk[p], hg[p]):
            hk[i] = hk[p]
            hg[i] = hg[p]
            hn[i] = hn[p]
            i = p
        else:
            break
    hk[i] = key
    hg[i] = gv
    hn[i] = node


@njit(cache=True, inline="always")
def _pop(hk, hg, hn, size):
    """Remove the root of a heap of ``size`` (> 0) entries; returns its node."""
    top = hn[0]
    size -= 1
    if size > 0:
        key = hk[size]
        gv = hg[size]
        node = hn[size]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= size:
                break
            if c + 1 < size and _before(hk[c + 1], hg[c + 1], hk[c], hg[c]):
                c += 1
            if _before(hk[c], hg[c], key, gv):
                hk[i] = hk[c]
                hg[i] = hg[c]
                hn[i] = hn[c]
                i = c
            else:
                break
        hk[i] = key
        hg[i] = gv
        hn[i] = node
    return top


@njit(cache=True, inline="always")
def _h(v, c, zv, geo, gx, gy, gz, gp, hr, dir_rate, v_rate, zg, lm, lt, nl):
    dx = geo[c, 0] - gx
    dy = geo[c, 1] - gy
    dz = geo[c, 2] - gz
    h = hr * math.sqrt(dx * dx + dy * dy + dz * dz)
    for j in range(len(gp)):
        a = gp[j] - geo[c, 3 + j]
        hd = a * dir_rate[0, j] if a > 0 else -a * dir_rate[1, j]
        h = max(h, hd)
    h += v_rate * abs(zv - zg)
    for i in range(nl):
        # explicit comparisons: a nan bound (inf - inf, both unreachable) must never win
        a = lt[i] - lm[v, i]  # d(L, t) - d(L, v)
        if a > h:  # noqa: PLR1730
            h = a
        b = lm[v, nl + i] - lt[nl + i]  # d(v, L) - d(t, L)
        if b > h:  # noqa: PLR1730
            h = b
    return h


# -- A* -----------------------------------------------------------------------------------
@njit(cache=True)
def astar(indptr, indices, weights, voxel_cell, geo, dir_rate, zc, lm, blocked, src, dst, h_rate, v_rate,
          budget, max_range_m, gen, node_g, node_tag, hn, hk, hg):
    """A* from ``src`` to ``dst`` on a CSR graph.

    Parameters
    ----------
    indptr, indices, weights
        CSR graph (int64, int32, float32).
    voxel_cell, zc
        Node -> cell row; node altitude (m).
    geo
        Per cell: unit vector of the centre (columns 0-2), then its projections (m) on
        ``k`` fixed directions (columns 3..3+k), float64[n_cells, 3 + k].
    dir_rate
        Per direction, cost lower bounds per metre of progress along (row 0) and
        against (row 1) it, float64[2, k]. See :func:`direction_rates`.
    lm
        Landmark distances, float64[n, 2L]: ``lm[v, i] = d(L_i, v)`` and
        ``lm[v, L + i] = d(v, L_i)`` (inf where unreachable); shape (0, 0) for none.
    blocked
        uint8 per node (nonzero: may not be entered) or an empty array (nothing blocked).
    src, dst
        Node indices.
    h_rate, v_rate
        Lower bounds of cost per horizontal (chord) / vertical metre.
    budget
        Maximum node expansions.
    max_range_m
        If > 0, nodes farther than this along origin -> node -> destination (chords
        between cell centres) are pruned.
    gen
        Even generation of this query, larger than every generation in ``node_tag``
        and below 2**30.
    node_g, node_tag
        Reusable per-node state packed in one 16-byte row per node (one cache line per
        touch): ``node_g[v, 0]`` is the cost so far, and ``node_tag`` is the same
        memory viewed as int64, whose ``[v, 1]`` holds ``generation << 32 | parent + 1``
        (generation ``gen``: open, ``gen + 1``: closed; older: untouched this query).
    hn, hk, hg
        Heap nodes, keys and g, of capacity ``len(hn)`` (lazy deletion).

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
    consistent lower bounds, plus the vertical one ``v_rate * |z(n) - z(goal)|``:

    * isotropic: ``h_rate * R * chord(n, goal)``;
    * directional (the hex-lattice bound): ``rate_j * (p_j(goal) - p_j(n))`` where
      ``p_j`` is the projection on a fixed direction ``w_j`` normal to a face of the
      hexagonal lattice. A hex path cannot move along ``w_j`` directly; its edges run
      at >= ~30 degrees to it, so per metre of progress along ``w_j`` it pays about
      ``1/cos 30 = 1.155`` metres of edge. The max over the three face normals is
      exactly the hex-lattice distance ``|D| cos(theta - 30) / cos 30`` of a regular
      lattice, which removes the ~12 % looseness of straight-line distance.

    ``h_rate`` and ``rate_j`` are not assumed from geometry: :func:`direction_rates`
    takes them as minima over *every* edge of the graph of (edge cost minus its
    vertical lower bound) per metre of progress, so each edge ``u -> v`` satisfies
    ``h(u) <= c(u, v) + h(v)`` for each bound by construction, whatever H3's distortion.
    With landmarks, the ALT bounds (Goldberg & Harrelson 2005) join the max:
    ``d(L, t) - d(L, v)`` and ``d(v, L) - d(t, L)`` by the triangle inequality of exact
    shortest-path distances on the unmasked graph (a request's mask only removes
    nodes, which never shortens a path). Where they are infinite, ``v`` cannot reach
    the goal and is pruned.

    The max of consistent heuristics is consistent, hence admissible, and a node is
    final when first popped (closed nodes are never reopened).
    """
    nb = len(blocked) > 0
    nl = lm.shape[1] // 2
    lt = lm[dst].copy() if nl > 0 else np.empty(0)
    cap = len(hn)
    k = dir_rate.shape[1]
    opened = gen << 32
    closed = (gen + 1) << 32
    gc = voxel_cell[dst]
    gx, gy, gz = geo[gc, 0], geo[gc, 1], geo[gc, 2]
    gp = geo[gc, 3:3 + k].copy()
    zg = zc[dst]
    oc = voxel_cell[src]
    ox, oy, oz = geo[oc, 0], geo[oc, 1], geo[oc, 2]
    hr = h_rate * EARTH_R
    rng = max_range_m / EARTH_R
    node_tag[src, 1] = opened
    node_g[src, 0] = 0.0
    _push(hk, hg, hn, 0, _h(src, oc, zc[src], geo, gx, gy, gz, gp, hr, dir_rate, v_rate, zg, lm, lt, nl), 0.0,
          src)
    size = 1
    exp = 0
    while size > 0:
        u = _pop(hk, hg, hn, size)
        size -= 1
        tu = node_tag[u, 1]
        if tu >= closed:
            continue
        node_tag[u, 1] = closed | (tu & 0xFFFFFFFF)
        if u == dst:
            return FOUND, node_g[u, 0], exp
        if exp >= budget:
            return BUDGET, np.inf, exp
        exp += 1
        gu = node_g[u, 0]
        pu = np.int64(u) + 1
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if nb and blocked[v] != 0:
                continue
            ng = gu + weights[e]
            tv = node_tag[v, 1]
            if tv >= closed:
                continue
            if tv >= opened:
                if ng >= node_g[v, 0]:
                    continue
            elif rng > 0:
                c = voxel_cell[v]
                ex = geo[c, 0] - ox
                ey = geo[c, 1] - oy
                ez = geo[c, 2] - oz
                dx = geo[c, 0] - gx
                dy = geo[c, 1] - gy
                dz = geo[c, 2] - gz
                if math.sqrt(ex * ex + ey * ey + ez * ez) + math.sqrt(dx * dx + dy * dy + dz * dz) > rng:
                    node_tag[v, 1] = closed
                    continue
            hv = _h(v, voxel_cell[v], zc[v], geo, gx, gy, gz, gp, hr, dir_rate, v_rate, zg, lm, lt, nl)
            if hv == np.inf:
                node_tag[v, 1] = closed
                continue
            if size == cap:
                return HEAP_FULL, np.inf, exp
            node_g[v, 0] = ng
            node_tag[v, 1] = opened | pu
            _push(hk, hg, hn, size, ng + hv, ng, v)
            size += 1
    return NO_ROUTE, np.inf, exp


@njit(cache=True)
def trace_path(node_tag, src, dst):
    """Nodes from ``src`` to ``dst`` following the parent links (see :func:`astar`) back from ``dst``."""
    n = 1
    v = dst
    while v != src:
        v = (node_tag[v, 1] & 0xFFFFFFFF) - 1
        n += 1
    out = np.empty(n, np.int32)
    v = dst
    for i in range(n - 1, -1, -1):
        out[i] = v
        v = (node_tag[v, 1] & 0xFFFFFFFF) - 1
    return out


@njit(cache=True, parallel=True)
def astar_batch(indptr, indices, weights, voxel_cell, geo, dir_rate, zc, lm, blocked, srcs, dsts, h_rate,
                v_rate, budget, max_range_m, gens, node_g, node_tag, hn, hk, hg):
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
    rows = node_g.shape[0]
    status = np.empty(n, np.int32)
    cost = np.empty(n, np.float64)
    exps = np.empty(n, np.int64)
    for r in prange(rows):
        for i in range(r, n, rows):
            gens[r] += 2
            s, c, x = astar(indptr, indices, weights, voxel_cell, geo, dir_rate, zc, lm, blocked, srcs[i], dsts[i],
                            h_rate, v_rate, budget, max_range_m, gens[r], node_g[r], node_tag[r], hn[r], hk[r],
                            hg[r])
            status[i] = s
            cost[i] = c
            exps[i] = x
    return status, cost, exps


@njit(cache=True, parallel=True)
def direction_rates(indptr, indices, weights, voxel_cell, cell_xyz, proj, zc, v_rate, chunks):
    """Heuristic rates taken from the edges themselves.

    For each edge ``u -> v`` let ``b = weight - v_rate * |z(v) - z(u)|`` (what the edge
    pays beyond its vertical lower bound), ``d = R * chord`` between its cells and
    ``a_j = proj[cell v, j] - proj[cell u, j]`` its progress along direction ``j``.

    Returns
    -------
    h_rate : float
        min of ``b / d`` over edges with ``d > 0`` (inf if none).
    dir_rate : float64[2, k]
        Row 0: min of ``b / a_j`` over edges with ``a_j > 0``; row 1: min of
        ``b / -a_j`` over edges with ``a_j < 0`` (0 where no edge moves that way,
        which disables that bound).
    """
    n = len(indptr) - 1
    k = proj.shape[1]
    hmin = np.full(chunks, np.inf)
    dmin = np.full((chunks, 2, k), np.inf)
    step = (n + chunks - 1) // chunks
    for ch in prange(chunks):
        for u in range(ch * step, min(n, (ch + 1) * step)):
            cu = voxel_cell[u]
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                cv = voxel_cell[v]
                if cv == cu:
                    continue
                b = weights[e] - v_rate * abs(zc[v] - zc[u])
                dx = cell_xyz[cv, 0] - cell_xyz[cu, 0]
                dy = cell_xyz[cv, 1] - cell_xyz[cu, 1]
                dz = cell_xyz[cv, 2] - cell_xyz[cu, 2]
                d = EARTH_R * math.sqrt(dx * dx + dy * dy + dz * dz)
                if d > 0 and b / d < hmin[ch]:
                    hmin[ch] = b / d
                for j in range(k):
                    a = proj[cv, j] - proj[cu, j]
                    if a > 0:
                        dmin[ch, 0, j] = min(dmin[ch, 0, j], b / a)
                    elif a < 0:
                        dmin[ch, 1, j] = min(dmin[ch, 1, j], b / -a)
    out = np.empty((2, k))
    for s in range(2):
        for j in range(k):
            m = np.inf
            for ch in range(chunks):
                m = min(m, dmin[ch, s, j])
            out[s, j] = 0.0 if m == np.inf else m
    return hmin.min(), out


@njit(cache=True)
def dijkstra_all(indptr, indices, weights, src, dist, hn, hk, hg):
    """Exact costs from ``src`` to every node into ``dist`` (pre-filled with inf).

    Dijkstra (1959) with the lazy heap of :func:`astar`. Returns FOUND, or HEAP_FULL
    when ``hn`` is too small (the caller retries with a larger heap).
    """
    cap = len(hn)
    dist[src] = 0.0
    _push(hk, hg, hn, 0, 0.0, 0.0, src)
    size = 1
    while size > 0:
        key = hk[0]
        u = _pop(hk, hg, hn, size)
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
                _push(hk, hg, hn, size, nd, 0.0, v)
                size += 1
    return FOUND


@njit(cache=True)
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
