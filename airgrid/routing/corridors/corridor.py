"""Corridors: a centreline between two logistics nodes in one tier, a width, two directional lanes.

A corridor is built in four steps:

1. **Access.** Each node joins the tier at an *access cell* (:func:`~airgrid.routing.corridors.access.node_access`): the
   tier cell under the node if its column holds a usable voxel, else the nearest cell
   that does (rings of H3 cells around the node, up to ``max_access_rings``; a node
   inside an airport protection zone thus joins at the zone's edge). When the tier's
   connected pieces are known, a usable cell up to ``join_rings`` rings further out
   that lies in a larger piece is preferred (:func:`~airgrid.routing.corridors.tiers.tier_components`).
2. **Centreline.** A* between the lowest usable voxels of the two access cells, with
   every voxel outside the tier blocked (:func:`airgrid.routing.search.constraints.constraint_mask`);
   the centreline is the sequence of H3 cells of that voxel path (repeated cells and
   loops removed).
3. **Footprint.** Every tier cell within ``width`` H3 rings of a centreline cell
   (``grid_disk``).
4. **Band and lanes.** See *the lane rule* below.

The lane rule
-------------
* **Orientation (semicircular rule).** Every corridor is stored so that the initial
  great-circle bearing from its node ``a`` to its node ``b`` lies in ``[0°, 180°)``
  (``a`` is the "western" end); :func:`make_corridor` swaps the nodes otherwise. This
  mirrors the semicircular cruising-level rule of CCAR-91 / ICAO Annex 2: one set of
  levels for tracks 0-179°, another for 180-359°, so the meaning of a lane is the
  same in every corridor of a network.
* **Band.** In each footprint cell the corridor occupies ``band_layers`` consecutive
  layers of the tier's column, starting at *relative* layer ``band * band_layers``
  (relative layer 0 is the lowest layer of the tier over that cell, so a band follows
  the terrain the way the tier does). Where a column is too short the band is shifted
  down to the column's top ``band_layers`` layers (counted in
  :attr:`Corridor.compressed_cells`).
* **Lanes.** The **lower half** of the band (relative layers ``band * band_layers`` to
  ``band * band_layers + band_layers / 2 - 1``) is **lane A**, which carries traffic
  from ``a`` to ``b`` (the eastbound sense); the **upper half** is **lane B**, traffic
  from ``b`` to ``a`` (westbound). A voxel has one relative layer, so opposite
  directions of a corridor never share a voxel. ``band_layers`` must be even so both
  lanes get the same number of layers; the default 4 gives each lane 2 layers, so a
  lane stays continuous where the column's first layer steps by one between
  neighbouring cells (the graph's horizontal edges join equal absolute layers, and
  one of the lane's two layers is always shared by both columns).
* **Grid marks.** Corridor voxels get :attr:`~airgrid.airspace.Status.CORRIDOR`; lane-B
  voxels also get :attr:`~airgrid.airspace.Status.LANE_B`. Blocked voxels (terrain,
  prohibited geofence) are never part of a corridor.

The router's corridor discount applies to graphs built *after* marking (the cost
factor is baked into the edge weights by :func:`airgrid.routing.graph.build_graph`);
it discounts both lanes alike, so a flight keeps to its own lane by blocking the other
one (:func:`opposing_lane_mask`, a ``blocked_mask`` for
:func:`~airgrid.routing.search.plan.plan_route`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import h3
import numpy as np
import shapely
from h3.api import basic_int as h3i
from shapely.geometry import shape
from shapely.geometry.polygon import orient

from airgrid.airspace.grid import BLOCKING, Grid, Status
from airgrid.routing.corridors.access import DEFAULT_ACCESS_RINGS, node_access
from airgrid.routing.corridors.bearings import bearing_deg, cell_latlng
from airgrid.routing.corridors.nodes import Node
from airgrid.routing.corridors.tiers import tier_index, tier_mask
from airgrid.routing.errors import CorridorError
from airgrid.routing.graph import RouteGraph
from airgrid.routing.kernels.status import BUDGET, FOUND
from airgrid.routing.search.route import DEFAULT_BUDGET
from airgrid.routing.search.router import graph_for, router_for
from airgrid.routing.search.smooth import string_pull


def loopless(cells: np.ndarray) -> np.ndarray:
    """A cell sequence without repeats: a cell seen again cuts the loop it closes."""
    out: list[int] = []
    pos: dict[int, int] = {}
    for c in np.asarray(cells, np.int64).tolist():
        if c in pos:
            k = pos[c]
            for d in out[k + 1 :]:
                del pos[d]
            del out[k + 1 :]
            continue
        pos[c] = len(out)
        out.append(c)
    return np.array(out, np.int64)


def centreline_cells(grid: Grid, voxel_path: np.ndarray) -> np.ndarray:
    """Cell-table indices of a voxel path's cells, in order, without repeats or loops."""
    return loopless(np.asarray(grid.voxel_cell, np.int64)[np.asarray(voxel_path, np.int64)])


