"""Hotspots: cells over capacity, and what to do about the ones that stay so.

A cell is a hotspot in a bin when its traffic count exceeds its capacity
(``load = count / capacity > 1``). A cell that is a hotspot in at least the table's
``persistent_share`` of the window's bins is suggested for restricted operation, as
USEPE restricts high-conflict cells: **one-way** in the compass sector most of its
traffic heads (when at least ``one_way_share`` of the traffic's volume-seconds head that
sector), otherwise **layered** by heading (the semicircular rule: headings 0-179° on odd
layers, 180-359° on even ones). Headings come from the order of each intent's volumes
(:meth:`~airgrid.analytics.density.Traffic.headings`).
"""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd

from airgrid.analytics.capacity import CapacityTable, Places, capacities
from airgrid.analytics.density import SECTORS, Density

#: Columns of an assessed table, in order.
COLUMNS = (
    "cell",
    "tier",
    "bin_start",
    "bin_end",
    "count",
    "occupancy",
    "conflicts",
    "refusals",
    "area_class",
    "capacity",
    "load",
    "hotspot",
    "suggestion",
)


def _suggestions(density: Density, persistent: np.ndarray, one_way_share: float) -> dict:
    """Suggestion text per persistently overloaded cell (int64)."""
    h = density.headings[density.headings["cell"].isin(persistent)]
    out = {int(c): "layered: headings 0-179° on odd layers, 180-359° on even" for c in persistent}
    if h.empty:
        return out
    total = h.groupby("cell")["weight"].transform("sum")
    h = h.assign(share=h["weight"] / total).sort_values("share", ascending=False)
    top = h.drop_duplicates("cell")
    for cell, sector, share in zip(top["cell"], top["sector"], top["share"]):
        if share >= one_way_share:
            out[int(cell)] = f"one-way {SECTORS[int(sector)]} ({share:.0%} of traffic heads so)"
        else:
            out[int(cell)] += (
                f" (no heading carries {one_way_share:.0%}; most {SECTORS[int(sector)]})"
            )
    return out


def assess(density: Density, table: CapacityTable, places: Places) -> pd.DataFrame:
    """The density table with capacities, loads, hotspots and suggestions.

    Parameters
    ----------
    density
        What :func:`~airgrid.analytics.density.density` counted.
    table
        Capacity per km², area classes and hotspot thresholds.
    places
        Populated places that classify the cells.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`: ``cell`` (H3 string), ``tier``, ``bin_start``/``bin_end`` (POSIX
        s), the counts, ``area_class``, ``capacity`` (flights per bin), ``load``,
        ``hotspot`` (bool) and ``suggestion`` (empty unless the cell stays over
        capacity), one row per (cell, bin) of the density table.
    """
    d = density.table
    w = density.window
    uniq = density.cells
    inv = np.searchsorted(uniq, d["cell"].to_numpy(np.int64))
    names, cap = capacities(uniq, density.cell_area_m2, w.bin_s, table, places)
    load = d["count"].to_numpy() / cap[inv]
    hot = load > 1.0
    share = np.bincount(inv[hot], minlength=len(uniq)) / w.n_bins
    persistent = uniq[share >= table.persistent_share - 1e-12]
    text = _suggestions(density, persistent, table.one_way_share)
    start = w.start + d["bin"].to_numpy() * w.bin_s
    return pd.DataFrame(
        {
            "cell": np.array([h3.int_to_str(c) for c in uniq.tolist()], dtype=object)[inv],
            "tier": density.tier.name,
            "bin_start": start,
            "bin_end": start + w.bin_s,
            "count": d["count"].to_numpy(),
            "occupancy": d["occupancy"].to_numpy(),
            "conflicts": d["conflicts"].to_numpy(),
            "refusals": d["refusals"].to_numpy(),
            "area_class": names[inv],
            "capacity": cap[inv],
            "load": load,
            "hotspot": hot,
            "suggestion": np.array([text.get(int(c), "") for c in uniq.tolist()], dtype=object)[
                inv
            ],
        },
        columns=list(COLUMNS),
    )


def hotspot_cells(assessed: pd.DataFrame) -> pd.DataFrame:
    """One row per cell that is a hotspot in any bin: ``cell``, ``tier``, ``area_class``,
    ``capacity``, ``bins_over`` (bins over capacity), ``peak_count``, ``peak_load``,
    ``suggestion``; highest peak load first."""
    hot = assessed[assessed["hotspot"]]
    g = hot.groupby("cell", sort=False)
    out = g.agg(
        tier=("tier", "first"),
        area_class=("area_class", "first"),
        capacity=("capacity", "first"),
        bins_over=("hotspot", "size"),
        peak_count=("count", "max"),
        peak_load=("load", "max"),
        suggestion=("suggestion", "first"),
    ).reset_index()
    return out.sort_values(["peak_load", "cell"], ascending=[False, True], ignore_index=True)


__all__ = ["COLUMNS", "assess", "hotspot_cells"]
