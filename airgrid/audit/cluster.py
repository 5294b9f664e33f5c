"""The audit's rules on a Dask cluster: whole flights per task.

Every rule looks at one flight at a time (runs never cross flights), so normalised tracks
split at flight boundaries into chunks of about equal numbers of fixes, each audited by
:func:`~airgrid.audit.audit.audit_tracks` on a worker, give exactly the single-process
violations. Workers build the geofence index and open the DEM once per process (cached by
the geofence identifiers and DEM paths); geofences, tiers, settings and each chunk's own
intents travel with the tasks.

Without a scheduler address a local cluster of worker *processes* on 127.0.0.1 is started
for the audit and closed after it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.geofences.model import Geofence
from airgrid.airspace.grid.tiers import TierTable
from airgrid.audit.audit import audit_tracks
from airgrid.audit.rules import RuleSettings
from airgrid.audit.tracks import Tracks
from airgrid.terrain import Dem
from airgrid.terrain.geoid import Geoid

if TYPE_CHECKING:
    from dask.distributed import Client, Future

_WORKER_CACHE: dict[tuple, tuple[GeofenceIndex | None, Dem, Geoid | None]] = {}


def worker_tools(
    fences: Sequence[Geofence], dem_paths: Sequence[str], geoid_path: str | None = None
) -> tuple[GeofenceIndex | None, Dem, Geoid | None]:
    """The geofence index, DEM and geoid of this process (built once per process and key).

    ``geoid_path`` None gives no geoid (the chunks arrive normalised); ``""`` the default.
    """
    key = (tuple(g.identifier for g in fences), len(fences), tuple(dem_paths), geoid_path)
    if key not in _WORKER_CACHE:
        dem = Dem.open([Path(p) for p in dem_paths])
        index = GeofenceIndex(fences, dem=dem) if fences else None
        geoid = None if geoid_path is None else Geoid(geoid_path or None)
        _WORKER_CACHE[key] = (index, dem, geoid)
    return _WORKER_CACHE[key]


def split_tracks(tracks: Tracks, chunks: int) -> list[Tracks]:
    """Tracks cut at flight boundaries into at most ``chunks`` parts of about equal fixes."""
    n = len(tracks)
    if n == 0:
        return []
    want = np.linspace(0, n, max(chunks, 1) + 1)[1:-1]
    cuts = np.unique(np.concatenate([[0], tracks.start[np.searchsorted(tracks.start, want)], [n]]))
    cuts = np.unique(np.clip(cuts, 0, n))
    out = []
    for s, e in zip(cuts[:-1].tolist(), cuts[1:].tolist()):
        f0, f1 = int(tracks.flight[s]), int(tracks.flight[e - 1]) + 1
        out.append(
            Tracks(
                flight=tracks.flight[s:e] - f0,
                t=tracks.t[s:e],
                lat=tracks.lat[s:e],
                lon=tracks.lon[s:e],
                amsl_lo=tracks.amsl_lo[s:e],
                amsl_hi=tracks.amsl_hi[s:e],
                h_lo=tracks.h_lo[s:e],
                h_hi=tracks.h_hi[s:e],
                row=tracks.row[s:e],
                flights=tracks.flights.iloc[f0:f1].reset_index(drop=True),
                start=tracks.start[f0 : f1 + 1] - s,
            )
        )
    return out


def _audit_chunk(
    chunk: Tracks,
    fences: list[Geofence],
    dem_paths: tuple[str, ...],
    tiers: TierTable,
    intents: Mapping[str, object] | None,
    settings: RuleSettings,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One chunk on a worker (index and DEM from the worker's cache)."""
    index, _, _ = worker_tools(fences, dem_paths)
    return audit_tracks(chunk, index=index, tiers=tiers, intents=intents, settings=settings)


def _submit(
    client: Client,
    parts: list[Tracks],
    fences: Sequence[Geofence],
    dem_paths: Sequence[str | Path],
    tiers: TierTable,
    intents: Mapping[str, object] | None,
    settings: RuleSettings,
) -> list[Future]:
    """One audit task per chunk, in chunk order; each carries only its flights' intents."""
    fence_list = client.scatter(list(fences), broadcast=True)
    paths = tuple(str(p) for p in dem_paths)
    data = client.scatter(parts)  # chunks travel as data, not inside the task graph
    submitted = []
    for part, ref in zip(parts, data, strict=True):
        own = None
        if intents is not None:
            ids = part.flights["intent_id"].tolist()
            own = {i: intents[i] for i in ids if i in intents}
        submitted.append(
            client.submit(_audit_chunk, ref, fence_list, paths, tiers, own, settings, pure=False)
        )
    return submitted


def audit_on_cluster(
    tracks: Tracks,
    *,
    fences: Sequence[Geofence],
    dem_paths: Sequence[str | Path],
    tiers: TierTable,
    intents: Mapping[str, object] | None,
    settings: RuleSettings | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    chunks: int | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`~airgrid.audit.audit.audit_tracks` with flights spread over a Dask cluster.

    Parameters
    ----------
    tracks
        Normalised fixes.
    fences, dem_paths
        Geofences and the DEM file(s) the workers build their index on.
    tiers, intents, settings
        As for :func:`~airgrid.audit.audit.audit_tracks`.
    scheduler
        Address of a running scheduler (``tcp://host:8786``); None starts a local cluster
        of ``workers`` processes on 127.0.0.1 for this call.
    chunks
        Tasks (default: four per worker).
    progress
        Called with ``(step, fraction)`` as chunks finish.

    Returns
    -------
    violations, operators : pandas.DataFrame
        Equal to the single-process answer (violations ordered by flight, time, rule).
    """
    from dask.distributed import Client, LocalCluster, as_completed

    settings = settings or RuleSettings()
    step = progress or (lambda s, f: None)
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    client = Client(scheduler or cluster)
    try:
        n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
        parts = split_tracks(tracks, chunks or 4 * n_workers)
        submitted = _submit(client, parts, fences, dem_paths, tiers, intents, settings)
        chunk_of = {fut.key: k for k, fut in enumerate(submitted)}
        results: list[tuple[pd.DataFrame, pd.DataFrame] | None] = [None] * len(parts)
        for done, fut in enumerate(as_completed(submitted), 1):
            results[chunk_of[fut.key]] = fut.result()
            step(f"audited {done}/{len(parts)} chunks", 0.5 + 0.5 * done / len(parts))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    got = [r for r in results if r is not None]
    if not got:
        return audit_tracks(tracks, index=None, tiers=tiers, intents=intents, settings=settings)
    violations = pd.concat([v for v, _ in got], ignore_index=True)
    operators = pd.concat([o for _, o in got]).groupby("operator", as_index=False).sum()
    return violations, operators


__all__ = ["audit_on_cluster", "split_tracks", "worker_tools"]