@dataclass
class Corridor:
    """A corridor between two nodes (see the module docstring for the lane rule).

    Attributes
    ----------
    id
        Identifier (``"<a.id>~<b.id>"``).
    a, b
        End nodes; the bearing from ``a`` to ``b`` lies in [0, 180).
    tier
        Tier index; ``tier_name`` its name.
    width
        Footprint half-width in H3 rings.
    band, band_layers
        Layer band index and its thickness in layers.
    centreline
        Cell-table indices from ``a``'s access cell to ``b``'s.
    cells
        Footprint cell-table indices (sorted): tier cells within ``width`` rings.
    occupied
        Per footprint cell, whether it holds a corridor voxel (blocked columns do not).
    heading
        Per footprint cell, the bearing (degrees) of lane-A traffic there: the
        centreline's direction at the nearest centreline cell.
    lane_a, lane_b
        Sorted voxel indices of lane A (a -> b, lower half of the band) and lane B
        (b -> a, upper half).
    cost
        A* cost of the centreline route (equivalent metres).
    compressed_cells
        Footprint cells whose column was too short for the band (band shifted down).
    """

    id: str
    a: Node
    b: Node
    tier: int
    tier_name: str
    width: int
    band: int
    band_layers: int
    centreline: np.ndarray
    cells: np.ndarray
    occupied: np.ndarray
    heading: np.ndarray
    lane_a: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    lane_b: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    cost: float = math.nan
    compressed_cells: int = 0

    @property
    def voxels(self) -> np.ndarray:
        """All corridor voxels, sorted."""
        return np.union1d(self.lane_a, self.lane_b)

    def lane_from(self, node_id: str) -> np.ndarray:
        """The lane carrying traffic that leaves ``node_id`` along this corridor.

        Raises
        ------
        CorridorError
            The node is not an end of this corridor.
        """
        if node_id == self.a.id:
            return self.lane_a
        if node_id == self.b.id:
            return self.lane_b
        raise CorridorError(f"node {node_id!r} is not an end of corridor {self.id}")


def _footprint(
    grid: Grid, t: int, centreline: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray]:
    """Footprint cells and, per cell, the index of its nearest centreline cell (ring order)."""
    ids = np.asarray(grid.cell_id, np.int64)[centreline]
    near: dict[int, int] = {int(h): i for i, h in enumerate(ids.tolist())}
    for k in range(1, width + 1):
        for i, h in enumerate(ids.tolist()):
            for n in h3i.grid_ring(int(h), k):
                near.setdefault(n, i)
    keys = np.fromiter(near.keys(), np.int64, len(near))
    which = np.fromiter(near.values(), np.int64, len(near))
    ci = grid.find_cells(keys, t)
    ok = ci >= 0
    order = np.argsort(ci[ok])
    return ci[ok][order], which[ok][order]


