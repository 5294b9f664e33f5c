"""Merging centrelines: a stretch of a new centreline that runs side by side with an
earlier one is snapped onto the earlier one's cells (step 5 of
:func:`~airgrid.routing.corridors.network.design_network`).
"""

from __future__ import annotations

import h3
import numpy as np
from h3.api import basic_int as h3i

from airgrid.airspace.grid import Grid
from airgrid.routing.corridors.bearings import cell_bearing, line_angle
from airgrid.routing.corridors.corridor import loopless

#: Shortest side-by-side stretch (centreline cells) worth merging.
MIN_MERGE_CELLS = 3
#: Side-by-side stretches merge when their lines are this close to parallel (either sense).
MAX_MERGE_ANGLE_DEG = 45.0


def _ring_index(grid: Grid, t: int, cl: np.ndarray, rings: int) -> dict[int, int]:
    """H3 id -> index of the nearest centreline cell (within ``rings``)."""
    ids = np.asarray(grid.cell_id, np.int64)[cl].tolist()
    near = {int(h): i for i, h in enumerate(ids)}
    for k in range(1, rings + 1):
        for i, h in enumerate(ids):
            for c in h3i.grid_ring(int(h), k):
                near.setdefault(c, i)
    return near


def _usable_cells(grid: Grid, t: int, h3ids: list[int]) -> np.ndarray | None:
    """Cell-table indices of H3 cells if every one is in tier ``t`` with a usable voxel, else None."""
    ci = grid.find_cells(np.array(h3ids, np.int64), t)
    if (ci < 0).any():
        return None
    usable = grid.usable()
    for c in ci.tolist():
        s, n = int(grid.cell_start[c]), int(grid.cell_nlayers[c])
        if not usable[s : s + n].any():
            return None
    return ci


def merge_centreline(
    grid: Grid, t: int, cl: np.ndarray, earlier: list[np.ndarray], rings: int
) -> tuple[np.ndarray, int]:
    """Snap side-by-side stretches of a centreline onto earlier centrelines (step 5).

    Returns
    -------
    centreline : int64 array
        The new centreline (cell-table indices).
    merged : int
        Cells taken from earlier centrelines.
    """
    merged = 0
    for prev in earlier:
        near = _ring_index(grid, t, prev, rings)
        ids = np.asarray(grid.cell_id, np.int64)[cl].tolist()
        hit = [near.get(int(h), -1) for h in ids]
        out: list[int] = []
        i, n = 0, len(cl)
        while i < n:
            if hit[i] < 0:
                out.append(int(cl[i]))
                i += 1
                continue
            j = i
            while j + 1 < n and hit[j + 1] >= 0:
                j += 1
            k0, k1 = hit[i], hit[j]
            stretch_ok = j - i + 1 >= MIN_MERGE_CELLS and k0 != k1
            if stretch_ok and i > 0 and j < n - 1:
                own = cell_bearing(grid, int(cl[i]), int(cl[j]))
                other = cell_bearing(grid, int(prev[k0]), int(prev[k1]))
                seg = prev[k0 : k1 + 1] if k0 < k1 else prev[k1 : k0 + 1][::-1]
                pid = np.asarray(grid.cell_id, np.int64)
                try:
                    into = list(h3i.grid_path_cells(int(pid[cl[i - 1]]), int(pid[seg[0]])))[1:-1]
                    back = list(h3i.grid_path_cells(int(pid[seg[-1]]), int(pid[cl[j + 1]])))[1:-1]
                except h3.H3BaseException:
                    joins = None  # H3 cannot draw that line (pentagon distortion): keep the stretch
                else:
                    joins = _usable_cells(grid, t, into + back)
                if line_angle(own, other) <= MAX_MERGE_ANGLE_DEG and joins is not None:
                    out.extend(joins[: len(into)].tolist())
                    out.extend(int(c) for c in seg)
                    out.extend(joins[len(into) :].tolist())
                    merged += len(seg)
                    i = j + 1
                    continue
            out.extend(int(c) for c in cl[i : j + 1])
            i = j + 1
        cl = loopless(np.array(out, np.int64))
    return cl, merged
