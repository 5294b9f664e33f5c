"""The whole audit: read logs, normalise, run every rule, attach the evidence.

Each violation row names the flight and operator, the rule, the object it breaks (a
geofence identifier, an intent id, a tier, a limit), its certainty, its F3548 state
(nonconformance only), the first and last fix (index within the flight, row in the file)
and time, its duration, its largest excess or depth in metres, and the H3 cell and voxel
id (``"<cell>:<layer>"`` on the flight's tier, the lowest tier for flights without one) of
its first fix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import h3
import numpy as np
import pandas as pd
import shapely

from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.grid.tiers import TierTable
from airgrid.audit.errors import LogError, RejectedRowsError
from airgrid.audit.fence_rule import fence_violations
from airgrid.audit.readers import read_log
from airgrid.audit.rules import RuleSettings, height_rules, intent_rules
from airgrid.audit.runs import CERTAIN, POSSIBLE, Found
from airgrid.audit.threads import together
from airgrid.audit.tracks import ReadResult, Rejected, Tracks, normalise
from airgrid.terrain import Dem
from airgrid.terrain.geoid import Geoid

#: Most fixes a violation's geometry goes through (evenly spaced, first and last included).
MAX_VERTICES = 64
#: Rules in report order.
RULES = (
    "geofence",
    "tier_band_above",
    "tier_band_below",
    "light_uav_limit",
    "terrain_clearance",
    "nonconformance",
    "no_accepted_intent",
)


@dataclass
class AuditResult:
    """What an audit found.

    Attributes
    ----------
    violations
        One row per violation (see the module docstring), with a ``geometry`` column of
        shapely geometries: the offending fixes as a line (through at most
        :data:`MAX_VERTICES` of them, evenly spaced, first and last included), or a point.
    operators
        Per operator: flights, fixes, flights and fixes under an accepted intent,
        certainly conforming fixes, fixes without a true height (not assessed).
    rejected
        Details of rejected rows (the first ones of each file).
    n_rejected
        Rejected rows in all.
    outside_window
        Fixes left out by the time window.
    files
        The logs read.
    """

    violations: pd.DataFrame
    operators: pd.DataFrame
    rejected: list[Rejected] = field(default_factory=list)
    n_rejected: int = 0
    outside_window: int = 0
    files: list[str] = field(default_factory=list)


def _flight_tiers(tracks: Tracks, tiers: TierTable, intents: Mapping[str, object]) -> np.ndarray:
    """Tier number of each flight (its intent's, else the log's), -1 for none or unknown."""
    out = np.full(tracks.n_flights, -1, np.int64)
    names = {t.name: i for i, t in enumerate(tiers)}
    fl = tracks.flights
    for f, (iid, tier) in enumerate(zip(fl["intent_id"].tolist(), fl["tier"].tolist())):
        intent = intents.get(iid)
        name = getattr(intent, "tier", None) or tier
        out[f] = names.get(name, -1)
    return out


def audit_tracks(
    tracks: Tracks,
    *,
    index: GeofenceIndex | None,
    tiers: TierTable,
    intents: Mapping[str, object] | None,
    settings: RuleSettings | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every rule over normalised tracks.

    Parameters
    ----------
    tracks
        The fixes.
    index
        Geofences (None: no geofence rule).
    tiers
        The tier table (bands and clearance).
    intents
        Intent id -> FlightIntent (None: no intent rules, e.g. no store given).
    settings
        Rule knobs.

    Returns
    -------
    violations, operators : pandas.DataFrame
        See :class:`AuditResult`.
    """
    settings = settings or RuleSettings()
    found, rest = Found(), Found()

    def fences() -> None:
        if index is not None and len(tracks):
            fence, runs = fence_violations(index, tracks)
            ids = np.array([g.identifier for g in index.geofences], dtype=object)
            found.add(tracks, "geofence", ids[fence], runs)

    def others() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        flight_tier = _flight_tiers(tracks, tiers, intents or {})
        height_rules(tracks, tiers, flight_tier, settings, rest)
        if intents is None:
            nf = tracks.n_flights
            return flight_tier, np.zeros(nf, bool), np.zeros(nf, np.int64)
        return flight_tier, *intent_rules(tracks, intents, settings, rest)

    # the geofence rule beside the others (its kernels and shapely release the GIL)
    (flight_tier, has, conforming), _ = together(others, fences)
    found.extend(rest)
    violations = _evidence(tracks, found.columns(), tiers, flight_tier)
    return violations, _operators(tracks, has, conforming)