def _headings(grid: Grid, centreline: np.ndarray, step: int = 2) -> np.ndarray:
    """Bearing of the centreline at each of its cells (from ``step`` cells back to ``step`` ahead)."""
    ll = np.array(
        [cell_latlng(int(c)) for c in np.asarray(grid.cell_id)[centreline].tolist()]
    ).reshape(-1, 2)
    n = len(ll)
    out = np.zeros(n)
    for i in range(n):
        p, q = ll[max(i - step, 0)], ll[min(i + step, n - 1)]
        out[i] = bearing_deg(p[0], p[1], q[0], q[1]) if n > 1 else 0.0
    return out


def band_voxels(
    grid: Grid, cells: np.ndarray, band: int, band_layers: int
) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """Usable voxels of a layer band over cells, split by lane.

    Returns
    -------
    lane_a, lane_b : int64 arrays (sorted)
        Voxels in the lower / upper half of the band.
    compressed : int
        Cells whose column is shorter than the band's top (band shifted down).
    occupied : bool array
        Per cell, whether it holds at least one of the voxels.
    """
    n = np.asarray(grid.cell_nlayers, np.int64)[cells]
    lo = np.full(len(cells), band * band_layers, np.int64)
    short = lo + band_layers > n
    lo = np.where(short, np.maximum(n - band_layers, 0), lo)
    cnt = np.minimum(n - lo, band_layers)
    cnt = np.maximum(cnt, 0)
    start = np.asarray(grid.cell_start, np.int64)[cells] + lo
    within = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    vox = np.repeat(start, cnt) + within
    owner = np.repeat(np.arange(len(cells)), cnt)
    ok = (np.asarray(grid.status)[vox] & np.uint8(BLOCKING)) == 0
    occupied = np.zeros(len(cells), bool)
    occupied[owner[ok]] = True
    lower = within < band_layers // 2
    return np.sort(vox[ok & lower]), np.sort(vox[ok & ~lower]), int(short.sum()), occupied


def make_corridor(
    grid: Grid,
    a: Node,
    b: Node,
    centreline: np.ndarray,
    *,
    tier: int,
    width: int = 1,
    band: int = 0,
    band_layers: int = 4,
    cost: float = math.nan,
) -> Corridor:
    """A corridor over a given centreline (cells from ``a``'s access to ``b``'s).

    The nodes are swapped (and the centreline reversed) when the bearing from ``a`` to
    ``b`` is not in [0, 180), see the lane rule.

    Raises
    ------
    CorridorError
        Bad width, band or band thickness, or an empty centreline.
    """
    check_band(width, band, band_layers)
    cl = np.asarray(centreline, np.int64)
    if len(cl) == 0:
        raise CorridorError("a corridor needs at least one centreline cell")
    if bearing_deg(a.lat, a.lon, b.lat, b.lon) >= 180.0:
        a, b, cl = b, a, cl[::-1].copy()
    cells, near = _footprint(grid, tier, cl, width)
    heading = _headings(grid, cl)[near]
    lane_a, lane_b, short, occupied = band_voxels(grid, cells, band, band_layers)
    return Corridor(
        f"{a.id}~{b.id}",
        a,
        b,
        tier,
        grid.tiers[tier].name,
        width,
        band,
        band_layers,
        cl,
        cells,
        occupied,
        heading,
        lane_a,
        lane_b,
        float(cost),
        short,
    )


def check_band(width: int, band: int, band_layers: int) -> None:
    """Validate corridor width and band parameters.

    Raises
    ------
    CorridorError
        ``width`` < 0, ``band`` < 0, or ``band_layers`` not a positive even number.
    """
    if not (isinstance(width, (int, np.integer)) and 0 <= width <= 10):
        raise CorridorError(f"width must be an integer number of H3 rings in 0..10, got {width!r}")
    if not (isinstance(band, (int, np.integer)) and band >= 0):
        raise CorridorError(f"band must be an integer >= 0, got {band!r}")
    if not (
        isinstance(band_layers, (int, np.integer)) and band_layers >= 2 and band_layers % 2 == 0
    ):
        raise CorridorError(f"band_layers must be an even integer >= 2, got {band_layers!r}")


