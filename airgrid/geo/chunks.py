"""Vectorised geometry calls cut into chunks, so that other threads get the interpreter
between chunks.

shapely's and pyproj's array functions hold the GIL while they build their results (one
Python object per output geometry), so one call over 50,000 geometries stops every other
thread of the process for 50-100 ms: in the server, health probes and the event loop
wait. Applied over chunks of :data:`CHUNK` items, the same call gives the interpreter a
switch point every few milliseconds and the same result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: Items per chunk: a few milliseconds of the slowest shapely calls airgrid makes.
CHUNK = 2_048


def chunked(fn: Callable[..., Any], *arrays: Any, size: int = CHUNK) -> np.ndarray:
    """``fn(*arrays)`` computed over consecutive slices of at most ``size`` items.

    Parameters
    ----------
    fn
        An element-wise array function whose result has one row per input item
        (``shapely.distance``, ``shapely.centroid``, ``shapely.get_coordinates`` of
        points ...).
    arrays
        Arrays of equal length; a scalar is passed whole to every chunk.
    size
        Most items per call.

    Returns
    -------
    numpy.ndarray
        The results concatenated along the first axis, equal to ``fn(*arrays)``.
    """
    n = next((len(a) for a in arrays if np.ndim(a) > 0), 0)
    if n <= size:
        return np.asarray(fn(*arrays))
    parts = [
        fn(*(a[s : s + size] if np.ndim(a) > 0 else a for a in arrays)) for s in range(0, n, size)
    ]
    return np.concatenate(parts)


__all__ = ["CHUNK", "chunked"]
