"""The routing graph: a CSR over the grid's voxels.

Nodes are the grid's dense voxel indices (node ``v`` is voxel ``v``), so no remapping
is needed between grid, masks and search. Edges join usable voxels only:

* **horizontal**: to the voxel on the same absolute layer in each of the 6 H3
  neighbour cells of the same tier;
* **vertical**: to the voxels above and below in the same cell column;
* **tier transitions**: a fine cell's top voxel <-> the bottom voxel of its H3 parent
  cell in the next tier up (``Grid.cell_parent``), both ways.

Storage: ``indptr`` int64[n+1], ``indices`` int32[E], ``weights`` float32[E], plus
per-cell unit vectors and lattice projections (float64), the per-cell neighbour table
(int32[n_cells, 6]) and per-voxel centre altitude (float32). Measured for Hunan at T2
(2.15 M cells, 17.3 M voxels, 128.7 M edges): 1.30 GiB of graph arrays, built in about
8 s on 2 cores, process RSS 2.7 GiB together with the grid (``benchmarks/routing.py``).
A full CSR fits, so no implicit neighbour table is needed.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import h3
import numpy as np
from h3.api import basic_int as h3i

from airgrid.airspace import Grid, Status
from airgrid.routing import kernels
from airgrid.routing.costs import EARTH_R, CostWeights, vertical_rate, voxel_factors
from airgrid.routing.errors import GraphFileError

log = logging.getLogger(__name__)

#: H3 local IJ offsets of the 6 neighbours (IJK axes at 120 degrees, k = -(i + j)).
_IJ_NEIGHBOURS = np.array([(1, 0), (0, 1), (1, 1), (-1, 0), (0, -1), (-1, -1)], np.int64)


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
    proj
        Per cell, projection (m) of its centre on the 3 face normals of the finest
        tier's hex lattice, float64[n_cells, 3].
    dir_rate
        Cost lower bound per metre of progress along (row 0) / against (row 1) each
        of those directions, float64[2, 3].
    zc
        Altitude of every voxel centre, m AMSL (float32).
    nbr
        Cell-table rows of every cell's 6 H3 neighbours in its tier (-1: absent), int32.
    h_rate, v_rate
        Cost lower bounds per horizontal (chord) / vertical metre.
    build_seconds
        Wall time of the build.
    """

    grid: Grid
    weights_model: CostWeights
    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    cell_xyz: np.ndarray
    proj: np.ndarray
    dir_rate: np.ndarray
    zc: np.ndarray
    nbr: np.ndarray
    h_rate: float
    v_rate: float
    build_seconds: float = 0.0
    _usable: np.ndarray | None = field(default=None, repr=False)
    _geo: np.ndarray | None = field(default=None, repr=False)
    #: Landmark nodes (int64[L]) and their distances float64[n, 2L] (see :meth:`add_landmarks`).
    landmarks: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64), repr=False)
    lm: np.ndarray = field(default_factory=lambda: np.empty((0, 0)), repr=False)
    #: The graph's reusable search state (``airgrid.routing.search.router_for``).
    router: object | None = field(default=None, repr=False)

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
        return sum(a.nbytes for a in (self.indptr, self.indices, self.weights, self.cell_xyz, self.proj, self.zc,
                                         self.nbr))

    @property
    def geo(self) -> np.ndarray:
        """``cell_xyz`` and ``proj`` side by side, float64[n_cells, 6] (one cache line per cell for A*)."""
        if self._geo is None:
            self._geo = np.ascontiguousarray(np.hstack([self.cell_xyz, self.proj]))
        return self._geo

    @property
    def usable(self) -> np.ndarray:
        """Voxels the graph was built over (grid status had no blocking bit)."""
        if self._usable is None:
            self._usable = self.grid.usable()
        return self._usable

    def add_landmarks(self, k: int) -> None:
        """Precompute ALT landmark distances (Goldberg & Harrelson 2005) for ``k`` landmarks.

        Landmarks are usable nodes at the rim of the grid, the farthest along ``k``
        evenly spread compass directions from its centre; for each, exact costs from it
        to every node and from every node to it (Dijkstra on the graph and on its
        reverse). Costs ``16 k`` bytes per node and ``2 k`` full Dijkstra
        runs; A* then takes the ALT bounds into its heuristic (see
        :func:`airgrid.routing.kernels.astar`).
        """
        if k <= 0:
            self.landmarks, self.lm = np.empty(0, np.int64), np.empty((0, 0))
            return
        usable = np.flatnonzero(self.usable & (np.diff(self.indptr) > 0))
        cells = self.grid.voxel_cell[usable]
        xyz = self.cell_xyz[cells]
        centre = self.cell_xyz.mean(axis=0)
        centre /= np.linalg.norm(centre)
        east = np.cross([0.0, 0.0, 1.0], centre)
        east /= np.linalg.norm(east)
        north = np.cross(centre, east)
        ang = 2 * np.pi * np.arange(k) / k
        dirs = np.cos(ang)[:, None] * east[None, :] + np.sin(ang)[:, None] * north[None, :]
        self.landmarks = np.unique(usable[np.argmax(xyz @ dirs.T, axis=0)]).astype(np.int64)
        n, L = self.n_nodes, len(self.landmarks)
        rev = kernels.transpose(self.indptr, self.indices, self.weights)
        lm = np.empty((n, 2 * L))
        for i, lmk in enumerate(self.landmarks.tolist()):
            for col, (ptr, idx, w) in ((i, (self.indptr, self.indices, self.weights)), (L + i, rev)):
                lm[:, col] = _sssp(ptr, idx, w, lmk)
        self.lm = lm

    def save(self, path: str | Path) -> Path:
        """Write the graph's arrays (``.npy``) and ``graph.json`` to a folder.

        The folder also records a fingerprint of the grid (cell ids, layers, status) so
        :meth:`load` refuses a graph built from another grid or another grid state.
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for k in _ARRAYS:
            np.save(path / f"{k}.npy", np.ascontiguousarray(getattr(self, k)))
        meta = {"fingerprint": grid_fingerprint(self.grid), "h_rate": self.h_rate, "v_rate": self.v_rate,
                "weights": self.weights_model.to_dict(), "build_seconds": self.build_seconds}
        (path / "graph.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path, grid: Grid) -> RouteGraph:
        """Load a graph saved by :meth:`save` for ``grid`` (arrays memory-mapped).

        Raises
        ------
        GraphFileError
            Missing files, or the graph was built from a different grid or grid state.
        """
        path = Path(path)
        try:
            meta = json.loads((path / "graph.json").read_text(encoding="utf-8"))
            arrays = {k: np.load(path / f"{k}.npy", mmap_mode="r") for k in _ARRAYS}
        except (OSError, ValueError) as exc:
            raise GraphFileError(f"no routing graph at {path}: {exc}") from None
        if meta.get("fingerprint") != grid_fingerprint(grid):
            raise GraphFileError(f"routing graph at {path} was built from another grid (or another status)")
        return cls(grid, CostWeights(**meta["weights"]), h_rate=float(meta["h_rate"]),
                   v_rate=float(meta["v_rate"]), build_seconds=float(meta["build_seconds"]), **arrays)

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


_ARRAYS = ("indptr", "indices", "weights", "cell_xyz", "proj", "dir_rate", "zc", "nbr", "landmarks", "lm")


def _sssp(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, src: int) -> np.ndarray:
    """Exact costs from ``src`` to every node (inf where unreachable)."""
    cap = 1 << 20
    while True:
        dist = np.full(len(indptr) - 1, np.inf)
        st = kernels.dijkstra_all(indptr, indices, weights, src, dist, np.empty(cap, np.int32),
                                  np.empty(cap), np.empty(cap))
        if st == kernels.FOUND:
            return dist
        cap *= 2


def grid_fingerprint(grid: Grid) -> str:
    """CRC32s of a grid's cell ids, layers per cell and voxel status, as one string."""
    parts = (grid.cell_id, grid.cell_first_layer, grid.cell_nlayers, grid.status)
    return "-".join(f"{zlib.crc32(np.ascontiguousarray(a).view(np.uint8)):08x}" for a in parts) + \
        f"-{grid.n_voxels}"