def rebuild_lanes(grid: Grid, corridor: Corridor, band: int) -> Corridor:
    """The same corridor moved to another layer band."""
    lane_a, lane_b, short, occupied = band_voxels(grid, corridor.cells, band, corridor.band_layers)
    corridor.band, corridor.lane_a, corridor.lane_b, corridor.compressed_cells = (
        band,
        lane_a,
        lane_b,
        short,
    )
    corridor.occupied = occupied
    return corridor


def build_corridor(
    graph: RouteGraph | Grid,
    a: Node,
    b: Node,
    *,
    tier: str | int = "T2",
    width: int = 1,
    band: int = 0,
    band_layers: int = 4,
    budget: int = DEFAULT_BUDGET,
    max_access_rings: int = DEFAULT_ACCESS_RINGS,
) -> Corridor:
    """Plan one corridor between two nodes in one tier.

    Parameters
    ----------
    graph
        Routing graph, or a grid (its cached default graph is used).
    a, b
        End nodes (stored swapped if the bearing from ``a`` to ``b`` is >= 180°).
    tier
        Tier name or index; the centreline search never leaves it.
    width
        Footprint half-width in H3 rings (0: the centreline cells only).
    band, band_layers
        Layer band (see the lane rule).
    budget
        A* expansion budget.
    max_access_rings
        Access cell search radius (rings).

    Returns
    -------
    Corridor

    Raises
    ------
    CorridorError
        Bad parameters, a node without access, the two nodes sharing one access
        cell, or no route between them inside the tier.
    """
    gr = graph_for(graph)
    grid = gr.grid
    t = tier_index(grid, tier)
    check_band(width, band, band_layers)
    acc_a = node_access(grid, t, a, max_rings=max_access_rings)
    acc_b = node_access(grid, t, b, max_rings=max_access_rings)
    if acc_a.cell == acc_b.cell:
        raise CorridorError(
            f"nodes {a.name} and {b.name} share one access cell; no corridor needed"
        )
    st, cost, _, path = router_for(gr).search(acc_a.voxel, acc_b.voxel, tier_mask(gr, t), budget)
    if st != FOUND:
        why = "budget exhausted" if st == BUDGET else "not connected"
        raise CorridorError(
            f"no corridor between {a.name} and {b.name} inside tier {grid.tiers[t].name} ({why})"
        )
    return make_corridor(
        grid,
        a,
        b,
        centreline_cells(grid, path),
        tier=t,
        width=width,
        band=band,
        band_layers=band_layers,
        cost=cost,
    )


def mark_corridors(grid: Grid, corridors: list[Corridor]) -> int:
    """Set CORRIDOR on every corridor voxel and LANE_B on lane-B voxels, in place.

    Returns
    -------
    int
        Number of distinct voxels marked.

    Raises
    ------
    CorridorError
        A corridor voxel is blocked (terrain or prohibited geofence), or one voxel
        would be in lane A of one corridor and lane B of another (bands shifted down
        in short columns can overlap); nothing is marked then.
    """
    if not corridors:
        return 0
    a = np.unique(np.concatenate([c.lane_a for c in corridors]))
    b = np.unique(np.concatenate([c.lane_b for c in corridors]))
    both = np.intersect1d(a, b)
    if len(both):
        raise CorridorError(
            f"{len(both)} voxels would be in lane A of one corridor and lane B of another"
        )
    st = np.asarray(grid.status)
    bad = np.concatenate(
        [a[(st[a] & np.uint8(BLOCKING)) != 0], b[(st[b] & np.uint8(BLOCKING)) != 0]]
    )
    if len(bad):
        raise CorridorError(
            f"{len(bad)} corridor voxels are blocked (terrain or prohibited geofence)"
        )
    grid.status[a] |= np.uint8(Status.CORRIDOR)
    grid.status[b] |= np.uint8(Status.CORRIDOR | Status.LANE_B)
    return len(a) + len(b)


