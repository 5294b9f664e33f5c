"""The blocked-voxel mask of route constraints: each constraint by its definition, and
every combination the union of its parts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from shapely.geometry import box

from airgrid.routing.errors import RouteConstraintError
from airgrid.routing.search.constraints import Constraints, constraint_mask

NO_GO = box(112.935, 28.135, 112.955, 28.155)


def _mask(graph, **kw) -> np.ndarray:
    return constraint_mask(graph, Constraints(**kw)).view(bool)


@pytest.mark.parametrize("tiers", [["T1"], ["T2"], ["T1", "T2"], ["T2", "T1"], ["T2", "T2"]])
def test_tier_mask_blocks_exactly_the_voxels_of_other_tiers(gen_graph, tiers):
    grid = gen_graph.grid
    names = [t.name for t in grid.tiers]
    allowed = [names.index(t) for t in tiers]
    assert np.array_equal(_mask(gen_graph, tiers=tiers), ~np.isin(grid.tier, allowed))


@pytest.mark.parametrize("tiers", [[], ["T9"], ["T1", "T9"]])
def test_unknown_or_no_tiers_are_refused(gen_graph, tiers):
    with pytest.raises(RouteConstraintError):
        constraint_mask(gen_graph, Constraints(tiers=tiers))


def test_every_combination_is_the_union_of_its_parts(gen_graph):
    grid = gen_graph.grid
    extra = np.zeros(grid.n_voxels, bool)
    extra[::7] = True
    given = extra.copy()
    parts = {
        "tiers": ["T1"],
        "min_height_m": 30.0,
        "max_height_m": 250.0,
        "no_go": (NO_GO,),
        "blocked_mask": extra,
    }
    alone = {k: _mask(gen_graph, **{k: v}) for k, v in parts.items()}
    assert all(m.any() and not m.all() for m in alone.values())
    for n in range(2, len(parts) + 1):
        for keys in itertools.combinations(parts, n):
            got = _mask(gen_graph, **{k: parts[k] for k in keys})
            want = np.logical_or.reduce([alone[k] for k in keys])
            assert np.array_equal(got, want), keys
            assert not np.shares_memory(got, extra), keys
    assert np.array_equal(extra, given)  # the caller's mask is never written


def test_a_lone_mask_is_used_as_it_is(gen_graph):
    n = gen_graph.grid.n_voxels
    extra = np.zeros(n, bool)
    extra[::5] = True
    extra.flags.writeable = False
    got = constraint_mask(gen_graph, Constraints(blocked_mask=extra))
    assert got.dtype == np.uint8 and np.shares_memory(got, extra)
    assert not got.flags.writeable
    strided = np.zeros(2 * n, bool)[::2]
    strided[::3] = True
    copied = constraint_mask(gen_graph, Constraints(blocked_mask=strided))
    assert copied.flags.c_contiguous and np.array_equal(copied.view(bool), strided)


def _hexagon(lon: float, lat: float, r_deg: float):
    from shapely.geometry import Polygon

    k = np.arange(6) * np.pi / 3
    return Polygon(np.column_stack([lon + r_deg * np.cos(k), lat + r_deg * np.sin(k)]))


def test_small_no_go_areas_are_remembered_and_answer_as_computed_afresh(gen_graph, monkeypatch):
    """A small no-go area's voxels are remembered per grid (least recently used out first,
    at most NO_GO_CACHE_AREAS of them); a remembered answer equals the cover computed
    afresh, and a large area is never kept."""
    from airgrid.routing.search import constraints

    cache = constraints._NoGoCache()
    monkeypatch.setattr(constraints, "_NO_GO", cache)
    monkeypatch.setattr(constraints, "NO_GO_CACHE_AREAS", 3)
    grid = gen_graph.grid
    # on the plain south of the hill, where every cell has usable voxels
    small = [_hexagon(112.949 + 0.006 * i, 28.125, 0.0015) for i in range(5)]
    large = box(112.945, 28.12, 112.98, 28.13)
    counts = [len(constraints._no_go_voxels(grid, a)) for a in small]
    monkeypatch.setattr(constraints, "NO_GO_CACHE_VOXELS", max(counts))
    assert len(constraints._no_go_voxels(grid, large)) > max(counts)
    for area in [*small, large]:
        fresh = np.zeros(grid.n_voxels, bool)
        fresh[constraints._no_go_voxels(grid, area)] = True
        assert fresh.any()
        assert np.array_equal(_mask(gen_graph, no_go=(area,)), fresh)
        assert np.array_equal(_mask(gen_graph, no_go=(area,)), fresh)  # remembered, if small
    kept = cache._grids[grid]
    # the last three small areas, in use order; the large one never
    assert list(kept) == [a.wkb for a in small[2:]]
    assert all(not v.flags.writeable for v in kept.values())
    _mask(gen_graph, no_go=(small[2],))  # used again: now the most recent
    _mask(gen_graph, no_go=(small[0],))  # computed again, pushing out the least recent
    assert list(kept) == [small[4].wkb, small[2].wkb, small[0].wkb]
