"""The compiled key kernels against plain Python: packing with Python integers, covers
with nested loops over cells, layers and slots (hypothesis)."""

from __future__ import annotations

import h3.api.basic_int as h3i
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airgrid.airspace.errors import IntentError
from airgrid.airspace.traffic.holders import band_window
from airgrid.airspace.traffic.keys import (
    KEY_MARGIN_M,
    KeyScheme,
    cover_keys,
    grow_for_keys,
    overlap_cells,
    pack_keys,
)
from airgrid.airspace.traffic.separation import SeparationTable
from airgrid.geo.plane import BUFFER_SAFETY
from tests.airspace.conftest import circle

LAYER_BITS = 8


def _key(cell: int, layer: int, slot: int, resolution: int) -> int:
    """The documented key formula, with Python integers (``%`` of a power of two is the
    two's-complement wrap of a negative layer or slot)."""
    cell_bits = 7 + 3 * resolution
    slot_bits = 63 - LAYER_BITS - cell_bits
    c = (cell >> (45 - 3 * resolution)) % (1 << cell_bits)
    return (
        (c << (LAYER_BITS + slot_bits)) | ((layer % 256) << slot_bits) | (slot % (1 << slot_bits))
    )


def _cover(cells, l0, nl, s0, ns, resolution) -> list[int]:
    """Every key of every volume's cells x layers x slots, sorted and unique."""
    return sorted(
        {
            _key(int(c), lay, sl, resolution)
            for k, cs in enumerate(cells)
            for c in cs
            for lay in range(l0[k], l0[k] + nl[k])
            for sl in range(s0[k], s0[k] + ns[k])
        }
    )


resolutions = st.integers(0, 11)
lat = st.floats(-85, 85)
lng = st.floats(-179.9, 179.9)
layers = st.integers(-3_000, 3_000)
slots = st.integers(-(10**9), 10**9)


@st.composite
def triples(draw):
    res = draw(resolutions)
    n = draw(st.integers(0, 30))
    cells = [h3i.latlng_to_cell(draw(lat), draw(lng), res) for _ in range(n)]
    return (
        res,
        cells,
        draw(st.lists(layers, min_size=n, max_size=n)),
        draw(st.lists(slots, min_size=n, max_size=n)),
    )


@settings(max_examples=200, deadline=None)
@given(triples())
def test_pack_keys_matches_the_formula(case) -> None:
    res, cells, lays, sls = case
    got = pack_keys(np.array(cells, np.int64), np.array(lays, np.int64), np.array(sls), res)
    assert got.dtype == np.int64
    assert got.tolist() == [_key(c, lay, s, res) for c, lay, s in zip(cells, lays, sls)]


@st.composite
def covers(draw):
    res = draw(resolutions)
    n = draw(st.integers(0, 5))
    cells = [
        np.unique(
            [h3i.latlng_to_cell(draw(lat), draw(lng), res) for _ in range(draw(st.integers(0, 6)))]
        ).astype(np.int64)
        for _ in range(n)
    ]
    ints = st.lists(st.integers(-500, 500), min_size=n, max_size=n)
    counts = st.lists(st.integers(1, 4), min_size=n, max_size=n)
    return (
        res,
        cells,
        draw(ints),
        draw(counts),
        draw(st.lists(slots, min_size=n, max_size=n)),
        (draw(counts)),
    )


@settings(max_examples=200, deadline=None)
@given(covers())
def test_cover_keys_match_nested_loops(case) -> None:
    res, cells, l0, nl, s0, ns = case
    arr = [np.array(a, np.int64) for a in (l0, nl, s0, ns)]
    got = cover_keys(cells, *arr, res)
    assert got.dtype == np.int64
    assert got.tolist() == _cover(cells, l0, nl, s0, ns, res)


@settings(max_examples=25, deadline=None)
@given(
    st.floats(-3_000, 3_000),
    st.floats(-3_000, 3_000),
    st.floats(0, 600),
    st.sampled_from(["T1", "T2", "T3"]),
)
def test_a_scheme_covers_a_real_intent_as_the_loops_do(
    east: float, north: float, t: float, tier: str
) -> None:
    scheme = KeyScheme()
    req = circle("x", east=east, north=north, t=t)
    minima = SeparationTable().cover_minima(tier)
    grown = grow_for_keys(
        [v.footprint for v in req.volumes], minima.lateral_m * (1 + BUFFER_SAFETY) + KEY_MARGIN_M
    )
    cells = overlap_cells(grown, scheme.resolution)
    a = band_window(req.volumes)
    l0 = np.floor((a[:, 0] - minima.vertical_m) / scheme.layer_m).astype(int)
    l1 = np.floor((a[:, 1] + minima.vertical_m) / scheme.layer_m).astype(int)
    s0 = np.floor((a[:, 2] - minima.seconds) / scheme.slot_s).astype(int)
    s1 = np.floor((a[:, 3] + minima.seconds) / scheme.slot_s).astype(int)
    want = _cover(
        cells, l0.tolist(), (l1 - l0 + 1).tolist(), s0.tolist(), (s1 - s0 + 1).tolist(), 7
    )
    assert scheme.keys(req.volumes, minima).tolist() == want


def test_a_resolution_that_leaves_no_slot_bits_is_refused() -> None:
    one = np.zeros(1, np.int64)
    with pytest.raises(IntentError, match="too few bits"):
        pack_keys(one, one, one, 15)
    with pytest.raises(IntentError, match="too few bits"):
        cover_keys([one], one, one + 1, one, one + 1, 15)


def test_pack_keys_broadcasts() -> None:
    cells = np.array([h3i.latlng_to_cell(28.2, 112.9, 7), h3i.latlng_to_cell(28.3, 113.0, 7)])
    got = pack_keys(cells[:, None, None], np.arange(3)[None, :, None], np.arange(4), 7)
    assert got.tolist() == [
        _key(int(c), lay, s, 7) for c in cells for lay in range(3) for s in range(4)
    ]
