"""The whole audit of Parquet track tables on a Dask cluster, as a ``dask.dataframe``.

Every row group of every log is one partition of a :mod:`dask.dataframe` (read on the
workers, each row numbered as the single-process reader numbers it, with its file). The
frame is shuffled on ``(flight_id, operator)``, so each partition holds whole flights, and
each partition is validated, normalised and audited on a worker
(:func:`~airgrid.audit.tables.validate_frame`, :func:`~airgrid.audit.tracks.normalise`,
:func:`~airgrid.audit.audit.audit_tracks`; the geofence index, DEM and geoid from the
worker's cache). The driver only orders the answers: violations by each flight's first
appearance (file, row), first time and rule, as :func:`~airgrid.audit.audit.run_audit`
orders them, so both give the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from airgrid.airspace.geofences.model import Geofence
from airgrid.airspace.grid.tiers import TierTable
from airgrid.audit.audit import AuditResult, audit_tracks
from airgrid.audit.cluster import worker_tools
from airgrid.audit.errors import LogError, RejectedRowsError
from airgrid.audit.rules import RuleSettings
from airgrid.audit.tables import OPTIONAL, REQUIRED, validate_frame
from airgrid.audit.tracks import ReadResult, Rejected, normalise

#: Bits of a flight's order key given to the row number (the file index takes the rest).
_ROW_BITS = 40


def _text_hash(col: pa.Array) -> np.ndarray:
    """uint64 per row: a hash of the stripped text (null as ``""``), equal in every process
    and partition for equal text; computed once per distinct value."""
    col = col if pa.types.is_dictionary(col.type) else col.dictionary_encode()
    values = np.array(
        [("" if v is None else str(v)).strip() for v in col.dictionary.to_pylist()] + [""],
        dtype=object,
    )
    codes = col.indices.fill_null(len(values) - 1).to_numpy(zero_copy_only=False)
    return pd.util.hash_array(values)[codes]


def _row_group(spec: tuple[str, int, int, int]) -> pd.DataFrame:
    """One row group of a log as a partition: lower-case columns, text as Arrow-backed
    strings, ``_flight`` (an integer hash of the stripped flight id and operator, the
    shuffle key), ``_file`` (index of the log) and ``_row`` (row number in the file, from 1)."""
    path, file_no, group, first_row = spec
    pf = pq.ParquetFile(path)
    want = [c for c in pf.schema_arrow.names if c.lower() in (*REQUIRED, *OPTIONAL)]
    text = [c for c in want if c.lower() in ("flight_id", "operator", "alt_ref", *OPTIONAL)]
    table = pf.read_row_group(group, columns=want)
    table = table.rename_columns([str(c).lower() for c in table.column_names])
    key = np.zeros(table.num_rows, np.uint64)
    for c, mix in (("flight_id", 1), ("operator", 0x9E3779B97F4A7C15)):
        if c in table.column_names:
            key ^= _text_hash(table.column(c).combine_chunks()) * np.uint64(mix)
    frame = table.to_pandas()
    for c in (c.lower() for c in text):
        frame[c] = frame[c].astype(pd.StringDtype("pyarrow")).fillna("")
    frame["_flight"] = key
    frame["_file"] = np.int64(file_no)
    frame["_row"] = np.arange(first_row, first_row + len(frame), dtype=np.int64)
    return frame


def _specs(paths: Sequence[str]) -> list[tuple[str, int, int, int]]:
    out = []
    for k, path in enumerate(paths):
        try:
            meta = pq.ParquetFile(path).metadata
        except (OSError, ValueError) as exc:
            raise LogError(f"{path}: not a readable Parquet table: {exc}") from None
        first = 1
        for g in range(meta.num_row_groups):
            out.append((path, k, g, first))
            first += meta.row_group(g).num_rows
    return out


def _audit_partition(
    frame: pd.DataFrame,
    paths: Sequence[str],
    tools: tuple[Sequence[Geofence], tuple[str, ...], str | None],
    tiers: TierTable,
    intents: Mapping[str, object] | None,
    settings: RuleSettings,
    window: tuple[float | None, float | None],
) -> dict[str, Any]:
    """Validate, normalise and audit the whole flights of one partition (on a worker)."""
    index, dem, geoid = worker_tools(*tools)
    frame = frame.sort_values(["_file", "_row"], kind="stable")
    parts: list[ReadResult] = []
    for k in np.unique(frame["_file"].to_numpy()).tolist():
        sub = frame[frame["_file"].to_numpy() == k]
        cols = {c: sub[c].reset_index(drop=True) for c in sub.columns if not c.startswith("_")}
        parts.append(validate_frame(paths[k], cols, sub["_row"].to_numpy(), "row"))
    out: dict[str, Any] = {
        "rejected": [r for p in parts for r in p.rejected],
        "n_rejected": sum(p.n_rejected for p in parts),
        "outside": 0,
        "violations": None,
        "operators": None,
    }
    if not parts or sum(len(p) for p in parts) == 0:
        return out
    tracks, out["outside"] = normalise(
        parts, dem=dem, geoid=geoid, t_from=window[0], t_to=window[1]
    )
    out["rejected"] = [r for p in parts for r in p.rejected]
    out["n_rejected"] = sum(p.n_rejected for p in parts)
    if len(tracks) == 0:
        return out
    v, ops = audit_tracks(tracks, index=index, tiers=tiers, intents=intents, settings=settings)
    # a flight's place in the single-process order: its first (file, row) over all its fixes
    file_no = np.repeat([paths.index(p.path) for p in parts], [len(p) for p in parts])
    rows = np.concatenate([p.columns["row"] for p in parts])
    first_key = _first_keys(tracks, parts, (file_no.astype(np.int64) << _ROW_BITS) + rows)
    fl = tracks.flights
    order_key = pd.Series(first_key, index=fl["flight_id"] + "\x00" + fl["operator"])
    v = v.assign(_key=order_key.loc[v["flight_id"] + "\x00" + v["operator"]].to_numpy())
    out["violations"], out["operators"] = v, ops
    return out


def _first_keys(tracks: Any, parts: Sequence[ReadResult], key_fix: np.ndarray) -> np.ndarray:
    """Smallest (file, row) key of each flight of ``tracks`` (``key_fix``: of every fix of
    the parts, end to end); grouped on each part's integer codes, strings per flight."""
    per_part, at = [], 0
    for p in parts:
        fid, op = p.columns["flight_id"], p.columns["operator"]
        n = len(p)
        least = (
            pd.DataFrame({"f": fid.codes, "o": op.codes, "key": key_fix[at : at + n]})
            .groupby(["f", "o"], sort=False)["key"]
            .min()
        )
        f, o = (least.index.get_level_values(k).to_numpy() for k in ("f", "o"))
        per_part.append(
            pd.DataFrame(
                {
                    "flight_id": np.asarray(fid.categories, dtype=object)[f],
                    "operator": np.asarray(op.categories, dtype=object)[o],
                    "key": least.to_numpy(),
                }
            )
        )
        at += n
    first = pd.concat(per_part).groupby(["flight_id", "operator"], sort=False)["key"].min()
    fl = tracks.flights
    return first.loc[list(zip(fl["flight_id"], fl["operator"]))].to_numpy()


