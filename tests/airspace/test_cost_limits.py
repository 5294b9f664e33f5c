"""Size-driven work is counted before it is done: route pieces, index keys, grid claims,
candidate pairs of the exact conflict test.

"Before it is done" is measured in memory, not time (a timed test fails on a busy
machine): the refusal must allocate under :data:`PEAK_BYTES`, where doing the work would
allocate gigabytes (1.48 M route pieces, or billions of index keys).
"""

from __future__ import annotations

import tracemalloc

import pytest
import shapely

from airgrid.airspace.errors import ConflictBudgetError, IntentError, RouteError
from airgrid.airspace.traffic import limits
from airgrid.airspace.traffic.conflicts import conflict_pairs, find_conflicts
from airgrid.airspace.traffic.fixes import free_altitude_offset, free_departure_shift
from airgrid.airspace.traffic.holders import Holder, as_holder_volumes
from airgrid.airspace.traffic.keys import KeyScheme
from airgrid.airspace.traffic.models import IntentRequest, IntentState
from airgrid.airspace.traffic.route_volumes import route_to_volumes
from airgrid.airspace.traffic.separation import SeparationTable
from airgrid.geo.volumes import Volume4D
from tests.airspace.conftest import T0

#: Most a refusal may allocate at its peak (bytes).
PEAK_BYTES = 16 * 2**20


def _fast(fn, error: type[Exception], match: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(error, match=match):
            fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"the refusal allocated {peak / 2**20:.1f} MiB at its peak"


def test_a_route_needing_too_many_pieces_is_refused_before_building_them():
    wps = [(28.15, 112.95, 1000.0, T0), (28.15, 112.965, 1000.0, T0 + 300)]
    _fast(
        lambda: route_to_volumes(wps, half_width_m=50, half_height_m=20, max_piece_m=0.001),
        RouteError,
        "max_piece_m",
    )


def test_a_huge_block_is_refused_before_its_keys_or_claims_are_made():
    block = Volume4D(
        shapely.box(112.8, 28.0, 113.2, 28.4), -500.0, 20_000.0, T0, T0 + 100 * 365 * 86_400
    )
    minima = SeparationTable().for_tier("T2")
    _fast(lambda: KeyScheme().keys([block], minima), IntentError, "index keys")
    _fast(lambda: KeyScheme().grid_claims([block], 9, 30.0), IntentError, "grid voxel-slots")


def test_the_exact_conflict_test_has_a_budget_and_fix_searches_respect_it(monkeypatch):
    """Held volumes near the request are counted before the exact test: over the budget,
    the decision refuses (ConflictBudgetError) and the fix searches offer nothing."""
    box = shapely.box(112.95, 28.15, 112.96, 28.16)
    held = [
        Holder(
            f"h{n}",
            "op",
            0,
            "T2",
            IntentState.ACCEPTED,
            (Volume4D(box, 950.0, 1000.0, t, t + 600),),
        )
        for n, t in enumerate(T0 + 1200.0 * k for k in range(6))
    ]
    req = IntentRequest("op2", 0, "T2", (Volume4D(box, 950.0, 1000.0, T0, T0 + 7200.0),))
    table = SeparationTable()
    assert len(find_conflicts(req.volumes, "T2", 0, held, table)) == 6
    with pytest.raises(ConflictBudgetError, match="6 held volumes"):
        conflict_pairs(req.volumes, "T2", as_holder_volumes(held), table, max_pairs=5)
    monkeypatch.setattr(limits, "MAX_CANDIDATE_PAIRS", 5)
    with pytest.raises(ConflictBudgetError):
        find_conflicts(req.volumes, "T2", 0, held, table)
    assert free_departure_shift(req, held, table) is None
    assert free_altitude_offset(req, held, table, step_m=30.0) is None
    monkeypatch.setattr(limits, "MAX_CANDIDATE_PAIRS", 6)
    assert free_altitude_offset(req, held, table, step_m=30.0) is not None
