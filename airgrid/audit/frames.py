"""The whole audit of Parquet track tables on a Dask cluster, whole flights per task.

Every rule looks at one flight at a time, so row groups that share no flight can be read
and audited apart. The driver reads only the ``flight_id`` and ``operator`` columns and
joins the row groups that share a flight (an integer hash of the stripped flight id and
operator) into units (:func:`plan_tasks`). Small units are packed into one task; a unit
larger than a task's share of the rows becomes up to one task per worker, each reading
the whole unit and keeping one bucket of its flights (by that hash). A task reads,
validates, normalises and audits its fixes on a worker
(:func:`~airgrid.audit.tables.validate_table`, :func:`~airgrid.audit.tracks.normalise`,
:func:`~airgrid.audit.audit.audit_tracks`; the geofence index, DEM and geoid from the
worker's cache) and sends back only its violations, rejected rows and per-operator counts:
no fix travels between processes. The driver orders the answers: violations by each
flight's first appearance (file, row), first time and rule, as
:func:`~airgrid.audit.audit.run_audit` orders them, so both give the same rows.
"""

from __future__ import annotations

import pickle
import uuid
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
from airgrid.audit.tables import parquet_table, validate_table
from airgrid.audit.tracks import ReadResult, Rejected, normalise

#: Bits of a flight's order key given to the row number (the file index takes the rest).
_ROW_BITS = 40
#: A task: row groups as (file index, group), and (buckets, bucket) of the flights it keeps.
Task = tuple[list[tuple[int, int]], tuple[int, int]]
#: This worker process's shared arguments of the audit it last ran, by token.
_SHARED: dict[str, tuple] = {}


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


def flight_keys(table: pa.Table) -> np.ndarray:
    """uint64 per row: a hash of the stripped flight id and operator (the columns found,
    names case-insensitive)."""
    key = np.zeros(table.num_rows, np.uint64)
    names = {str(c).lower(): c for c in table.column_names}
    for c, mix in (("flight_id", 1), ("operator", 0x9E3779B97F4A7C15)):
        if c in names:
            for chunk, at in _chunks(table.column(names[c])):
                key[at : at + len(chunk)] ^= _text_hash(chunk) * np.uint64(mix)
    return key


def _chunks(col: pa.ChunkedArray) -> list[tuple[pa.Array, int]]:
    at = np.concatenate([[0], np.cumsum([len(c) for c in col.chunks])]).tolist()
    return list(zip(col.chunks, at))


def _group_keys(path: str) -> list[tuple[int, np.ndarray]]:
    """Rows and distinct flight keys of each row group of a log."""
    try:
        pf = pq.ParquetFile(path)
        cols = [c for c in pf.schema_arrow.names if c.lower() in ("flight_id", "operator")]
        pf = pq.ParquetFile(path, read_dictionary=cols, memory_map=True, pre_buffer=False)
        groups = [pf.read_row_group(g, columns=cols) for g in range(pf.num_row_groups)]
        sizes = [pf.metadata.row_group(g).num_rows for g in range(pf.num_row_groups)]
    except (pa.ArrowInvalid, OSError) as exc:
        raise LogError(f"{path}: not a readable Parquet table: {exc}") from None
    return [(n, pd.unique(flight_keys(t))) for n, t in zip(sizes, groups)]


