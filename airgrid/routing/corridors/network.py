"""Corridor networks: connect logistics nodes with a few corridors, few crossings, bounded detours.

Design (:func:`design_network`)
-------------------------------
1. **Access and pieces.** Every node gets its access cell in the tier
   (:func:`~airgrid.routing.corridors.access.node_access`, ties to the largest connected
   piece of the tier). Nodes whose access voxels lie in different connected pieces of
   the tier cannot be joined inside it: the network is designed per piece and the
   split is reported (:attr:`CorridorNetwork.pieces`).
2. **Candidates** (:mod:`~airgrid.routing.corridors.candidates`). Per piece, links of the Delaunay triangulation of the nodes
   (``scipy.spatial.Delaunay`` on local stereographic coordinates), or of the
   ``k``-nearest-neighbour graph (also the fallback when the nodes are collinear).
   Straight Delaunay edges never cross, which is the first step to few crossings.
3. **Pricing.** Every candidate is priced by A* inside the tier, all in one batch
   (:meth:`~airgrid.routing.search.router.Router.batch`, both cores).
4. **Selection.** A minimum spanning tree of the priced candidates (networkx), then,
   in order of increasing cost, every other candidate whose cheapest path through the
   network so far costs more than ``detour_ratio`` times its own cost. Afterwards, for
   every priced candidate ``(u, v)``: network cost(u, v) <= ``detour_ratio`` x cost(u, v).
5. **Centrelines and merging.** Selected links are routed (A* paths) from the
   cheapest up. With ``merge`` on, a stretch of a later centreline that runs within
   ``2 * width + 1`` rings of an earlier one (the two footprints would touch: side by
   side) for at least :data:`~airgrid.routing.corridors.merge.MIN_MERGE_CELLS` cells, roughly parallel to it (lines
   within :data:`~airgrid.routing.corridors.merge.MAX_MERGE_ANGLE_DEG`, either sense), is replaced by the earlier
   centreline's cells there, joined by H3 grid lines through usable cells: the
   corridors then share those cells instead of running side by side (step 6 puts them
   in different bands if their traffic would oppose).
6. **Crossings and bands (CCAR-92: minimise crossings, cross at different
   altitudes).** Two corridors *conflict* when their string-pulled centrelines cross
   (shapely, at :data:`~airgrid.routing.corridors.bands.MIN_CROSSING_ANGLE_DEG` or more) or when they share footprint
   cells where their lane-A bearings differ by more than 90° (opposing traffic in one
   lane). Near a node where several corridors end (its *junction*: ``2 * width + 2``
   rings around its access cell) corridors necessarily meet; junctions are terminal
   areas, left out of both tests, where traffic joins and leaves the lanes under the
   hub's procedures. Conflicting corridors get different layer bands by DSATUR
   colouring (networkx). Bands available = the shortest occupied column //
   ``band_layers``; a conflict that cannot be separated is reported (``unseparated``).
7. **Marking.** Lanes are built in the assigned bands and marked in the grid
   (:func:`~airgrid.routing.corridors.corridor.mark_corridors`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from airgrid.airspace.grid import Grid
from airgrid.routing.corridors.access import (
    DEFAULT_ACCESS_RINGS,
    DEFAULT_JOIN_RINGS,
    Access,
    node_access,
)
from airgrid.routing.corridors.bands import assign_bands
from airgrid.routing.corridors.candidates import candidate_pairs, select_links
from airgrid.routing.corridors.corridor import (
    Corridor,
    centreline_cells,
    check_band,
    make_corridor,
    mark_corridors,
)
from airgrid.routing.corridors.merge import merge_centreline
from airgrid.routing.corridors.nodes import Node, check_nodes
from airgrid.routing.corridors.tiers import tier_components, tier_index, tier_mask, tier_voxels
from airgrid.routing.errors import CorridorError, NodeAccessError
from airgrid.routing.graph import RouteGraph
from airgrid.routing.kernels.status import FOUND
from airgrid.routing.search.route import DEFAULT_BUDGET
from airgrid.routing.search.router import Router, graph_for, router_for

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class NetworkParams:
    """Parameters of a network design.

    Attributes
    ----------
    tier
        Tier name or index the corridors live in.
    width
        Corridor half-width in H3 rings.
    band_layers
        Layers per band (even; half lane A, half lane B).
    detour_ratio
        Add a redundant link when the network path costs more than this times the
        direct link (> 1).
    candidates
        ``"delaunay"`` or ``"knn"``.
    k
        Neighbours per node for ``"knn"`` (and the collinear fallback).
    merge
        Merge side-by-side stretches onto earlier centrelines.
    max_access_rings
        Access cell search radius (rings).
    join_rings
        Extra rings a node may reach for an access cell in a larger piece of the tier.
    budget
        A* expansion budget per link.
    """

    tier: str | int = "T2"
    width: int = 1
    band_layers: int = 4
    detour_ratio: float = 1.4
    candidates: str = "delaunay"
    k: int = 4
    merge: bool = True
    max_access_rings: int = DEFAULT_ACCESS_RINGS
    join_rings: int = DEFAULT_JOIN_RINGS
    budget: int = DEFAULT_BUDGET

    def check(self) -> None:
        """Validate.

        Raises
        ------
        CorridorError
            Any parameter out of range.
        """
        check_band(self.width, 0, self.band_layers)
        if not (math.isfinite(self.detour_ratio) and self.detour_ratio > 1.0):
            raise CorridorError(f"detour_ratio must be a number > 1, got {self.detour_ratio!r}")
        if self.candidates not in ("delaunay", "knn"):
            raise CorridorError(f"candidates must be 'delaunay' or 'knn', got {self.candidates!r}")
        if not (isinstance(self.k, int) and self.k >= 1):
            raise CorridorError(f"k must be an integer >= 1, got {self.k!r}")
        for name in ("max_access_rings", "join_rings"):
            v = getattr(self, name)
            if not (isinstance(v, int) and v >= 0):
                raise CorridorError(f"{name} must be an integer >= 0, got {v!r}")
        if not (isinstance(self.budget, int) and self.budget > 0):
            raise CorridorError(f"budget must be a positive integer, got {self.budget!r}")


@dataclass(frozen=True)
class Candidate:
    """A priced candidate link: node ids, A* cost (inf if unreachable), whether selected and why."""

    u: str
    v: str
    cost: float
    selected: str = ""  #: "" (not selected), "mst" or "redundant"


@dataclass
class CorridorNetwork:
    """A designed corridor network.

    Attributes
    ----------
    grid
        The grid (marked in place when ``mark`` was set).
    params
        The design parameters.
    nodes
        The nodes, by id.
    access
        Access of each node, by id.
    pieces
        Node ids grouped by connected piece of the tier (largest piece first).
    candidates
        Every priced candidate link.
    corridors
        The corridors, one per selected link.
    graph
        ``networkx.Graph`` over node ids; edges carry ``cost`` and ``corridor`` (index).
    crossings
        ``(i, j, n)``: corridors ``i`` and ``j`` cross ``n`` times.
    conflicts
        Corridor index pairs that must not share a band (crossing or opposing traffic).
    unseparated
        Conflicting pairs that still share a band (too few bands).
    n_bands
        Bands available.
    merged_cells
        Centreline cells re-used from earlier corridors by merging.
    unreachable
        Ids of the nodes left out because the tier has no usable voxel near them (it is
        absent where the ground is too uncertain for its band, or blocked).
    timings
        Seconds per design step.
    """

    grid: Grid
    params: NetworkParams
    nodes: dict[str, Node]
    access: dict[str, Access]
    pieces: list[list[str]]
    candidates: list[Candidate]
    corridors: list[Corridor]
    graph: nx.Graph
    crossings: list[tuple[int, int, int]] = field(default_factory=list)
    conflicts: list[tuple[int, int]] = field(default_factory=list)
    unseparated: list[tuple[int, int]] = field(default_factory=list)
    n_bands: int = 0
    merged_cells: int = 0
    unreachable: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def voxels(self) -> np.ndarray:
        """Every voxel of the network (shared voxels once), sorted."""
        if not self.corridors:
            return np.empty(0, np.int64)
        return np.unique(np.concatenate([c.voxels for c in self.corridors]))

    def is_connected(self) -> bool:
        """Whether the corridors join every node into one network."""
        return self.graph.number_of_nodes() > 0 and nx.is_connected(self.graph)

    def network_cost(self, u: str, v: str) -> float:
        """Cheapest cost from node ``u`` to node ``v`` through the corridors (inf if not joined)."""
        try:
            return float(nx.shortest_path_length(self.graph, u, v, weight="cost"))
        except nx.NetworkXNoPath:
            return math.inf


def _node_access(
    grid: Grid, t: int, nodes: Sequence[Node], params: NetworkParams, comps: np.ndarray
) -> tuple[dict[str, Access], list[str]]:
    """Access of every node to tier ``t`` (step 1), and the ids of nodes without one."""
    access: dict[str, Access] = {}
    unreachable: list[str] = []
    for n in nodes:
        try:
            access[n.id] = node_access(
                grid,
                t,
                n,
                max_rings=params.max_access_rings,
                join_rings=params.join_rings,
                components=comps,
            )
        except NodeAccessError as exc:
            log.warning("%s; left out of the network", exc)
            unreachable.append(n.id)
    return access, unreachable


def _pieces(
    grid: Grid,
    t: int,
    nodes: list[Node],
    access: dict[str, Access],
    comps: np.ndarray,
    unreachable: list[str],
) -> dict[int, list[Node]]:
    """The nodes with access grouped by the connected piece of the tier they join (step 1).

    Raises
    ------
    CorridorError
        Fewer than 2 nodes with access, or two nodes sharing an access cell.
    """
    if len(nodes) < 2:
        raise CorridorError(
            f"fewer than 2 nodes have a usable voxel of tier {grid.tiers[t].name} near them "
            f"(left out: {', '.join(unreachable)})"
        )
    by_cell: dict[int, str] = {}
    for n in nodes:
        cell = access[n.id].cell
        if cell in by_cell:
            raise CorridorError(
                f"nodes {by_cell[cell]!r} and {n.id!r} share one access cell; drop one of them"
            )
        by_cell[cell] = n.id
    v0 = tier_voxels(grid, t).start
    groups: dict[int, list[Node]] = {}
    for n in nodes:
        groups.setdefault(int(comps[access[n.id].voxel - v0]), []).append(n)
    return groups


def _price_candidates(
    router: Router,
    groups: dict[int, list[Node]],
    access: dict[str, Access],
    blocked: np.ndarray,
    params: NetworkParams,
) -> tuple[list[tuple[str, str]], dict[tuple[str, str], float]]:
    """Candidate links per piece (step 2) and the costs of those with a route (step 3)."""
    pairs: list[tuple[str, str]] = []
    for grp in groups.values():
        pairs += [
            (grp[i].id, grp[j].id) for i, j in candidate_pairs(grp, params.candidates, params.k)
        ]
    if pairs:
        st, cost, _ = router.batch(
            np.array([access[u].voxel for u, _ in pairs]),
            np.array([access[v].voxel for _, v in pairs]),
            blocked,
            params.budget,
        )
    else:
        st, cost = np.empty(0, np.int32), np.empty(0)
    priced = {p: float(c) for p, s, c in zip(pairs, st.tolist(), cost.tolist()) if s == FOUND}
    return pairs, priced


def _route_centrelines(
    router: Router,
    grid: Grid,
    t: int,
    order: list[tuple[str, str]],
    access: dict[str, Access],
    blocked: np.ndarray,
    params: NetworkParams,
    report: Progress,
) -> tuple[list[np.ndarray], int]:
    """Centrelines of the selected links, cheapest first, merged if asked (step 5).

    Returns
    -------
    centrelines : list of int64 arrays
        One per link of ``order``.
    merged : int
        Cells taken from earlier centrelines.

    Raises
    ------
    CorridorError
        A priced link whose route now fails.
    """
    rings = 2 * params.width + 1
    centrelines: list[np.ndarray] = []
    merged = 0
    for k, (u, v) in enumerate(order):
        report(f"routing corridor {k + 1}/{len(order)}", 0.25 + 0.55 * k / max(len(order), 1))
        s, _, _, path = router.search(access[u].voxel, access[v].voxel, blocked, params.budget)
        if s != FOUND:
            raise CorridorError(f"link {u} - {v} was priced but its route failed (status {s})")
        cl = centreline_cells(grid, path)
        if params.merge and centrelines:
            cl, m = merge_centreline(grid, t, cl, centrelines, rings)
            merged += m
        centrelines.append(cl)
    return centrelines, merged


def design_network(
    graph: RouteGraph | Grid,
    nodes: Sequence[Node],
    params: NetworkParams | None = None,
    *,
    mark: bool = True,
    progress: Progress | None = None,
) -> CorridorNetwork:
    """Design a corridor network over logistics nodes (see the module docstring).

    Parameters
    ----------
    graph
        Routing graph (or a grid: its cached default graph). Build it from a grid
        without corridor marks, so prices are not biased by an older network.
    nodes
        The nodes (at least 2; unique ids).
    params
        Design parameters (default :class:`NetworkParams`).
    mark
        Mark the corridors' voxels in the grid (CORRIDOR / LANE_B).
    progress
        Called as ``progress(step, fraction)``.

    Returns
    -------
    CorridorNetwork

    Raises
    ------
    CorridorError
        Bad parameters, fewer than 2 nodes with access to the tier, or two nodes
        sharing an access cell. Nodes without access are left out and listed in
        ``unreachable``.
    NodeFileError
        Repeated node ids.
    """
    params = params or NetworkParams()
    params.check()
    report = progress or (lambda step, frac: None)
    nodes = check_nodes(nodes)
    if len(nodes) < 2:
        raise CorridorError("a corridor network needs at least 2 nodes")
    gr = graph_for(graph)
    return _design(gr, tier_index(gr.grid, params.tier), nodes, params, mark, report)


def _design(
    gr: RouteGraph, t: int, nodes: list[Node], params: NetworkParams, mark: bool, report: Progress
) -> CorridorNetwork:
    """The steps of :func:`design_network` on checked input, timed."""
    grid = gr.grid
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    nodes, access, unreachable, groups = _access_step(gr, t, nodes, params, report)
    nodes_by_id = {n.id: n for n in nodes}
    pieces = [[n.id for n in groups[k]] for k in sorted(groups, key=lambda k: (-len(groups[k]), k))]
    timings["access"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    report("pricing candidates", 0.15)
    blocked = tier_mask(gr, t)
    router = router_for(gr)
    pairs, priced = _price_candidates(router, groups, access, blocked, params)
    timings["pricing"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    chosen = select_links(priced, params.detour_ratio)
    candidates = [
        Candidate(u, v, priced.get((u, v), math.inf), chosen.get((u, v), "")) for u, v in pairs
    ]
    order = sorted(chosen, key=lambda p: (priced[p], p))
    centrelines, merged = _route_centrelines(
        router, grid, t, order, access, blocked, params, report
    )
    corridors = _make_corridors(grid, t, order, centrelines, nodes_by_id, priced, params)
    timings["routing"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    report("crossings and bands", 0.85)
    crossings, conflicts, unseparated, n_bands = assign_bands(grid, corridors, access, params.width)
    if mark:
        mark_corridors(grid, corridors)
    g = _corridor_graph(nodes, corridors)
    timings["bands"] = time.perf_counter() - t0
    log.info(
        "corridor network: %d nodes in %d pieces, %d corridors, %d crossings, %d unseparated, steps %s",
        len(nodes),
        len(pieces),
        len(corridors),
        sum(n for _, _, n in crossings),
        len(unseparated),
        timings,
    )
    report("done", 1.0)
    return CorridorNetwork(
        grid,
        params,
        nodes_by_id,
        access,
        pieces,
        candidates,
        corridors,
        g,
        crossings,
        conflicts,
        unseparated,
        n_bands,
        merged,
        unreachable,
        timings,
    )


def _access_step(
    gr: RouteGraph, t: int, nodes: list[Node], params: NetworkParams, report: Progress
) -> tuple[list[Node], dict[str, Access], list[str], dict[int, list[Node]]]:
    """Step 1: the nodes with access to tier ``t``, their access, the ids of those without,
    and the nodes grouped by the connected piece of the tier they join.
    """
    report("tier connectivity", 0.02)
    comps = tier_components(gr, t)
    report("node access", 0.08)
    access, unreachable = _node_access(gr.grid, t, nodes, params, comps)
    nodes = [n for n in nodes if n.id in access]
    return nodes, access, unreachable, _pieces(gr.grid, t, nodes, access, comps, unreachable)


def _make_corridors(
    grid: Grid,
    t: int,
    order: list[tuple[str, str]],
    centrelines: list[np.ndarray],
    nodes_by_id: dict[str, Node],
    priced: dict[tuple[str, str], float],
    params: NetworkParams,
) -> list[Corridor]:
    """The corridors of the selected links around their centrelines, all in band 0."""
    return [
        make_corridor(
            grid,
            nodes_by_id[u],
            nodes_by_id[v],
            cl,
            tier=t,
            width=params.width,
            band=0,
            band_layers=params.band_layers,
            cost=priced[(u, v)],
        )
        for (u, v), cl in zip(order, centrelines)
    ]


def _corridor_graph(nodes: Sequence[Node], corridors: Sequence[Corridor]) -> nx.Graph:
    """The network as a graph: the nodes, joined by their corridors (``cost``, ``corridor`` index)."""
    g = nx.Graph()
    g.add_nodes_from(n.id for n in nodes)
    for i, cor in enumerate(corridors):
        g.add_edge(cor.a.id, cor.b.id, cost=cor.cost, corridor=i)
    return g