def cell_unit_vectors(cell_ids: np.ndarray) -> np.ndarray:
    """Unit vectors (float64[n, 3]) of H3 cell centres."""
    ll = np.array([h3i.cell_to_latlng(int(c)) for c in cell_ids.tolist()], np.float64).reshape(-1, 2)
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
            out[r, :len(found)] = found

    rng = np.random.default_rng(0)
    sample = rng.choice(np.flatnonzero(ok), size=min(64, int(ok.sum())), replace=False) if ok.any() else []
    for r in np.asarray(sample, np.int64).tolist():
        want = set(grid.find_cells(np.fromiter(h3i.grid_ring(int(ids[r]), 1), np.int64), t).tolist()) - {-1}
        if want != set(out[r].tolist()) - {-1}:
            log.warning("H3 local IJ neighbours disagree with grid_ring in tier %d; using grid_ring", t)
            ring(np.arange(n))
            return out
    ring(np.flatnonzero((out < 0).any(axis=1)))
    return out


def build_graph(grid: Grid, weights: CostWeights | None = None, *, landmarks: int = 0) -> RouteGraph:
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
    nbr = np.full((grid.n_cells, 6), -1, np.int32)
    for t in range(len(grid.tiers)):
        sl = grid.tier_slice(t)
        nbr[sl] = cell_neighbours(grid, t)
    parent = np.asarray(grid.cell_parent, np.int32)
    has_p = np.flatnonzero(parent >= 0)
    order = has_p[np.argsort(parent[has_p], kind="stable")]
    child_idx = order.astype(np.int32)
    child_ptr = np.zeros(grid.n_cells + 1, np.int64)
    np.add.at(child_ptr, parent[has_p].astype(np.int64) + 1, 1)
    np.cumsum(child_ptr, out=child_ptr)
    cell_xyz = cell_unit_vectors(np.asarray(grid.cell_id))
    usable = grid.usable()
    zc = (np.asarray(grid.floor, np.float32) + np.asarray(grid.ceiling, np.float32)) * np.float32(0.5)
    corridor = (np.asarray(grid.status) & np.uint8(Status.CORRIDOR)) != 0
    vfac = voxel_factors(np.asarray(grid.floor), np.asarray(grid.ground), corridor, weights)
    tier_w = weights.tier_factors([t.name for t in grid.tiers])
    first = np.asarray(grid.cell_first_layer, np.int32)
    nl = np.asarray(grid.cell_nlayers, np.int32)
    start = np.asarray(grid.cell_start, np.int64)
    ctier = np.asarray(grid.cell_tier, np.int8)
    args = (nbr, first, nl, start, parent, child_ptr, child_idx, ctier, usable, cell_xyz, zc, vfac, tier_w,
            float(weights.climb), float(weights.descent), float(weights.transition))
    degree = np.zeros(grid.n_voxels, np.int64)
    kernels.count_edges(*args, degree)
    indptr = np.zeros(grid.n_voxels + 1, np.int64)
    np.cumsum(degree, out=indptr[1:])
    del degree
    indices = np.empty(int(indptr[-1]), np.int32)
    wts = np.empty(int(indptr[-1]), np.float32)
    kernels.fill_edges(*args, indptr, indices, wts)
    proj = lattice_projections(cell_xyz, nbr, grid.tier_slice(0))
    v_rate = vertical_rate(weights)
    h_rate, dir_rate = kernels.direction_rates(indptr, indices, wts, np.asarray(grid.voxel_cell), cell_xyz, proj,
                                               zc, v_rate, 64)
    margin = 1 - 1e-7  # float rounding of the heuristic's own arithmetic
    h_rate = float(h_rate) * margin if np.isfinite(h_rate) else 0.0
    dir_rate *= margin
    dt = time.perf_counter() - t0
    log.info("routing graph: %d nodes, %d edges, %.1f MB in %.2f s", grid.n_voxels, len(indices),
             (indptr.nbytes + indices.nbytes + wts.nbytes) / 1e6, dt)
    graph = RouteGraph(grid, weights, indptr, indices, wts, cell_xyz, proj, dir_rate, zc, nbr, h_rate, v_rate,
                       dt, usable)
    if landmarks:
        graph.add_landmarks(landmarks)
        graph.build_seconds = time.perf_counter() - t0
    return graph