def audit_parquet_on_cluster(
    paths: Sequence[str | Path],
    *,
    fences: Sequence[Geofence],
    dem_paths: Sequence[str | Path],
    geoid_path: str | Path | None = None,
    tiers: TierTable | None = None,
    intents: Mapping[str, object] | None = None,
    settings: RuleSettings | None = None,
    t_from: float | None = None,
    t_to: float | None = None,
    strict: bool = False,
    scheduler: str | None = None,
    workers: int = 2,
    partitions: int | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> AuditResult:
    """Audit Parquet track tables on a Dask cluster (see the module docstring).

    Parameters
    ----------
    paths
        Parquet track tables (see :mod:`~airgrid.audit.tables`).
    fences, dem_paths, geoid_path
        Geofences, DEM file(s) and geoid grid the workers build their tools from.
    tiers, intents, settings, t_from, t_to, strict
        As for :func:`~airgrid.audit.audit.run_audit`.
    scheduler
        Address of a running scheduler; None starts a local cluster of ``workers``
        processes on 127.0.0.1 for this call.
    partitions
        Partitions after the shuffle (default: four per worker).
    progress
        Called with ``(step, fraction)`` as partitions finish.

    Raises
    ------
    LogError
        A file is not Parquet, or no fix is left.
    RejectedRowsError
        ``strict`` and rows were rejected.
    """
    from dask.distributed import Client, LocalCluster

    names = [str(p) for p in paths]
    specs = _specs(names)
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
        )
    client = Client(scheduler or cluster)
    tools = (
        list(fences),
        tuple(str(p) for p in dem_paths),
        None if geoid_path is None else str(geoid_path),
    )
    args = (names, tools, tiers or TierTable(), intents, settings or RuleSettings(), (t_from, t_to))
    try:
        results = _compute(client, specs, args, partitions, progress or (lambda s, f: None))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return _merge(results, names, strict)


def _compute(
    client: Any,
    specs: list[tuple[str, int, int, int]],
    args: tuple,
    partitions: int | None,
    step: Callable[[str, float], None],
) -> list[dict[str, Any]]:
    """Build the frame, shuffle it by flight and audit each partition on the cluster."""
    import dask
    import dask.dataframe as dd
    from dask.distributed import as_completed

    n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
    frame = dd.from_map(_row_group, specs)
    frame = frame.shuffle(on="_flight", npartitions=partitions or 4 * n_workers)
    tasks = [dask.delayed(_audit_partition)(part, *args) for part in frame.to_delayed()]
    futures = client.compute(tasks)
    results = []
    for done, fut in enumerate(as_completed(futures), 1):
        results.append(fut.result())
        step(f"audited {done}/{len(futures)} partitions", done / len(futures))
    return results


def _merge(results: list[dict[str, Any]], names: list[str], strict: bool) -> AuditResult:
    """The partitions' answers in the single-process order."""
    rejected: list[Rejected] = sorted(
        (r for res in results for r in res["rejected"]), key=lambda r: (names.index(r.path), r.row)
    )
    n_rejected = sum(res["n_rejected"] for res in results)
    if strict and n_rejected:
        raise RejectedRowsError(f"{n_rejected} row(s) rejected; first: {rejected[0]}")
    got = [res for res in results if res["violations"] is not None]
    if not got:
        why = f"; first rejected: {rejected[0]}" if rejected else ""
        raise LogError(f"no usable fix in {len(names)} log(s) ({n_rejected} rejected){why}")
    v = pd.concat([res["violations"] for res in got], ignore_index=True)
    order = np.lexsort((v["rule"].to_numpy(str), v["t_first"].to_numpy(), v["_key"].to_numpy()))
    v = v.iloc[order].drop(columns="_key").reset_index(drop=True)
    ops = pd.concat([res["operators"] for res in got]).groupby("operator", as_index=False).sum()
    outside = sum(res["outside"] for res in results)
    return AuditResult(v, ops, rejected, n_rejected, outside, names)


__all__ = ["audit_parquet_on_cluster"]