def _evidence(
    tracks: Tracks, cols: dict, tiers: TierTable, flight_tier: np.ndarray
) -> pd.DataFrame:
    fl = tracks.flights
    f = cols["flight"]
    i0, i1 = cols["i0"], cols["i1"]
    start = tracks.start[f] if len(f) else np.empty(0, np.int64)
    tier_of = np.maximum(flight_tier[f], 0) if len(f) else np.empty(0, np.int64)
    res = np.array([t.resolution for t in tiers])[tier_of]
    thick = np.array([t.thickness_m for t in tiers])[tier_of]
    cells = np.array(
        [
            h3.latlng_to_cell(y, x, r)
            for y, x, r in zip(tracks.lat[i0].tolist(), tracks.lon[i0].tolist(), res.tolist())
        ],
        dtype=object,
    )
    layers = np.floor(tracks.amsl_lo[i0] / thick).astype(np.int64).astype(str)
    voxels = (cells.astype(str) + ":" + layers).astype(object) if len(f) else cells
    t0, t1 = cols["t0"], cols["t1"]
    return pd.DataFrame(
        {
            "flight_id": fl["flight_id"].to_numpy(object)[f],
            "operator": fl["operator"].to_numpy(object)[f],
            "rule": cols["rule"],
            "object_id": cols["object_id"],
            "certainty": np.where(cols["certain"], CERTAIN, POSSIBLE).astype(object),
            "state": cols["state"],
            "fix_first": i0 - start,
            "fix_last": i1 - start,
            "row_first": tracks.row[i0],
            "row_last": tracks.row[i1],
            "source": fl["source"].to_numpy(object)[f],
            "t_first": t0,
            "t_last": t1,
            "duration_s": t1 - t0,
            "max_excess_m": cols["excess"],
            "lat_first": tracks.lat[i0],
            "lon_first": tracks.lon[i0],
            "cell_first": cells,
            "voxel_first": voxels,
            "geometry": _geometries(tracks, i0, i1),
        }
    )


def _geometries(tracks: Tracks, i0: np.ndarray, i1: np.ndarray) -> np.ndarray:
    """Per violation, a point (one fix) or a line through at most MAX_VERTICES of its fixes."""
    m = np.minimum(i1 - i0 + 1, MAX_VERTICES)
    owner = np.repeat(np.arange(len(i0)), m)
    j = np.arange(owner.size) - np.repeat(np.cumsum(m) - m, m)
    span = (i1 - i0)[owner] / np.maximum(m[owner] - 1, 1)
    pick = i0[owner] + np.round(j * span).astype(np.int64)
    out = np.empty(len(i0), dtype=object)
    line = m > 1
    if line.any():
        keep = line[owner]
        xy = np.column_stack([tracks.lon[pick[keep]], tracks.lat[pick[keep]]])
        _, ids = np.unique(owner[keep], return_inverse=True)
        out[line] = shapely.linestrings(xy, indices=ids)
    out[~line] = shapely.points(tracks.lon[i0[~line]], tracks.lat[i0[~line]])
    return out


def _operators(tracks: Tracks, has: np.ndarray, conforming: np.ndarray) -> pd.DataFrame:
    fl = tracks.flights
    fixes = np.diff(tracks.start)
    unassessed = np.zeros(tracks.n_flights, np.int64)
    if tracks.n_flights:
        unassessed = np.add.reduceat(~np.isfinite(tracks.h_lo), tracks.start[:-1], dtype=np.int64)
    per = pd.DataFrame(
        {
            "operator": fl["operator"].to_numpy(object),
            "flights": 1,
            "fixes": fixes,
            "flights_with_intent": has.astype(np.int64),
            "fixes_with_intent": np.where(has, fixes, 0),
            "conforming_fixes": conforming,
            "unassessed_fixes": unassessed,
        }
    )
    return per.groupby("operator", as_index=False).sum()


def run_audit(
    paths: Sequence[str | Path],
    *,
    index: GeofenceIndex | None,
    dem: Dem | None,
    geoid: Geoid | None,
    tiers: TierTable | None = None,
    intents: Mapping[str, object] | None = None,
    t_from: float | None = None,
    t_to: float | None = None,
    settings: RuleSettings | None = None,
    strict: bool = False,
    operator: str = "unknown",
    progress: Callable[[str, float], None] | None = None,
    executor: Callable[[Tracks], tuple[pd.DataFrame, pd.DataFrame]] | None = None,
) -> AuditResult:
    """Read flight logs and audit them (see :func:`audit_tracks`).

    Parameters
    ----------
    paths
        Log files (see :func:`~airgrid.audit.readers.read_log`).
    strict
        Refuse the audit if any row is rejected.
    operator
        Operator of logs that name none (ULog).
    progress
        Called with ``(step, fraction)``.
    executor
        Runs the rules over the normalised tracks instead of :func:`audit_tracks` in this
        process (e.g. :func:`~airgrid.audit.cluster.audit_on_cluster` bound to a cluster).

    Raises
    ------
    LogError
        A file cannot be read, or no fix is left.
    RejectedRowsError
        ``strict`` and rows were rejected.
    """
    step = progress or (lambda s, f: None)
    parts: list[ReadResult] = []
    for k, p in enumerate(paths):
        step(f"reading {Path(p).name}", k / max(len(paths), 1) * 0.4)
        parts.append(read_log(p, operator=operator))
    step("normalising altitudes", 0.4)
    tracks, outside = normalise(parts, dem=dem, geoid=geoid, t_from=t_from, t_to=t_to)
    rejected = [r for p in parts for r in p.rejected]
    n_rejected = sum(p.n_rejected for p in parts)
    if strict and n_rejected:
        raise RejectedRowsError(f"{n_rejected} row(s) rejected; first: {rejected[0]}")
    if len(tracks) == 0:
        why = f"; first rejected: {rejected[0]}" if rejected else ""
        raise LogError(f"no usable fix in {len(parts)} log(s) ({n_rejected} rejected){why}")
    step("auditing", 0.5)
    if executor is not None:
        violations, operators = executor(tracks)
    else:
        violations, operators = audit_tracks(
            tracks, index=index, tiers=tiers or TierTable(), intents=intents, settings=settings
        )
    step("done", 1.0)
    return AuditResult(
        violations, operators, rejected, n_rejected, outside, [str(p) for p in paths]
    )


__all__ = ["RULES", "AuditResult", "audit_tracks", "run_audit"]
