"""The audit on a real local Dask cluster (scheduler and two worker processes on 127.0.0.1)
gives exactly the single-process violations."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from airgrid.airspace.geofences.airports import airport_zones
from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.grid.tiers import TierTable
from airgrid.airspace.traffic.models import FlightIntent, IntentState
from airgrid.audit import cluster
from airgrid.audit.audit import audit_tracks
from airgrid.audit.cluster import audit_on_cluster, split_tracks
from airgrid.audit.tracks import AltRef
from airgrid.data import DEFAULT_DEM
from airgrid.geo.volumes import Volume4D
from tests.audit.conftest import SQUARE, T0, fixes
from tests.audit.test_rules import square_fence

distributed = pytest.importorskip("distributed")


def _traffic(n_flights: int = 24):
    rng = np.random.default_rng(3)
    parts, intents = [], {}
    for f in range(n_flights):
        k = np.arange(120)
        lat = 28.05 + rng.uniform(0, 0.1) + 1e-4 * k * rng.uniform(-1, 1)
        lon = 112.85 + rng.uniform(0, 0.1) + 1e-4 * k * rng.uniform(-1, 1)
        h = rng.uniform(20, 160) + 0 * k
        parts.append(fixes(f"F{f}", T0 + k, lat, lon, h, AltRef.AGL, operator=f"Op{f % 3}"))
        if f % 4:
            vol = Volume4D(shapely.Polygon(SQUARE), 0.0, 3000.0, T0, T0 + 90)
            intents[f"F{f}"] = FlightIntent(
                f"F{f}", f"Op{f % 3}", 10, "T1", (vol,), IntentState.ACCEPTED
            )
    return parts, intents


def test_split_keeps_flights_whole(make_tracks):
    parts, _ = _traffic(10)
    tracks = make_tracks(*parts)
    chunks = split_tracks(tracks, 4)
    assert len(chunks) == 4 and sum(len(c) for c in chunks) == len(tracks)
    ids = [fid for c in chunks for fid in c.flights["flight_id"]]
    assert ids == tracks.flights["flight_id"].tolist()
    assert all(c.start[0] == 0 and c.start[-1] == len(c) for c in chunks)


def test_local_cluster_matches_single_process(make_tracks, real_dem):
    parts, intents = _traffic()
    tracks = make_tracks(*parts)
    fences = [square_fence(), *airport_zones()]
    tiers = TierTable()
    one, ops_one = audit_tracks(
        tracks, index=GeofenceIndex(fences, dem=real_dem), tiers=tiers, intents=intents
    )
    many, ops_many = audit_on_cluster(
        tracks,
        fences=fences,
        dem_paths=[DEFAULT_DEM],
        tiers=tiers,
        intents=intents,
        workers=2,
        chunks=5,
    )
    assert len(one) > 20 and set(one["rule"]) >= {
        "geofence",
        "nonconformance",
        "no_accepted_intent",
    }
    geo = shapely.equals(one.pop("geometry").to_numpy(), many.pop("geometry").to_numpy())
    assert geo.all()
    assert one.equals(many)
    assert ops_one.equals(ops_many)
    assert cluster._WORKER_CACHE == {}  # every chunk ran in a worker process


def test_dask_dataframe_over_parquet_partitions_matches_single_process(tmp_path, real_dem):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from airgrid.audit.audit import run_audit
    from airgrid.audit.frames import audit_parquet_on_cluster
    from airgrid.terrain.geoid import Geoid

    parts, intents = _traffic(12)
    paths = []
    for k in range(2):  # two logs, flights interleaved so they span row groups
        cols = [p.columns for p in parts[k * 6 : (k + 1) * 6]]
        order = np.argsort(np.concatenate([c["t"] for c in cols]), kind="stable")
        frame = {
            "flight_id": np.concatenate([np.asarray(c["flight_id"]) for c in cols])[order],
            "operator": np.concatenate([np.asarray(c["operator"]) for c in cols])[order],
            "time": np.concatenate([c["t"] for c in cols])[order],
            "lat": np.concatenate([c["lat"] for c in cols])[order],
            "lon": np.concatenate([c["lon"] for c in cols])[order],
            "alt": np.concatenate([c["alt"] for c in cols])[order],
            "alt_ref": np.full(len(order), "AGL", object),
        }
        frame["lat"][[5, 400]] = 95.0  # two malformed rows
        paths.append(tmp_path / f"log{k}.parquet")
        pq.write_table(pa.table(frame), paths[-1], row_group_size=100)
    fences = [square_fence(), *airport_zones()]
    one = run_audit(
        paths,
        index=GeofenceIndex(fences, dem=real_dem),
        dem=real_dem,
        geoid=Geoid(),
        intents=intents,
    )
    many = audit_parquet_on_cluster(
        paths, fences=fences, dem_paths=[DEFAULT_DEM], geoid_path="", intents=intents, workers=2
    )
    v1, v2 = one.violations, many.violations
    assert len(v1) > 20 and v1["flight_id"].nunique() > 6
    assert shapely.equals(v1.pop("geometry").to_numpy(), v2.pop("geometry").to_numpy()).all()
    assert v1.equals(v2)
    assert one.operators.equals(many.operators)
    assert many.n_rejected == one.n_rejected == 4
    assert [(r.path, r.row, r.field) for r in many.rejected] == [
        (r.path, r.row, r.field) for r in one.rejected
    ]


def test_plan_tasks_keeps_flights_whole(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from airgrid.audit.frames import plan_tasks

    def log(name: str, flights: list[str]) -> str:
        n = len(flights)
        table = pa.table(
            {"flight_id": flights, "operator": ["Op"] * n, "time": np.arange(n, dtype=float)}
        )
        pq.write_table(table, tmp_path / name, row_group_size=4)
        return str(tmp_path / name)

    apart = log("apart.parquet", ["A"] * 4 + ["B"] * 4 + ["C"] * 4 + [" C"] * 4)
    # one task per row group, but C (stripped) spans the last two
    assert plan_tasks([apart], 4, 2) == [
        ([(0, 0)], (1, 0)),
        ([(0, 1)], (1, 0)),
        ([(0, 2), (0, 3)], (2, 0)),
        ([(0, 2), (0, 3)], (2, 1)),
    ]
    mixed = log("mixed.parquet", ["A", "B"] * 8)
    # every row group holds both flights: one unit, split into one bucket per worker
    assert plan_tasks([mixed], 4, 2) == [
        ([(0, g) for g in range(4)], (2, 0)),
        ([(0, g) for g in range(4)], (2, 1)),
    ]
    assert plan_tasks([apart], 1, 2) == [([(0, g) for g in range(4)], (1, 0))]
