"""Pieces of the routing graph under a blocked mask: the weakly connected components, and
a route between two pieces answered as the search answers it, without searching."""

from __future__ import annotations

import h3
import numpy as np
import pytest
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components

from airgrid.routing import RouteStatus, plan_route
from airgrid.routing.search.reach import pieces


def _scipy_weak(graph, blocked: np.ndarray) -> np.ndarray:
    n = graph.n_nodes
    rows = np.repeat(np.arange(n), np.diff(graph.indptr))
    keep = ~(blocked[rows] | blocked[graph.indices])
    adj = csr_array((np.ones(int(keep.sum())), (rows[keep], graph.indices[keep])), shape=(n, n))
    return connected_components(adj, directed=True, connection="weak")[1]


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    pairs = np.unique(np.stack([a, b]), axis=1)
    return len(np.unique(a)) == len(np.unique(b)) == pairs.shape[1]


def _walled(graph):
    """A mask that walls off the last usable voxel's column (every voxel of the cells
    around it, above and below), that voxel left open; and the first and last usable voxels."""
    g = graph.grid
    usable = np.flatnonzero(graph.usable)
    a, b = int(usable[0]), int(usable[-1])
    cb = int(g.voxel_cell[b])
    ring = g.find_cells(
        np.array(list(map(h3.str_to_int, h3.grid_ring(h3.int_to_str(int(g.cell_id[cb])), 1)))),
        int(g.cell_tier[cb]),
    )
    mask = np.zeros(g.n_voxels, bool)
    cells = [*ring[ring >= 0].tolist(), cb]
    if g.cell_parent[cb] >= 0:
        cells.append(int(g.cell_parent[cb]))
    if g.cell_tier[cb] == 1:
        cells += np.flatnonzero(g.cell_parent == cb).tolist()
    for c in cells:
        mask[g.cell_start[c] : g.cell_start[c + 1]] = True
    mask[b] = False
    return mask, a, b


@pytest.mark.parametrize("share", [0.0, 0.05, 0.3])
def test_pieces_are_the_weak_components_without_the_blocked_nodes(gen_graph, share):
    rng = np.random.default_rng(7)
    blocked = rng.random(gen_graph.n_nodes) < share
    got = pieces(gen_graph, blocked.view(np.uint8) if share else np.empty(0, np.uint8))
    assert got.dtype == np.int32 and len(got) == gen_graph.n_nodes
    assert _same_partition(got, _scipy_weak(gen_graph, blocked))
    assert np.all(got <= np.arange(gen_graph.n_nodes))  # labelled by the lowest node
    assert np.all(got[blocked] == np.flatnonzero(blocked))  # a blocked node alone


def test_ends_in_different_pieces_get_the_searchs_answer_without_a_search(gen_graph):
    mask, a, b = _walled(gen_graph)
    labels = pieces(gen_graph, mask.view(np.uint8))
    assert labels[a] != labels[b]
    searched = plan_route(gen_graph, a, b, blocked_mask=mask)
    answered = plan_route(gen_graph, a, b, blocked_mask=mask, pieces=labels)
    assert searched.status is answered.status is RouteStatus.NO_ROUTE
    assert answered.message == searched.message and searched.expansions > 0
    assert answered.expansions == 0 and len(answered.voxels) == 0


def test_ends_in_one_piece_are_searched_as_without_pieces(gen_graph):
    mask, a, _ = _walled(gen_graph)
    labels = pieces(gen_graph, mask.view(np.uint8))
    usable = np.flatnonzero(gen_graph.usable & ~mask)
    for b in usable[labels[usable] == labels[a]][:: max(1, len(usable) // 7)].tolist():
        plain = plan_route(gen_graph, a, b, blocked_mask=mask)
        with_pieces = plan_route(gen_graph, a, b, blocked_mask=mask, pieces=labels)
        assert with_pieces.status is plain.status is RouteStatus.FOUND
        assert np.array_equal(with_pieces.voxels, plain.voxels)
        assert with_pieces.cost == plain.cost
