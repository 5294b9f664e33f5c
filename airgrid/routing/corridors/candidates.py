"""Candidate links of a corridor network and the choice among them: Delaunay or
nearest-neighbour pairs of nodes, then a minimum spanning tree plus the links that cut
long detours (steps 2 and 4 of :mod:`~airgrid.routing.corridors.network`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import networkx as nx
import numpy as np

from airgrid.geo.plane import local_metric
from airgrid.routing.corridors.nodes import Node


def _projected(nodes: Sequence[Node]) -> np.ndarray:
    lon0 = float(np.mean([n.lon for n in nodes]))
    lat0 = float(np.mean([n.lat for n in nodes]))
    fwd, _ = local_metric(lon0, lat0)
    x, y = fwd.transform([n.lon for n in nodes], [n.lat for n in nodes])
    return np.column_stack([x, y])


def candidate_pairs(
    nodes: Sequence[Node], method: str = "delaunay", k: int = 4
) -> list[tuple[int, int]]:
    """Candidate links between nodes (index pairs ``i < j``, sorted).

    Parameters
    ----------
    nodes
        The nodes.
    method
        ``"delaunay"``: edges of the Delaunay triangulation of the projected nodes
        (the ``k``-nearest graph when they are collinear); ``"knn"``: each node to its
        ``k`` nearest.
    k
        Neighbours for ``"knn"``.
    """
    n = len(nodes)
    if n < 2:
        return []
    if n == 2:
        return [(0, 1)]
    xy = _projected(nodes)
    pairs: set[tuple[int, int]] = set()
    if method == "delaunay":
        from scipy.spatial import Delaunay, QhullError

        try:
            tri = Delaunay(xy)
        except QhullError:
            method = "knn"
        else:
            for s in tri.simplices.tolist():
                for i in range(3):
                    a, b = s[i], s[(i + 1) % 3]
                    pairs.add((min(a, b), max(a, b)))
    if method == "knn":
        d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
        np.fill_diagonal(d, np.inf)
        for i in range(n):
            for j in np.argsort(d[i], kind="stable")[: min(k, n - 1)].tolist():
                pairs.add((min(i, j), max(i, j)))
    return sorted(pairs)


def select_links(
    costs: dict[tuple[str, str], float], detour_ratio: float
) -> dict[tuple[str, str], str]:
    """MST plus redundant links (step 4 of the network design).

    Parameters
    ----------
    costs
        Finite cost per candidate ``(u, v)``.
    detour_ratio
        The redundancy threshold.

    Returns
    -------
    dict
        Selected candidates mapped to ``"mst"`` or ``"redundant"``.
    """
    g = nx.Graph()
    for (u, v), c in costs.items():
        g.add_edge(u, v, cost=c)
    mst = nx.minimum_spanning_tree(g, weight="cost")
    out = {(u, v): "mst" for (u, v) in costs if mst.has_edge(u, v)}
    net = nx.Graph()
    net.add_nodes_from(g.nodes)
    net.add_edges_from((u, v, {"cost": costs[(u, v)]}) for (u, v) in out)
    for (u, v), c in sorted(costs.items(), key=lambda kv: (kv[1], kv[0])):
        if (u, v) in out:
            continue
        try:
            d = nx.shortest_path_length(net, u, v, weight="cost")
        except nx.NetworkXNoPath:
            d = math.inf
        if d > detour_ratio * c:
            out[(u, v)] = "redundant"
            net.add_edge(u, v, cost=c)
    return out