def plan_tasks(paths: Sequence[str], tasks: int, workers: int) -> list[Task]:
    """Units of row groups sharing no flight with any other unit, as tasks.

    Units are packed into about ``tasks`` tasks of about equal rows in file order; a
    unit above a task's share is split into ``min(workers, rows / share)`` buckets of
    its flights (each bucket's task reads the whole unit and keeps its own flights).
    """
    groups: list[tuple[int, int]] = []
    sizes: list[int] = []
    keys: list[np.ndarray] = []
    for k, path in enumerate(paths):
        for g, (n, got) in enumerate(_group_keys(path)):
            groups.append((k, g))
            sizes.append(n)
            keys.append(got)
    parent = list(range(len(groups)))

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    if groups:
        owner = np.repeat(np.arange(len(groups)), [len(k) for k in keys])
        flat = np.concatenate(keys)
        order = np.argsort(flat, kind="stable")
        flat, owner = flat[order], owner[order]
        same = np.flatnonzero(flat[1:] == flat[:-1])
        for a, b in zip(owner[same].tolist(), owner[same + 1].tolist()):
            parent[root(a)] = root(b)
    units: dict[int, list[int]] = {}
    for g in range(len(groups)):
        units.setdefault(root(g), []).append(g)
    share = max(sum(sizes) / max(tasks, 1), 1.0)
    out: list[Task] = []
    pack: list[int] = []
    rows = 0
    for unit in units.values():
        n = sum(sizes[g] for g in unit)
        if pack and rows + n > share:
            out.append(([groups[g] for g in pack], (1, 0)))
            pack, rows = [], 0
        if n > share:
            split = int(min(max(workers, 1), np.ceil(n / share)))
            out += [([groups[g] for g in unit], (split, b)) for b in range(split)]
            continue
        pack += unit
        rows += n
    if pack:
        out.append(([groups[g] for g in pack], (1, 0)))
    return out


def _read_task(paths: Sequence[str], task: Task) -> list[ReadResult]:
    """The fixes of a task, one read result per log (rows keep their numbers)."""
    groups, (buckets, bucket) = task
    parts = []
    for k in sorted({f for f, _ in groups}):
        table, rows = parquet_table(paths[k], [g for f, g in groups if f == k])
        if buckets > 1:
            mine = flight_keys(table) % np.uint64(buckets) == bucket
            table, rows = table.filter(pa.array(mine)), rows[mine]
        parts.append(validate_table(paths[k], table, rows))
    return parts


def _run_task(task: Task, token: str, blob: bytes) -> dict[str, Any]:
    """:func:`_audit_task` with the shared arguments of audit ``token`` (pickled in
    ``blob``), unpickled once per process and audit (the last audit's are kept)."""
    args = _SHARED.get(token)
    if args is None:
        _SHARED.clear()
        args = _SHARED[token] = pickle.loads(blob)
    return _audit_task(task, *args)


def _audit_task(
    task: Task,
    paths: Sequence[str],
    tools: tuple[Sequence[Geofence], tuple[str, ...], str | None],
    tiers: TierTable,
    intents: Mapping[str, object] | None,
    settings: RuleSettings,
    window: tuple[float | None, float | None],
) -> dict[str, Any]:
    """Read, validate, normalise and audit the whole flights of one task (on a worker)."""
    index, dem, geoid = worker_tools(*tools)
    parts = _read_task(paths, task)
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
        Tasks (default: four per worker; see :func:`plan_tasks`).
    progress
        Called with ``(step, fraction)`` as tasks finish.

    Raises
    ------
    LogError
        A file is not Parquet, or no fix is left.
    RejectedRowsError
        ``strict`` and rows were rejected.
    """
    from dask.distributed import Client, LocalCluster

    names = [str(p) for p in paths]
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
        results = _compute(client, args, partitions, progress or (lambda s, f: None))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return _merge(results, names, strict)


def _compute(
    client: Any,
    args: tuple,
    partitions: int | None,
    step: Callable[[str, float], None],
) -> list[dict[str, Any]]:
    """Plan the tasks and run them on the cluster.

    The arguments every task shares (geofences, intents, ...) are pickled once here and
    the bytes scattered to every worker, which unpickles them once per audit.
    """
    from dask.distributed import as_completed

    n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
    tasks = plan_tasks(args[0], partitions or 4 * n_workers, n_workers)
    token = uuid.uuid4().hex
    [blob] = client.scatter([pickle.dumps(args, protocol=5)], broadcast=True, hash=False)
    futures = [client.submit(_run_task, task, token, blob, pure=False) for task in tasks]
    results = []
    for done, fut in enumerate(as_completed(futures), 1):
        results.append(fut.result())
        step(f"audited {done}/{len(futures)} tasks", done / len(futures))
    return results


def _merge(results: list[dict[str, Any]], names: list[str], strict: bool) -> AuditResult:
    """The tasks' answers in the single-process order."""
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


__all__ = ["audit_parquet_on_cluster", "flight_keys", "plan_tasks"]
