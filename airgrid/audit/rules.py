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
from airgrid.audit.runs import Found, Runs, mask_runs
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


def _per_flight(tracks: Tracks, values: np.ndarray) -> np.ndarray:
    return np.repeat(values, np.diff(tracks.start))


def terminal_mask(tracks: Tracks, clearance_m: float, terminal_s: float) -> np.ndarray:
    """bool[n]: fixes in a flight's take-off or landing phase (see the module docstring)."""
    if tracks.n_flights == 0:
        return np.zeros(0, bool)
    above = tracks.h_lo >= clearance_m
    first = tracks.start[:-1]
    first_up = np.minimum.reduceat(np.where(above, tracks.t, np.inf), first)
    last_up = np.maximum.reduceat(np.where(above, tracks.t, -np.inf), first)
    t_first = tracks.t[first]
    t_last = tracks.t[tracks.start[1:] - 1]
    rise = _per_flight(tracks, np.minimum(first_up, t_first + terminal_s))
    fall = _per_flight(tracks, np.maximum(last_up, t_last - terminal_s))
    return (tracks.t < rise) | (tracks.t > fall)


def height_rules(
    tracks: Tracks, tiers: TierTable, flight_tier: np.ndarray, settings: RuleSettings, found: Found
) -> None:
    """Tier band, light-UAV limit and terrain clearance (see the module docstring).

    ``flight_tier`` is the tier number of each flight, -1 for none.
    """
    lower = np.array([t.lower_m for t in tiers] + [np.nan])[flight_tier]
    upper = np.array([t.upper_m for t in tiers] + [np.nan])[flight_tier]
    names = np.array([t.name for t in tiers] + [""], dtype=object)[flight_tier]
    lo_f, up_f, name_f = (_per_flight(tracks, v) for v in (lower, upper, names))
    h_lo, h_hi = tracks.h_lo, tracks.h_hi
    terminal = terminal_mask(tracks, tiers.clearance_m, settings.terminal_s)
    with np.errstate(invalid="ignore"):
        runs = mask_runs(tracks, h_hi > up_f, h_lo > up_f, h_hi - up_f)
        found.add(tracks, "tier_band_above", name_f[runs.i0], runs)
        runs = mask_runs(tracks, (h_lo < lo_f) & ~terminal, (h_hi < lo_f) & ~terminal, lo_f - h_lo)
        found.add(tracks, "tier_band_below", name_f[runs.i0], runs)
        no_tier = _per_flight(tracks, flight_tier < 0)
        lim = settings.light_uav_limit_m
        runs = mask_runs(tracks, no_tier & (h_hi > lim), no_tier & (h_lo > lim), h_hi - lim)
        found.add(tracks, "light_uav_limit", f"{lim:g} m", runs)
        c = tiers.clearance_m
        runs = mask_runs(tracks, (h_lo < c) & ~terminal, (h_hi < c) & ~terminal, c - h_lo)
        found.add(tracks, "terrain_clearance", f"{c:g} m", runs)


def _volume_table(volumes: list[tuple[int, Volume4D]]) -> dict[str, np.ndarray]:
    """Columns of (flight, volume) rows: flight, prepared footprint, bounding box, band, window."""
    fp = np.array([v.footprint for _, v in volumes], dtype=object)
    shapely.prepare(fp)
    lim = np.array([(v.floor_m, v.ceiling_m, v.t_start, v.t_end) for _, v in volumes], np.float64)
    return {
        "flight": np.array([f for f, _ in volumes], np.int64),
        "fp": fp,
        "box": shapely.bounds(fp).reshape(-1, 4),
        "lim": lim.reshape(-1, 4),
    }


def fixes_inside(
    tracks: Tracks, volumes: list[tuple[int, Volume4D]]
) -> tuple[np.ndarray, np.ndarray]:
    """Fixes inside some volume of their flight's intent: possibly (some altitude of the fix)
    and certainly (all of them). One pass over all (fix, volume) pairs of all flights.

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
    first_vol = np.concatenate([[0], np.cumsum(n_vol)[:-1]])
    per_fix = n_vol[tracks.flight]
    fix = np.repeat(np.arange(len(tracks)), per_fix)
    offs = np.arange(len(fix)) - np.repeat(np.cumsum(per_fix) - per_fix, per_fix)
    vol = first_vol[tracks.flight[fix]] + offs
    lon, lat, t = tracks.lon[fix], tracks.lat[fix], tracks.t[fix]
    a_lo, a_hi = tracks.amsl_lo[fix], tracks.amsl_hi[fix]
    box, lim = vols["box"][vol], vols["lim"][vol]
    near = (t >= lim[:, 2]) & (t <= lim[:, 3]) & (a_lo <= lim[:, 1]) & (a_hi >= lim[:, 0])
    near &= (lon >= box[:, 0]) & (lon <= box[:, 2]) & (lat >= box[:, 1]) & (lat <= box[:, 3])
    k = np.flatnonzero(near)
    inside = shapely.intersects_xy(vols["fp"][vol[k]], lon[k], lat[k])
    k = k[inside]
    sure = (a_lo[k] >= lim[k, 0]) & (a_hi[k] <= lim[k, 1])
    poss = np.zeros(len(tracks), bool)
    cert = np.zeros(len(tracks), bool)
    poss[fix[k]] = True
    cert[fix[k[sure]]] = True
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
    non_poss = non_cert = np.zeros(len(tracks), bool)
    obj = np.empty(nf, object)
    volumes: list[tuple[int, Volume4D]] = []
    for f, iid in enumerate(tracks.flights["intent_id"].tolist()):
        intent = intents.get(iid)
        obj[f] = iid
        if intent is not None and getattr(intent, "state", None) in ACCEPTED_STATES:
            has[f] = True
            volumes += [(f, v) for v in intent.volumes]  # type: ignore[attr-defined]
    with_intent = has[tracks.flight]
    if volumes:
        poss, cert = fixes_inside(tracks, volumes)
        non_poss = with_intent & ~cert
        non_cert = with_intent & ~poss
        conforming = np.bincount(tracks.flight[cert], minlength=nf).astype(np.int64)
    runs = mask_runs(tracks, non_poss, non_cert)
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
    "LIGHT_UAV_LIMIT_M",
    "RuleSettings",
    "fixes_inside",
    "height_rules",
    "intent_rules",
    "terminal_mask",
]
