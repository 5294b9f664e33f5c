"""Work split over threads: spans, running calls together, and a whole audit split over
two threads against the same audit run in one (every split kernel on spans of a few fixes)."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from airgrid.airspace.geofences.airports import airport_zones
from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.grid.tiers import TierTable
from airgrid.airspace.traffic.models import FlightIntent, IntentState
from airgrid.audit import threads
from airgrid.audit.audit import run_audit
from airgrid.audit.io_kernels import join_features
from airgrid.audit.report import write_results
from airgrid.geo.volumes import Volume4D
from airgrid.terrain.geoid import Geoid
from tests.audit.conftest import T0


@given(n=st.integers(0, 1000), parts=st.integers(1, 8))
def test_spans_cover_the_range_in_order(n: int, parts: int) -> None:
    got = threads.spans(n, parts)
    assert got[0][0] == 0 and got[-1][1] == n
    assert all(a[1] == b[0] for a, b in itertools.pairwise(got))
    assert len(got) == max(min(parts, n), 1)
    assert all(b > a for a, b in got) or n == 0


def test_together_returns_in_order_and_raises_after_all_end(monkeypatch) -> None:
    monkeypatch.setattr(threads, "WORKERS", 2)
    assert threads.together(lambda: 1, lambda: 2, lambda: 3) == [1, 2, 3]
    done = []

    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        threads.together(fail, lambda: done.append(1))
    assert done == [1]


def test_over_spans_passes_each_span_once(monkeypatch) -> None:
    monkeypatch.setattr(threads, "WORKERS", 2)
    assert threads.over_spans(lambda a, b: (a, b), 10, min_span=1) == [(0, 5), (5, 10)]
    assert threads.over_spans(lambda a, b: (a, b), 10, min_span=6) == [(0, 10)]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=6), st.binary(max_size=6)), max_size=6))
def test_join_features_equals_a_plain_join(items: list[tuple[bytes, bytes]]) -> None:
    def ends(texts: list[bytes]) -> np.ndarray:
        return np.concatenate([[0], np.cumsum([len(x) for x in texts])]).astype(np.int64)

    def arr(b: bytes) -> np.ndarray:
        return np.frombuffer(b, np.uint8)

    geom, props = [g for g, _ in items], [p for _, p in items]
    want = b";".join(b"<" + g + b"|" + p + b">" for g, p in items)
    out = np.zeros(len(want) + 5, np.uint8)
    n = join_features(
        arr(b"".join(geom)), ends(geom), arr(b"".join(props)), ends(props),
        arr(b"<"), arr(b"|"), arr(b">"), arr(b";"), out,
    )  # fmt: skip
    assert out[:n].tobytes() == want


def _log(path, rng: np.random.Generator) -> dict[str, FlightIntent]:
    """Flights crossing the first airport zone (AMSL, a few AGL), half with an intent that
    they leave; written to Parquet."""
    centre = airport_zones()[0].footprint.centroid
    rows, intents = [], {}
    for f in range(40):
        n = int(rng.integers(20, 200))
        lat = centre.y + rng.uniform(-0.05, 0.05) + np.cumsum(rng.normal(0, 0.002, n))
        lon = centre.x + rng.uniform(-0.05, 0.05) + np.cumsum(rng.normal(0, 0.002, n))
        alt = np.clip(50 + np.cumsum(rng.normal(0, 30, n)), 0, 2000)
        t = T0 + rng.uniform(0, 3600) + np.arange(n) * 5.0
        ref = "AGL" if f % 7 == 0 else "AMSL"
        rows.append((f"F{f}", f"Op{f % 3}", t, lat, lon, alt, ref))
        if f % 2:
            box = shapely.box(lon[: n // 2].min(), lat[: n // 2].min(), lon.max(), lat.max())
            vol = Volume4D(box, 0.0, 1500.0, float(t[0]), float(t[-1]))
            intents[f"F{f}"] = FlightIntent(
                f"F{f}", f"Op{f % 3}", 10, "T2", (vol,), IntentState.ACTIVATED
            )
    table = pa.table(
        {
            "flight_id": [r[0] for r in rows for _ in r[2]],
            "operator": [r[1] for r in rows for _ in r[2]],
            "time": np.concatenate([r[2] for r in rows]),
            "lat": np.concatenate([r[3] for r in rows]),
            "lon": np.concatenate([r[4] for r in rows]),
            "alt": np.concatenate([r[5] for r in rows]),
            "alt_ref": [r[6] for r in rows for _ in r[2]],
        }
    )
    pq.write_table(table, path)
    return intents


def test_an_audit_split_over_threads_equals_one_in_a_single_thread(
    tmp_path, real_dem, monkeypatch
) -> None:
    index = GeofenceIndex(airport_zones(), dem=real_dem)
    intents = _log(tmp_path / "log.parquet", np.random.default_rng(5))

    def audit(workers: int):
        monkeypatch.setattr(threads, "WORKERS", workers)
        monkeypatch.setattr(threads, "MIN_SPAN", 1)
        return run_audit(
            [tmp_path / "log.parquet"], index=index, dem=real_dem, geoid=Geoid(),
            tiers=TierTable(), intents=intents,
        )  # fmt: skip

    one, two = audit(1), audit(2)
    assert len(one.violations) > 20
    assert set(one.violations["rule"]) >= {"geofence", "nonconformance", "no_accepted_intent"}
    pd_one, pd_two = (r.violations.drop(columns="geometry") for r in (one, two))
    assert pd_one.equals(pd_two)
    assert shapely.equals_exact(
        one.violations["geometry"].to_numpy(), two.violations["geometry"].to_numpy()
    ).all()
    assert one.operators.equals(two.operators)
    out_one, out_two = write_results(one, tmp_path / "one"), write_results(two, tmp_path / "two")
    for kind in ("parquet", "geojson", "summary", "html"):
        assert out_one[kind].read_bytes() == out_two[kind].read_bytes(), kind
