"""Tier, terrain and intent rules over normalised tracks, vectorised per fix.

Heights
-------
Each fix carries a true-height interval ``[h_lo, h_hi]`` (see :mod:`~airgrid.audit.tracks`).
A flight's tier is its accepted intent's, else the log's ``tier``; a flight with neither
is held to the light-UAV limit (:data:`LIGHT_UAV_LIMIT_M`, the 120 m of the 2024
*Interim Regulations*). Rules fire "certain" when the whole interval breaks them and
"possible" when part of it does:

* ``tier_band_above``: above the tier's ``upper_m`` (excess ``h_hi - upper_m``);
* ``tier_band_below``: below the tier's ``lower_m`` (excess ``lower_m - h_lo``);
* ``light_uav_limit``: above 120 m true height, flights without a tier;
* ``terrain_clearance``: less than the tier table's clearance above the ground.

Take-off and landing are below any clearance, so ``tier_band_below`` and
``terrain_clearance`` skip a flight's terminal phases: the fixes before it first is
certainly above the clearance and after it last is, each at most
``terminal_s`` long. Fixes where the DEM does not reach have no true height and are not
assessed (the audit counts them).

Intents
-------
``nonconformance``: a fix of a flight with an accepted intent (accepted, activated,
nonconforming, contingent or ended) that lies outside every volume of it, in space (footprint boundary inside,
band closed) or in time (window closed); certain if no altitude of the fix fits any
volume. It has no excess in metres (its duration tells how long). A run is F3548 ``Nonconforming``, and ``Contingent`` when it lasts longer than
``contingent_after_s``. ``no_accepted_intent``: a flight whose intent is unknown or was
never accepted (cancelled), one violation over all its fixes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import shapely

from airgrid.airspace.grid.tiers import TierTable
from airgrid.airspace.traffic.models import IntentState
from airgrid.audit.kernels import conformance_scan, height_runs, nonconformance_runs
from airgrid.audit.runs import Found, Runs
from airgrid.audit.tracks import Tracks
from airgrid.geo.volumes import Volume4D

#: True-height limit of light UAVs (metres).
LIGHT_UAV_LIMIT_M = 120.0
#: Intent states under which a flight counts as flown with an accepted intent.
ACCEPTED_STATES = frozenset(
    {
        IntentState.ACCEPTED,
        IntentState.ACTIVATED,
        IntentState.NONCONFORMING,
        IntentState.CONTINGENT,
        IntentState.ENDED,
    }
)


@dataclass(frozen=True)
class RuleSettings:
    """Knobs of the rules.

    Attributes
    ----------
    light_uav_limit_m
        True-height limit of flights without a tier.
    terminal_s
        Longest take-off or landing phase exempt from the low-height rules.
    contingent_after_s
        A nonconformance lasting longer than this is ``Contingent``.
    """

    light_uav_limit_m: float = LIGHT_UAV_LIMIT_M
    terminal_s: float = 120.0
    contingent_after_s: float = 30.0


#: Height rules in the order of :func:`~airgrid.audit.kernels.height_runs`.
HEIGHT_RULES = ("tier_band_above", "tier_band_below", "light_uav_limit", "terrain_clearance")


def height_rules(
    tracks: Tracks, tiers: TierTable, flight_tier: np.ndarray, settings: RuleSettings, found: Found
) -> None:
    """Tier band, light-UAV limit and terrain clearance (see the module docstring), in one
    Numba pass over the fixes (:func:`~airgrid.audit.kernels.height_runs`).

    ``flight_tier`` is the tier number of each flight, -1 for none.
    """
    lower = np.array([t.lower_m for t in tiers] + [np.nan])[flight_tier]
    upper = np.array([t.upper_m for t in tiers] + [np.nan])[flight_tier]
    names = np.array([t.name for t in tiers] + [""], dtype=object)[flight_tier]
    lim, c = settings.light_uav_limit_m, tiers.clearance_m
    runs, excess = height_runs(
        tracks.start, tracks.t, tracks.h_lo, tracks.h_hi, lower.astype(np.float64),
        upper.astype(np.float64), flight_tier < 0, float(lim), float(c),
        float(settings.terminal_s),
    )  # fmt: skip
    objects = (None, None, f"{lim:g} m", f"{c:g} m")
    for r, (rule, obj) in enumerate(zip(HEIGHT_RULES, objects)):
        pick = runs[:, 0] == r
        i0, i1 = runs[pick, 1], runs[pick, 2]
        got = Runs(i0, i1, tracks.t[i0], tracks.t[i1], runs[pick, 3] > 0, excess[pick])
        found.add(tracks, rule, names[tracks.flight[i0]] if obj is None else obj, got)


def _rectangles(fp: np.ndarray) -> np.ndarray:
    """bool per footprint: an axis-aligned rectangle of positive size (its own bounding box).

    Its exterior ring has five vertices, all corners of the bounding box, each of the four
    corners once, and every edge moves along exactly one axis; it has no holes.
    """
    out = (shapely.get_type_id(fp) == 3) & (shapely.get_num_interior_rings(fp) == 0)
    out &= shapely.get_num_coordinates(fp) == 5
    k = np.flatnonzero(out)
    if len(k) == 0:
        return out
    xy = shapely.get_coordinates(shapely.get_exterior_ring(fp[k])).reshape(-1, 5, 2)
    w, s, e, n = (b[:, None] for b in shapely.bounds(fp[k]).T)
    x, y = xy[..., 0], xy[..., 1]
    ok = ((x == w) | (x == e)).all(1) & ((y == s) | (y == n)).all(1) & (w < e)[:, 0]
    ok &= (s < n)[:, 0]
    ok &= ((np.diff(x, axis=1) == 0) != (np.diff(y, axis=1) == 0)).all(1)
    code = (x[:, :4] == e) * 2 + (y[:, :4] == n)
    ok &= (np.sort(code, axis=1) == np.arange(4)).all(1)
    out[k] = ok
    return out


def _volume_table(volumes: list[tuple[int, Volume4D]]) -> dict[str, np.ndarray]:
    """Columns of (flight, volume) rows: flight, prepared footprint, bounding box, band,
    window, and whether the footprint is a rectangle (its bounding box)."""
    fp = np.array([v.footprint for _, v in volumes], dtype=object)
    shapely.prepare(fp)
    lim = np.array([(v.floor_m, v.ceiling_m, v.t_start, v.t_end) for _, v in volumes], np.float64)
    return {
        "flight": np.array([f for f, _ in volumes], np.int64),
        "fp": fp,
        "box": np.ascontiguousarray(shapely.bounds(fp).reshape(-1, 4), np.float64),
        "lim": lim.reshape(-1, 4),
        "rect": _rectangles(fp),
    }


def fixes_inside(
    tracks: Tracks, volumes: list[tuple[int, Volume4D]]
) -> tuple[np.ndarray, np.ndarray]:
    """Fixes inside some volume of their flight's intent: possibly (some altitude of the fix)
    and certainly (all of them). One Numba pass over each fix's own
    volumes, then the exact test for near pairs of non-rectangles.

    Parameters
    ----------
    tracks
        The fixes.
    volumes
        ``(flight number, volume)`` of every volume of every flight's intent, in flight
        order.

    Returns
    -------
    possibly, certainly : bool[n]
        Space (footprint boundary inside, band closed) and time (window closed).
    """
    vols = _volume_table(volumes)
    n_vol = np.bincount(vols["flight"], minlength=tracks.n_flights)
    first_vol = np.concatenate([[0], np.cumsum(n_vol)]).astype(np.int64)
    poss = np.zeros(len(tracks), bool)
    cert = np.zeros(len(tracks), bool)
    lim = vols["lim"]
    fix, vol = conformance_scan(
        tracks.flight, tracks.lon, tracks.lat, tracks.t, tracks.amsl_lo, tracks.amsl_hi,
        first_vol, vols["box"], lim, vols["rect"], poss, cert,
    )  # fmt: skip
    inside = shapely.intersects_xy(vols["fp"][vol], tracks.lon[fix], tracks.lat[fix])
    fix, vol = fix[inside], vol[inside]
    sure = (tracks.amsl_lo[fix] >= lim[vol, 0]) & (tracks.amsl_hi[fix] <= lim[vol, 1])
    poss[fix] = True
    cert[fix[sure]] = True
    return poss, cert


def intent_rules(
    tracks: Tracks, intents: Mapping[str, object], settings: RuleSettings, found: Found
) -> tuple[np.ndarray, np.ndarray]:
    """Nonconformance and flights without an accepted intent.

    Parameters
    ----------
    intents
        Intent id -> :class:`~airgrid.airspace.traffic.models.FlightIntent`.

    Returns
    -------
    has_intent : bool[n_flights]
        Whether each flight flew under an accepted intent.
    conforming : int64[n_flights]
        Fixes of each flight that certainly conform (0 without an intent).
    """
    nf = tracks.n_flights
    has = np.zeros(nf, bool)
    conforming = np.zeros(nf, np.int64)
    obj = np.empty(nf, object)
    volumes: list[tuple[int, Volume4D]] = []
    for f, iid in enumerate(tracks.flights["intent_id"].tolist()):
        intent = intents.get(iid)
        obj[f] = iid
        if intent is not None and getattr(intent, "state", None) in ACCEPTED_STATES:
            has[f] = True
            volumes += [(f, v) for v in intent.volumes]  # type: ignore[attr-defined]
    bounds = np.empty((0, 3), np.int64)
    if volumes:
        poss, cert = fixes_inside(tracks, volumes)
        bounds, conforming = nonconformance_runs(tracks.start, has, poss, cert)
    i0, i1 = bounds[:, 0].copy(), bounds[:, 1].copy()
    t0, t1 = tracks.t[i0], tracks.t[i1]
    runs = Runs(i0, i1, t0, t1, bounds[:, 2] > 0, np.full(len(i0), np.nan))
    state = np.where(runs.t1 - runs.t0 > settings.contingent_after_s, "Contingent", "Nonconforming")
    found.add(tracks, "nonconformance", obj[tracks.flight[runs.i0]], runs, state.astype(object))
    missing = np.flatnonzero(~has)
    if len(missing):
        i0, i1 = tracks.start[missing], tracks.start[missing + 1] - 1
        none = Runs(
            i0, i1, tracks.t[i0], tracks.t[i1], np.ones(len(i0), bool), np.full(len(i0), np.nan)
        )
        found.add(tracks, "no_accepted_intent", obj[missing], none)
    return has, conforming


__all__ = [
    "ACCEPTED_STATES",
    "HEIGHT_RULES",
    "LIGHT_UAV_LIMIT_M",
    "RuleSettings",
    "fixes_inside",
    "height_rules",
    "intent_rules",
]