def clear_corridors(grid: Grid) -> None:
    """Remove every CORRIDOR and LANE_B mark from the grid, in place."""
    grid.status &= np.uint8(0xFF ^ (Status.CORRIDOR | Status.LANE_B))


def cells_polygon(grid: Grid, cells: np.ndarray) -> shapely.Geometry:
    """Union of H3 cells as a shapely (Multi)Polygon in lon/lat, exteriors counter-clockwise (RFC 7946)."""
    ids = [
        h3.int_to_str(int(c))
        for c in np.asarray(grid.cell_id)[np.asarray(cells, np.int64)].tolist()
    ]
    geom = shape(h3.cells_to_geo(ids))
    if geom.geom_type == "Polygon":
        return orient(geom, 1.0)
    return shapely.MultiPolygon([orient(p, 1.0) for p in geom.geoms])


def centreline_points(grid: Grid, corridor: Corridor) -> np.ndarray:
    """The corridor's centreline as (lon, lat, alt m AMSL) vertices, string-pulled inside the footprint.

    Vertices are centreline cell centres; from each vertex the next is the farthest
    later centreline cell such that the straight lon/lat segment to it lies inside the
    union of the corridor's occupied cells (shapely ``covers``), so the polyline never
    leaves the corridor. The altitude of a vertex is the middle of the corridor's band
    over that cell.
    """
    cl = corridor.centreline
    ll = np.array(
        [cell_latlng(int(h)) for h in np.asarray(grid.cell_id, np.int64)[cl].tolist()]
    ).reshape(-1, 2)
    poly = cells_polygon(grid, corridor.cells[corridor.occupied]).buffer(1e-9)
    shapely.prepare(poly)

    def visible(i: int, j: int) -> bool:
        return bool(poly.covers(shapely.LineString([(ll[i, 1], ll[i, 0]), (ll[j, 1], ll[j, 0])])))

    idx = string_pull(len(cl), visible)
    cells = cl[idx]
    th = grid.tiers[corridor.tier].thickness_m
    nl = np.asarray(grid.cell_nlayers, np.int64)[cells]
    lo = np.minimum(corridor.band * corridor.band_layers, np.maximum(nl - corridor.band_layers, 0))
    hi = np.minimum(lo + corridor.band_layers, nl)
    first = np.asarray(grid.cell_first_layer, np.int64)[cells]
    alt = (first + (lo + hi) / 2.0) * th
    return np.column_stack([ll[idx, 1], ll[idx, 0], alt])


def opposing_lane_mask(
    grid: Grid, lat0: float, lon0: float, lat1: float, lon1: float
) -> np.ndarray:
    """Voxels a flight from point 0 to point 1 must not enter: the corridor lane of the other direction.

    By the lane rule, lane A (CORRIDOR without LANE_B) carries the eastbound sense of
    every corridor (bearing in [0, 180)) and lane B the westbound one, so a flight
    whose bearing from origin to destination is in [0, 180) is kept out of lane-B
    voxels, any other out of lane-A voxels. Pass the result as ``blocked_mask`` to
    :func:`~airgrid.routing.search.plan.plan_route`.

    Returns
    -------
    numpy.ndarray
        bool[n_voxels].
    """
    st = np.asarray(grid.status)
    corridor = (st & np.uint8(Status.CORRIDOR)) != 0
    lane_b = (st & np.uint8(Status.LANE_B)) != 0
    if bearing_deg(lat0, lon0, lat1, lon1) < 180.0:
        return corridor & lane_b
    return corridor & ~lane_b
