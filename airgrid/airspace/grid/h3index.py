"""Vectorised H3 index arithmetic on int64 arrays (bit layout of the H3 v4 spec).

Only what the grid needs in bulk; single-cell work uses the ``h3`` package.
"""

from __future__ import annotations

import h3
import numpy as np

_RES_SHIFT = 52
_RES_MASK = np.int64(0xF) << _RES_SHIFT


def parent_of(cells: np.ndarray, res: int) -> np.ndarray:
    """Parent at ``res`` of every cell (cells must be at ``res`` or finer).

    Examples
    --------
    >>> import h3, numpy as np
    >>> c = h3.latlng_to_cell(28.2, 112.97, 10)
    >>> int(parent_of(np.array([h3.str_to_int(c)]), 8)[0]) == h3.str_to_int(h3.cell_to_parent(c, 8))
    True
    """
    c = np.asarray(cells, np.int64)
    low = np.int64((1 << ((15 - res) * 3)) - 1)
    return ((c & ~_RES_MASK) | (np.int64(res) << _RES_SHIFT)) | low


def latlng_to_cells(lat: np.ndarray, lon: np.ndarray, res: int) -> np.ndarray:
    """H3 cells (int64) containing each point at ``res``."""
    f = h3.latlng_to_cell
    s2i = h3.str_to_int
    return np.fromiter(
        (
            s2i(f(a, b, res))
            for a, b in zip(np.asarray(lat, float).tolist(), np.asarray(lon, float).tolist())
        ),
        np.int64,
        len(lat),
    )
