"""Chunked vectorised calls give the same answer as one call (how long they hold the
interpreter is measured in ``benchmarks/gil_holds.py``)."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from airgrid.geo.chunks import chunked


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 60), size=st.integers(1, 17), seed=st.integers(0, 2**32 - 1))
def test_chunked_equals_one_call(n, size, seed):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1, (n, 2))
    a = shapely.buffer(shapely.points(xy), rng.uniform(0.01, 0.2, n))
    b = shapely.buffer(shapely.points(xy[::-1]), 0.05)
    assert np.array_equal(chunked(shapely.distance, a, b, size=size), shapely.distance(a, b))
    assert np.array_equal(
        chunked(shapely.dwithin, a, b, 0.1, size=size), shapely.dwithin(a, b, 0.1)
    )
    cents = chunked(lambda g: shapely.get_coordinates(shapely.centroid(g)), a, size=size)
    assert np.array_equal(cents.reshape(-1, 2), shapely.get_coordinates(shapely.centroid(a)))
