"""The columnar form of flight logs: raw fixes as read, and normalised tracks.

Every reader returns a :class:`ReadResult`: plain arrays, one row per fix, with the
altitude in its own reference, and the rows it rejected (row number, field, reason).
:func:`normalise` joins them into one :class:`Tracks`, sorted by flight then time, with
altitudes as metres AMSL.

Altitudes
---------
A fix's altitude is kept as an **interval** in two frames, because ground is known only
within bounds (the DEM's lowest and highest plausible ground at the fix,
:func:`~airgrid.terrain.box_ground_bounds` over the pixels touching it, see
:func:`point_ground_bounds`):

* ``AMSL``: ``amsl_lo = amsl_hi = alt``; true height ``alt - g_hi .. alt - g_lo``;
* ``W84``: as AMSL after subtracting the EGM96 geoid undulation
  (:class:`~airgrid.terrain.geoid.Geoid`);
* ``AGL``: true height ``h_lo = h_hi = alt`` as reported; AMSL ``g_lo + alt .. g_hi + alt``.

Rules then say "certain" when the whole interval breaks them and "possible" when part of
it does. Where the DEM does not reach, true heights are NaN (not assessed, and counted);
an AGL fix there has no AMSL altitude at all and is rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from airgrid.audit.errors import LogError
from airgrid.audit.kernels import (
    fix_heights,
    number_pixels,
    pixel_keys,
    run_heads,
    true_heights,
)
from airgrid.audit.threads import over_spans
from airgrid.terrain import Dem, box_ground_bounds
from airgrid.terrain.dem import WGS84
from airgrid.terrain.geoid import Geoid

#: How many rejected rows a result keeps in detail (all are counted).
MAX_REJECTED_DETAILS = 1000


class AltRef(IntEnum):
    """Altitude references of logged fixes."""

    AMSL = 0
    AGL = 1
    W84 = 2


@dataclass(frozen=True)
class Rejected:
    """A row a reader could not use.

    Attributes
    ----------
    path
        The file.
    row
        Its number in the file's own counting (see ``where``).
    field
        The first field at fault.
    message
        Why.
    where
        Human form of the position, e.g. ``"line 12"``, ``"feature 2 vertex 5"``.
    """

    path: str
    row: int
    field: str
    message: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.path}: {self.where or f'row {self.row}'}: {self.field}: {self.message}"


#: Columns of a raw fix table (see :class:`ReadResult`).
RAW_COLUMNS = ("flight_id", "operator", "intent_id", "tier", "t", "lat", "lon", "alt", "ref", "row")
#: The text columns of a raw fix table, held as :class:`pandas.Categorical`.
TEXT_COLUMNS = ("flight_id", "operator", "intent_id", "tier")


@dataclass
class ReadResult:
    """Fixes read from one file.

    Attributes
    ----------
    path
        The file.
    columns
        ``flight_id``, ``operator``, ``intent_id``, ``tier`` (:class:`pandas.Categorical`
        of str: integer codes per fix into the distinct values; the last two ``""`` when
        the log does not say), ``t`` (POSIX seconds), ``lat``,
        ``lon``, ``alt`` (float64), ``ref`` (int8 :class:`AltRef`), ``row`` (int64, the
        row number of each fix in the file).
    rejected
        Details of the first :data:`MAX_REJECTED_DETAILS` rejected rows.
    n_rejected
        Rows rejected in all.
    """

    path: str
    columns: dict[str, Any]
    rejected: list[Rejected] = field(default_factory=list)
    n_rejected: int = 0

    def __len__(self) -> int:
        return len(self.columns["t"])

    def reject(self, rows: Sequence[Rejected] | Rejected) -> None:
        """Record rejected rows."""
        items = [rows] if isinstance(rows, Rejected) else list(rows)
        room = MAX_REJECTED_DETAILS - len(self.rejected)
        self.rejected.extend(items[: max(room, 0)])
        self.n_rejected += len(items)


def raw_columns(
    n: int,
    *,
    flight_id: object,
    operator: object,
    t: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    alt: np.ndarray,
    ref: np.ndarray | int,
    row: np.ndarray,
    intent_id: object = "",
    tier: object = "",
) -> dict[str, Any]:
    """Raw fix columns of length ``n`` (scalars broadcast; text as categoricals).

    Text is a :class:`pandas.Categorical` (kept as given), an array of str (factorised
    here) or one str for every fix.
    """

    def text(v: object) -> pd.Categorical:
        if isinstance(v, pd.Categorical):
            return v
        if isinstance(v, np.ndarray):
            codes, uniq = pd.factorize(v.astype(object))
            return pd.Categorical.from_codes(codes, categories=pd.Index(uniq, dtype=object))
        one = pd.Index(["" if v is None else str(v)], dtype=object)
        return pd.Categorical.from_codes(np.zeros(n, np.int8), categories=one)

    return {
        "flight_id": text(flight_id),
        "operator": text(operator),
        "intent_id": text(intent_id),
        "tier": text(tier),
        "t": np.asarray(t, np.float64),
        "lat": np.asarray(lat, np.float64),
        "lon": np.asarray(lon, np.float64),
        "alt": np.asarray(alt, np.float64),
        "ref": np.broadcast_to(np.asarray(ref, np.int8), (n,)).copy(),
        "row": np.asarray(row, np.int64),
    }


@dataclass
class Tracks:
    """Normalised fixes of many flights, sorted by flight then time.

    Attributes
    ----------
    flight
        int32 flight number of each fix (into the flight table).
    t, lat, lon
        POSIX seconds and degrees.
    amsl_lo, amsl_hi
        Altitude interval, metres AMSL.
    h_lo, h_hi
        True-height interval, metres above the ground (NaN where the DEM does not reach).
    row
        Row number of each fix in its file.
    flights
        One row per flight: ``flight_id``, ``operator``, ``intent_id`` (the log's, or the
        flight id), ``tier`` (the log's, or ``""``), ``source`` (the file of its first fix).
    start
        int64[n_flights + 1]: fixes of flight ``f`` are ``start[f]:start[f + 1]``.
    """

    flight: np.ndarray
    t: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    amsl_lo: np.ndarray
    amsl_hi: np.ndarray
    h_lo: np.ndarray
    h_hi: np.ndarray
    row: np.ndarray
    flights: pd.DataFrame
    start: np.ndarray

    def __len__(self) -> int:
        return len(self.t)

    @property
    def n_flights(self) -> int:
        """Number of flights."""
        return len(self.flights)

    def same_flight_next(self) -> np.ndarray:
        """bool[n]: fix ``i`` and fix ``i + 1`` belong to one flight (False for the last).

        Computed once per tracks (the fixes never change) and shared, read-only.
        """
        got = self.__dict__.get("_same_flight_next")
        if got is None:
            got = np.zeros(len(self), bool)
            got[:-1] = self.flight[1:] == self.flight[:-1]
            got.flags.writeable = False
            self.__dict__["_same_flight_next"] = got
        return got


def _concat(parts: Sequence[ReadResult]) -> tuple[dict[str, Any], np.ndarray]:
    """All parts' columns end to end (text categoricals over the union of the parts'
    values; one part's own arrays), and the end of each part's fixes."""
    if len(parts) == 1:
        cols = dict(parts[0].columns)
    else:
        cols = {
            k: union_categoricals([p.columns[k] for p in parts])
            if k in TEXT_COLUMNS
            else np.concatenate([p.columns[k] for p in parts])
            for k in RAW_COLUMNS
        }
    return cols, np.cumsum([len(p) for p in parts])


def _part_of(ends: np.ndarray, i: np.ndarray) -> np.ndarray:
    """The part of each fix index (``ends``: end of each part's fixes)."""
    return np.searchsorted(ends, i, side="right")


def _w84_to_amsl(
    cols: dict[str, Any], keep: np.ndarray, geoid: Geoid | None, ends: np.ndarray
) -> list[tuple[int, int, str]]:
    """Convert W84 altitudes (into new ``alt`` and ``ref`` arrays, the parts' own stay as
    read); returns (row index, part, reason) of fixes it cannot."""
    w84 = np.flatnonzero(keep & (cols["ref"] == AltRef.W84))
    if len(w84) == 0:
        return []
    source = _part_of(ends, w84)
    if geoid is None:
        return [(int(i), int(s), "W84 altitudes need a geoid model") for i, s in zip(w84, source)]
    lat, lon = cols["lat"][w84], cols["lon"][w84]
    ok = np.ones(len(w84), bool)
    if geoid.bounds is not None:
        b = geoid.bounds
        ok = (lon >= b.west) & (lon <= b.east) & (lat >= b.south) & (lat <= b.north)
    good = w84[ok]
    cols["alt"], cols["ref"] = cols["alt"].copy(), cols["ref"].copy()
    cols["alt"][good] = geoid.w84_to_amsl(cols["lat"][good], cols["lon"][good], cols["alt"][good])
    cols["ref"][good] = AltRef.AMSL
    why = f"outside the geoid grid ({geoid.bounds})"
    return [(int(i), int(s), why) for i, s in zip(w84[~ok], source[~ok])]


def ground_slots(
    dem: Dem, lon: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The DEM pixel of each point and :func:`~airgrid.terrain.box_ground_bounds` of each
    pixel (a point box), computed once per pixel.

    For a point box the window of pixels depends only on the pixel the point falls in, so
    the bounds of one point of each pixel are those of every point in it. Pixels are
    told apart on a dense table of the raster's pixels (two rings more on every side):
    a Numba pass over spans of the points in threads
    (:func:`~airgrid.audit.kernels.pixel_keys`) maps them to pixel space as
    :meth:`Dem.lonlat_to_pixel` does (for a DEM in another CRS the points are mapped by it
    first, and the pass applies the identity) and keys them on the table, then one pass
    (:func:`~airgrid.audit.kernels.number_pixels`) numbers the pixels.

    Returns
    -------
    slot : int64[n]
        Pixel number of each point, -1 off the DEM.
    g_lo, g_hi : float64[k]
        Ground bounds of each pixel.
    """
    lon, lat = np.ascontiguousarray(lon, np.float64), np.ascontiguousarray(lat, np.float64)
    if dem.crs.equals(WGS84, ignore_axis_order=True):
        x, y, inv = lon, lat, ~dem.transform
        coef = np.array([inv.a, inv.b, inv.c, inv.d, inv.e, inv.f], np.float64)
    else:
        x, y = dem.lonlat_to_pixel(lon, lat)
        coef = np.array([1.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    bounds = np.array(dem.bounds_lonlat, np.float64)
    h, cols = dem.shape[0] + 4, dem.shape[1] + 4  # pixels just outside (rounding at the edge)
    slot = np.empty(len(lon), np.int64)
    over_spans(
        lambda a, b: pixel_keys(x[a:b], y[a:b], coef, lon[a:b], lat[a:b], bounds, cols, slot[a:b]),
        len(slot),
    )
    first = number_pixels(slot, h * cols)
    g_lo, g_hi, _ = box_ground_bounds(dem, lon[first], lat[first], lon[first], lat[first])
    return slot, g_lo, g_hi


def point_ground_bounds(
    dem: Dem, lon: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~airgrid.terrain.box_ground_bounds` of each point (a box of no size), computed
    once per DEM pixel (see :func:`ground_slots`); NaN off the DEM, as there."""
    slot, lo, hi = ground_slots(dem, lon, lat)
    return np.append(lo, np.nan)[slot], np.append(hi, np.nan)[slot]  # -1: off the DEM


def normalise(
    parts: Sequence[ReadResult],
    *,
    dem: Dem | None,
    geoid: Geoid | None,
    t_from: float | None = None,
    t_to: float | None = None,
) -> tuple[Tracks, int]:
    """Join read results into one :class:`Tracks` (see the module docstring).

    Parameters
    ----------
    parts
        Read results; fixes that cannot be normalised are added to their results'
        rejected rows.
    dem
        Ground bounds (without it true heights are NaN and AGL fixes are rejected).
    geoid
        For W84 altitudes (without it W84 fixes are rejected).
    t_from, t_to
        Keep fixes with ``t_from <= t <= t_to`` only.

    Returns
    -------
    tracks : Tracks
    outside_window : int
        Fixes left out by the time window.

    Raises
    ------
    LogError
        No parts given.
    """
    if not parts:
        raise LogError("no flight logs to read")
    cols, ends = _concat(parts)
    n = len(cols["t"])
    keep = np.ones(n, bool)
    if t_from is not None:
        keep &= cols["t"] >= t_from
    if t_to is not None:
        keep &= cols["t"] <= t_to
    outside = int(n - keep.sum())
    bad = _w84_to_amsl(cols, keep, geoid, ends)
    lat, lon, alt = cols["lat"], cols["lon"], cols["alt"]
    if dem is not None:
        slot, g_lo, g_hi = ground_slots(dem, lon, lat)
    else:
        slot, g_lo, g_hi = np.full(n, -1, np.int64), np.empty(0), np.empty(0)
    agl = cols["ref"] == AltRef.AGL
    h_lo, h_hi = np.empty(n), np.empty(n)
    if agl.any():
        amsl_lo, amsl_hi, no_ground = np.empty(n), np.empty(n), np.empty(n, bool)
        over_spans(
            lambda a, b: fix_heights(
                alt[a:b], agl[a:b], slot[a:b], g_lo, g_hi, amsl_lo[a:b], amsl_hi[a:b],
                h_lo[a:b], h_hi[a:b], no_ground[a:b],
            ),
            n,
        )  # fmt: skip
    else:  # all AMSL: the altitudes are the interval, shared (tracks are read-only)
        amsl_lo = amsl_hi = alt
        no_ground = agl
        over_spans(
            lambda a, b: true_heights(alt[a:b], slot[a:b], g_lo, g_hi, h_lo[a:b], h_hi[a:b]), n
        )
    off = np.flatnonzero(keep & no_ground)
    bad += [
        (int(i), int(s), "AGL altitude outside the terrain model")
        for i, s in zip(off, _part_of(ends, off))
    ]
    for i, s, why in bad:
        keep[i] = False
        p = parts[s]
        p.reject(Rejected(p.path, int(cols["row"][i]), "alt", why, _where(p, int(cols["row"][i]))))
    return _assemble(cols, ends, keep, parts, amsl_lo, amsl_hi, h_lo, h_hi), outside


def _where(p: ReadResult, row: int) -> str:
    return f"line {row}" if p.path.lower().endswith(".csv") else f"row {row}"


def _assemble(
    cols: dict[str, Any],
    ends: np.ndarray,
    keep: np.ndarray,
    parts: Sequence[ReadResult],
    amsl_lo: np.ndarray,
    amsl_hi: np.ndarray,
    h_lo: np.ndarray,
    h_hi: np.ndarray,
) -> Tracks:
    """Flight numbers by (flight id, operator) in order of first appearance; sort by flight,
    time. Flights are told apart on the text columns' integer codes; their strings are
    looked up once per flight."""
    idx = None if keep.all() else np.flatnonzero(keep)  # None: every fix
    fid, op, t = (
        c if idx is None else c[idx]
        for c in (cols["flight_id"].codes, cols["operator"].codes, cols["t"])
    )
    heads, ordered = run_heads(fid, op, t)
    n_op = max(len(cols["operator"].categories), 1)
    run_code, uniq = pd.factorize(fid[heads].astype(np.int64) * n_op + op[heads])
    code = np.repeat(run_code.astype(np.int32), np.diff(np.append(heads, len(t))))
    order = idx  # fixes in flight and time order (None: all of them, as they are)
    if not (ordered and len(uniq) == len(heads)):  # not every flight one run in time order
        perm = np.lexsort((t, code))
        order, code = perm if idx is None else idx[perm], code[perm]
    start = np.searchsorted(code, np.arange(len(uniq) + 1, dtype=code.dtype)).astype(np.int64)
    first = start[:-1] if order is None else order[start[:-1]]

    def text(name: str) -> np.ndarray:
        c = cols[name]
        return (
            np.asarray(c.categories, dtype=object)[c.codes[first]]
            if len(first)
            else np.empty(0, object)
        )

    flight_id, intent_id = text("flight_id"), text("intent_id")
    flights = pd.DataFrame(
        {
            "flight_id": flight_id,
            "operator": text("operator"),
            "intent_id": np.where(intent_id != "", intent_id, flight_id),
            "tier": text("tier"),
            "source": np.array([parts[s].path for s in _part_of(ends, first)], dtype=object),
        }
    )
    pick = slice(None) if order is None else order  # all fixes already in order: no copies
    return Tracks(
        flight=code,
        t=cols["t"][pick],
        lat=cols["lat"][pick],
        lon=cols["lon"][pick],
        amsl_lo=amsl_lo[pick],
        amsl_hi=amsl_hi[pick],
        h_lo=h_lo[pick],
        h_hi=h_hi[pick],
        row=cols["row"][pick],
        flights=flights,
        start=start,
    )


__all__ = [
    "MAX_REJECTED_DETAILS",
    "RAW_COLUMNS",
    "TEXT_COLUMNS",
    "AltRef",
    "ReadResult",
    "Rejected",
    "Tracks",
    "ground_slots",
    "normalise",
    "point_ground_bounds",
    "raw_columns",
]
