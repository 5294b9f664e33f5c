"""The routing graph: a CSR over the grid's voxels.

Nodes are the grid's dense voxel indices (node ``v`` is voxel ``v``), so no remapping
is needed between grid, masks and search. Edges join usable voxels only:

* **horizontal**: to the voxel on the same absolute layer in each of the 6 H3
  neighbour cells of the same tier;
* **vertical**: to the voxels above and below in the same cell column;
* **tier transitions**: a fine cell's top voxel <-> the bottom voxel of its H3 parent
  cell in the next tier up (``Grid.cell_parent``), both ways.

Storage: ``indptr`` int64[n+1], ``indices`` int32[E], ``weights`` float32[E], per node
its planar position and altitude (float32[n, 3]) and zone (int32[n]), per cell its unit
vector (float64) and neighbour table (int32[n_cells, 6]), the small zone graph, and
optional ALT landmark distances (float64[n, 2L]). Measured for Hunan at T2 (2.15 M
cells, 17.3 M voxels, 128.7 M edges): 1.51 GiB of graph arrays, built in about 18 s on
2 cores, process RSS 2.9 GiB together with the grid (``benchmarks/routing.py``).
A full CSR fits, so no implicit neighbour table is needed.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from airgrid.airspace.grid import Grid, Status
from airgrid.routing.cells import cell_neighbours, cell_unit_vectors, plane_frame
from airgrid.routing.costs import CostWeights, EdgeCosts, vertical_rate, voxel_factors
from airgrid.routing.errors import GraphFileError
from airgrid.routing.kernels.astar import planar_rates
from airgrid.routing.kernels.dijkstra import transpose
from airgrid.routing.kernels.edges import count_edges, fill_edges
from airgrid.routing.kernels.tables import Bounds, CellTable, Csr, Nodes, VoxelTable
from airgrid.routing.landmarks import farthest_landmarks, main_component
from airgrid.routing.zones import zone_graph, zone_table

if TYPE_CHECKING:
    from airgrid.routing.search.router import Router
    from airgrid.routing.search.sightline import CellHulls

log = logging.getLogger(__name__)


@dataclass(eq=False)
class RouteGraph:
    """CSR graph over a grid's voxels plus what the heuristic needs.

    Attributes
    ----------
    grid
        The grid it was built from.
    weights_model
        The cost weights baked into ``weights``.
    indptr, indices, weights
        CSR adjacency (int64, int32, float32).
    cell_xyz
        Unit vector of every cell centre, float64[n_cells, 3].
    nxyz
        Per node, its planar position x, y (m, orthographic projection about the
        grid's centre) and the altitude z (m AMSL) of its centre, float32[n, 3]: what
        the A* heuristic reads.
    dirs
        Unit vectors of the 3 face normals of the finest tier's hex lattice in that
        plane, float64[3, 2].
    rates
        Cost lower bound per metre of progress along (row 0) / against (row 1) each
        of those directions, float64[2, 3].
    nbr
        Cell-table rows of every cell's 6 H3 neighbours in its tier (-1: absent), int32.
    h_rate, v_rate
        Cost lower bounds per planar / vertical metre.
    zone
        Per node, its zone: the row of its cell's H3 parent at :attr:`zone_res` in the
        zone graph, int32[n].
    zone_res
        H3 resolution of the zones.
    zone_indptr, zone_indices, zone_weights, zone_xy
        The zone graph (CSR: zones joined where an edge of the graph crosses between
        them, weighted by centroid distance times the cheapest crossing edge's cost per
        metre) and the zones' centroids (float32[n_zones, 3], x, y, 0), used to
        plan the corridor of long routes (see :func:`airgrid.routing.search.plan.plan_route`).
    build_seconds
        Wall time of the build.
    """

    grid: Grid
    weights_model: CostWeights
    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    cell_xyz: np.ndarray
    nxyz: np.ndarray
    dirs: np.ndarray
    rates: np.ndarray
    nbr: np.ndarray
    h_rate: float
    v_rate: float
    zone: np.ndarray
    zone_res: int
    zone_indptr: np.ndarray
    zone_indices: np.ndarray
    zone_weights: np.ndarray
    zone_xy: np.ndarray
    build_seconds: float = 0.0
    _usable: np.ndarray | None = field(default=None, repr=False)
    #: Landmark nodes (int64[L]) and their distances float64[n, 2L] (see :meth:`add_landmarks`).
    landmarks: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64), repr=False)
    lm: np.ndarray = field(default_factory=lambda: np.empty((0, 0)), repr=False)
    #: The graph's reusable search state (``airgrid.routing.search.router.router_for``).
    router: Router | None = field(default=None, repr=False)
    #: The cells' hulls for line of sight (``airgrid.routing.search.sightline.hulls_for``).
    hulls: CellHulls | None = field(default=None, repr=False)

    @property
    def n_nodes(self) -> int:
        """Nodes (= voxels of the grid)."""
        return len(self.indptr) - 1

    @property
    def n_edges(self) -> int:
        """Directed edges."""
        return len(self.indices)

    @property
    def nbytes(self) -> int:
        """Memory held by the graph's own arrays (bytes)."""
        return sum(
            a.nbytes
            for a in (
                self.indptr,
                self.indices,
                self.weights,
                self.cell_xyz,
                self.nxyz,
                self.nbr,
                self.zone,
                self.zone_indptr,
                self.zone_indices,
                self.zone_weights,
                self.zone_xy,
                self.lm,
            )
        )

    @property
    def csr(self) -> Csr:
        """The graph's CSR as the kernels take it."""
        return Csr(self.indptr, self.indices, self.weights)

    @property
    def nodes(self) -> Nodes:
        """The per-node table as the kernels take it."""
        return Nodes(self.nxyz, self.zone)

    @property
    def bounds(self) -> Bounds:
        """The A* heuristic's lower bounds (with the landmark table, if any)."""
        return Bounds(self.dirs, self.rates, float(self.h_rate), float(self.v_rate), self.lm)

    @property
    def zc(self) -> np.ndarray:
        """Altitude of every voxel centre, m AMSL (float32 view of ``nxyz``)."""
        return self.nxyz[:, 2]

    @property
    def usable(self) -> np.ndarray:
        """Voxels the graph was built over (grid status had no blocking bit)."""
        if self._usable is None:
            self._usable = self.grid.usable()
        return self._usable

    def add_landmarks(self, k: int, *, parallel: bool = True) -> None:
        """Precompute ALT landmark distances (Goldberg & Harrelson 2005) for ``k`` landmarks.

        Landmarks are placed by farthest selection
        (:func:`~airgrid.routing.landmarks.farthest_landmarks`) among the nodes with
        edges in the graph's largest strongly connected component, starting from the
        one nearest the plane's centre: a landmark in a small component (a few voxels
        cut off by terrain at the rim) bounds nothing outside it. For each, exact costs
        from it to every node (one run after the other: each choice needs them) and
        from every node to it (Dijkstra on the reversed graph, in parallel). Costs
        ``16 k`` bytes per node and ``2 k`` full Dijkstra runs; A* then takes the ALT
        bounds into its heuristic (see :func:`airgrid.routing.kernels.astar.astar`).
        :func:`~airgrid.routing.landmarks.landmark_count` picks ``k`` for a memory budget.

        With ``parallel=False`` every run goes in the calling thread in a kernel that
        releases the GIL and starts no Numba thread pool: what a server runs in a
        background thread while it answers routes with the geometric bounds alone
        (Numba's default threading layer must not be entered from two threads at once).
        """
        nodes = np.flatnonzero(self.usable & (np.diff(self.indptr) > 0))
        if k <= 0 or len(nodes) == 0:
            self.landmarks, self.lm = np.empty(0, np.int64), np.empty((0, 0))
            return
        fwd = self.csr
        nodes = main_component(fwd, nodes)
        seed = int(nodes[np.argmin(np.hypot(self.nxyz[nodes, 0], self.nxyz[nodes, 1]))])
        landmarks, lm = farthest_landmarks(fwd, transpose(fwd), nodes, seed, k, parallel=parallel)
        # the table is complete before the graph sees it: searches running meanwhile
        # (another thread) use the old table or the new one, never a partial one
        self.lm = lm
        self.landmarks = landmarks

    def save(self, path: str | Path) -> Path:
        """Write the graph's arrays (``.npy``) and ``graph.json`` to a folder.

        The folder also records a fingerprint of the grid (cell ids, layers, status) so
        :meth:`load` refuses a graph built from another grid or another grid state.
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for k in _ARRAYS:
            np.save(path / f"{k}.npy", np.ascontiguousarray(getattr(self, k)))
        meta = {
            "fingerprint": grid_fingerprint(self.grid),
            "h_rate": self.h_rate,
            "v_rate": self.v_rate,
            "zone_res": self.zone_res,
            "weights": self.weights_model.to_dict(),
            "build_seconds": self.build_seconds,
        }
        (path / "graph.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path, grid: Grid) -> RouteGraph:
        """Load a graph saved by :meth:`save` for ``grid`` (arrays memory-mapped, as plain
        ``numpy.ndarray`` views of their ``numpy.memmap``, as :meth:`Grid.load` does).

        Raises
        ------
        GraphFileError
            Missing files, or the graph was built from a different grid or grid state.
        """
        path = Path(path)
        try:
            meta = json.loads((path / "graph.json").read_text(encoding="utf-8"))
            arrays = {
                k: np.load(path / f"{k}.npy", mmap_mode="r").view(np.ndarray) for k in _ARRAYS
            }
        except (OSError, ValueError) as exc:
            raise GraphFileError(f"no routing graph at {path}: {exc}") from None
        if meta.get("fingerprint") != grid_fingerprint(grid):
            raise GraphFileError(
                f"routing graph at {path} was built from another grid (or another status)"
            )
        try:
            return cls(
                grid,
                CostWeights(**meta["weights"]),
                h_rate=float(meta["h_rate"]),
                v_rate=float(meta["v_rate"]),
                zone_res=int(meta["zone_res"]),
                build_seconds=float(meta["build_seconds"]),
                **arrays,
            )
        except (KeyError, TypeError) as exc:
            raise GraphFileError(
                f"routing graph at {path} is from another airgrid version: {exc}"
            ) from None

    def to_scipy(self):
        """The graph as a ``scipy.sparse.csr_array`` (for baselines and tests)."""
        from scipy.sparse import csr_array

        n = self.n_nodes
        return csr_array((self.weights.astype(np.float64), self.indices, self.indptr), shape=(n, n))

    def to_networkx(self, nodes: np.ndarray | None = None):
        """The graph as a ``networkx.DiGraph`` with ``weight`` attributes (tests, baselines).

        Parameters
        ----------
        nodes
            Restrict to edges between these nodes (default: all).
        """
        import networkx as nx

        deg = np.diff(self.indptr)
        src = np.repeat(np.arange(self.n_nodes, dtype=np.int64), deg)
        dst = self.indices.astype(np.int64)
        w = self.weights.astype(np.float64)
        if nodes is not None:
            keep = np.zeros(self.n_nodes, bool)
            keep[nodes] = True
            m = keep[src] & keep[dst]
            src, dst, w = src[m], dst[m], w[m]
        gx = nx.DiGraph()
        gx.add_weighted_edges_from(zip(src.tolist(), dst.tolist(), w.tolist()))
        return gx


_ARRAYS = (
    "indptr",
    "indices",
    "weights",
    "cell_xyz",
    "nxyz",
    "dirs",
    "rates",
    "nbr",
    "zone",
    "zone_indptr",
    "zone_indices",
    "zone_weights",
    "zone_xy",
    "landmarks",
    "lm",
)


def grid_fingerprint(grid: Grid) -> str:
    """CRC32s of a grid's cell ids, layers per cell and voxel status, as one string."""
    parts = (grid.cell_id, grid.cell_first_layer, grid.cell_nlayers, grid.status)
    return (
        "-".join(f"{zlib.crc32(np.ascontiguousarray(a).view(np.uint8).data):08x}" for a in parts)
        + f"-{grid.n_voxels}"
    )


def _cell_table(grid: Grid, nbr: np.ndarray, cell_xyz: np.ndarray) -> CellTable:
    """The grid's cells as the edge kernels read them (children listed per parent)."""
    parent = np.asarray(grid.cell_parent, np.int32)
    has_p = np.flatnonzero(parent >= 0)
    order = has_p[np.argsort(parent[has_p], kind="stable")]
    child_ptr = np.zeros(grid.n_cells + 1, np.int64)
    np.add.at(child_ptr, parent[has_p].astype(np.int64) + 1, 1)
    np.cumsum(child_ptr, out=child_ptr)
    return CellTable(
        nbr,
        np.asarray(grid.cell_first_layer, np.int32),
        np.asarray(grid.cell_nlayers, np.int32),
        np.asarray(grid.cell_start, np.int64),
        parent,
        child_ptr,
        order.astype(np.int32),
        np.asarray(grid.cell_tier, np.int8),
        cell_xyz,
    )


def _edges(
    grid: Grid, weights: CostWeights, cells: CellTable, usable: np.ndarray, zc: np.ndarray
) -> Csr:
    """The CSR edges of a grid's usable voxels.

    Two parallel Numba passes over cells: out-degree per voxel, then targets and
    weights written at the prefix-sum offsets.
    """
    corridor = (np.asarray(grid.status) & np.uint8(Status.CORRIDOR)) != 0
    vfac = voxel_factors(np.asarray(grid.floor), np.asarray(grid.g_hi), corridor, weights)
    vox = VoxelTable(usable, zc, vfac)
    costs = EdgeCosts(
        weights.tier_factors([t.name for t in grid.tiers]),
        float(weights.climb),
        float(weights.descent),
        float(weights.transition),
    )
    degree = np.zeros(grid.n_voxels, np.int64)
    count_edges(cells, vox, costs, degree)
    indptr = np.zeros(grid.n_voxels + 1, np.int64)
    np.cumsum(degree, out=indptr[1:])
    del degree
    out = Csr(indptr, np.empty(int(indptr[-1]), np.int32), np.empty(int(indptr[-1]), np.float32))
    fill_edges(cells, vox, costs, out)
    return out


def _neighbour_table(grid: Grid) -> np.ndarray:
    """Cell-table rows of every cell's 6 H3 neighbours in its tier (-1: absent), int32."""
    nbr = np.full((grid.n_cells, 6), -1, np.int32)
    for t in range(len(grid.tiers)):
        nbr[grid.tier_slice(t)] = cell_neighbours(grid, t)
    return nbr


def _heuristic_rates(
    csr: Csr, nxyz: np.ndarray, dirs: np.ndarray, v_rate: float
) -> tuple[float, np.ndarray]:
    """Isotropic and directional planar cost rates of the edges, shrunk by a rounding margin."""
    h_rate, rates = planar_rates(csr, nxyz, dirs, v_rate, 64)
    margin = 1 - 1e-7  # float rounding of the heuristic's own arithmetic
    return (float(h_rate) * margin if np.isfinite(h_rate) else 0.0), rates * margin


def build_graph(
    grid: Grid, weights: CostWeights | None = None, *, landmarks: int = 0
) -> RouteGraph:
    """Build the routing graph of a grid.

    Parameters
    ----------
    grid
        The grid; voxels with a blocking status bit get no edges.
    weights
        Cost weights (default :class:`~airgrid.routing.costs.CostWeights`).
    landmarks
        ALT landmarks to precompute (:meth:`RouteGraph.add_landmarks`); 0: none. Worth
        it for graphs that answer many long queries (province-wide): 8 landmarks cut
        the expansions of long routes several-fold for ``2 * 8`` full Dijkstra runs.

    Returns
    -------
    RouteGraph

    Notes
    -----
    Two parallel Numba passes over cells: out-degree per voxel, then targets and
    weights written at the prefix-sum offsets. Nothing loops in Python per edge.
    """
    weights = weights or CostWeights()
    t0 = time.perf_counter()
    nbr = _neighbour_table(grid)
    cell_xyz = cell_unit_vectors(np.asarray(grid.cell_id))
    usable = grid.usable()
    zc = (np.asarray(grid.floor, np.float32) + np.asarray(grid.ceiling, np.float32)) * np.float32(
        0.5
    )
    csr = _edges(grid, weights, _cell_table(grid, nbr, cell_xyz), usable, zc)
    xy, dirs = plane_frame(cell_xyz, nbr, grid.tier_slice(0))
    vc = np.asarray(grid.voxel_cell)
    nxyz = np.empty((grid.n_voxels, 3), np.float32)
    nxyz[:, :2] = xy[vc]
    nxyz[:, 2] = zc
    v_rate = vertical_rate(weights)
    h_rate, rates = _heuristic_rates(csr, nxyz, dirs, v_rate)
    zone_res, cell_zone, zones = zone_table(grid)
    zone = cell_zone[vc]
    zptr, zidx, zw, zxy = zone_graph(*csr, zone, nxyz, len(zones))
    dt = time.perf_counter() - t0
    log.info(
        "routing graph: %d nodes, %d edges, %.1f MB in %.2f s",
        grid.n_voxels,
        len(csr.indices),
        sum(a.nbytes for a in csr) / 1e6,
        dt,
    )
    graph = RouteGraph(
        grid,
        weights,
        *csr,
        cell_xyz,
        nxyz,
        dirs,
        rates,
        nbr,
        h_rate,
        v_rate,
        zone,
        zone_res,
        zptr,
        zidx,
        zw,
        zxy,
        dt,
        usable,
    )
    if landmarks:
        graph.add_landmarks(landmarks)
        graph.build_seconds = time.perf_counter() - t0
    return graph