def lattice_projections(cell_xyz: np.ndarray, nbr: np.ndarray, rows: slice) -> np.ndarray:
    """Projections (m) of every cell centre on the 3 face normals of a hex lattice.

    The lattice orientation is the circular mean (mod 60 degrees) of the bearings of
    neighbour links among the cells ``rows``, measured in the tangent plane at the
    grid's centre; the face normals lie 30 degrees off the links. Any orientation
    keeps the heuristic admissible (its rates come from the edges, see
    :func:`airgrid.routing.kernels.direction_rates`); a good one makes it tight.
    """
    centre = cell_xyz.mean(axis=0)
    centre /= max(np.linalg.norm(centre), 1e-12)
    east = np.cross([0.0, 0.0, 1.0], centre)
    east /= max(np.linalg.norm(east), 1e-12)
    north = np.cross(centre, east)
    cells = np.arange(rows.start, rows.stop)[: 20_000]
    a = np.repeat(cells, 6)
    b = nbr[cells].ravel().astype(np.int64)
    ok = b >= 0
    d = cell_xyz[b[ok]] - cell_xyz[a[ok]]
    theta = np.arctan2(d @ north, d @ east)
    phi0 = float(np.angle(np.exp(6j * theta).mean()) / 6) if len(theta) else 0.0
    ang = phi0 + np.radians(30.0) + np.radians(60.0) * np.arange(3)
    w = np.cos(ang)[:, None] * east[None, :] + np.sin(ang)[:, None] * north[None, :]
    return np.ascontiguousarray(EARTH_R * (cell_xyz @ w.T))


__all__ = ["RouteGraph", "build_graph", "cell_neighbours", "cell_unit_vectors", "grid_fingerprint"]
