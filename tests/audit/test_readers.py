"""Flight-log readers: every format into one columnar form, bad rows named, never skipped silently."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from airgrid.audit.errors import LogError
from airgrid.audit.readers import read_log
from airgrid.audit.tracks import AltRef, normalise
from airgrid.terrain import box_ground_bounds
from airgrid.terrain.geoid import Geoid
from tests.audit.ulog_writer import write_ulog

T0 = datetime(2025, 3, 3, 8, tzinfo=UTC).timestamp()

GOOD_AND_BAD_CSV = """flight_id,operator,time,lat,lon,alt,alt_ref
F1,OpA,2025-03-03T08:00:00Z,28.1,112.9,150,AMSL
F1,OpA,1740988801,28.1001,112.9,150,amsl
F1,OpA,2025-03-03T08:00:02,28.1,112.9,150,AMSL
F1,,1740988803,28.1,112.9,150,AMSL
F1,OpA,1740988804,95,112.9,150,AMSL
F1,OpA,1740988805,28.1
F1,OpA,1740988806,28.1,112.9,50,AGL
F1,OpA,1740988807,28.1,112.9,50,XYZ
F1,OpA,1740988808,28.1,112.9,abc,AMSL
"""


def test_csv_rejects_each_bad_row_with_line_and_field(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text(GOOD_AND_BAD_CSV)
    r = read_log(p)
    assert r.n_rejected == 6
    assert [(x.row, x.field) for x in r.rejected] == [
        (4, "time"),  # no UTC offset
        (5, "operator"),
        (6, "lat"),
        (7, "(row)"),  # too few fields
        (9, "alt_ref"),
        (10, "alt"),
    ]
    assert all(str(x).startswith(f"{p}: line {x.row}: ") for x in r.rejected)
    assert r.columns["row"].tolist() == [2, 3, 8]
    assert r.columns["t"].tolist() == [T0, T0 + 1, T0 + 6]
    assert r.columns["ref"].tolist() == [AltRef.AMSL, AltRef.AMSL, AltRef.AGL]


def test_csv_missing_column_is_a_log_error(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("flight_id,operator,time,lat,lon,alt\nF,O,1,2,3,4\n")
    with pytest.raises(LogError, match=r"missing column.*alt_ref"):
        read_log(p)


def test_unknown_suffix_and_missing_file(tmp_path):
    (tmp_path / "x.txt").write_text("flight_id\n")
    with pytest.raises(LogError, match="unknown log format"):
        read_log(tmp_path / "x.txt")
    with pytest.raises(LogError, match="no such file"):
        read_log(tmp_path / "nope.csv")


def test_parquet_rows_nulls_and_time_zones(tmp_path):
    df = pd.DataFrame(
        {
            "flight_id": ["A", "A", None, "A"],
            "operator": ["O", "O", "O", "O"],
            "time": pd.to_datetime([T0, T0 + 1, T0 + 2, T0 + 3], unit="s", utc=True),
            "lat": [28.0, 28.0, 28.0, np.nan],
            "lon": [112.0] * 4,
            "alt": [100.0] * 4,
            "alt_ref": ["W84"] * 4,
            "intent_id": ["I-1"] * 4,
        }
    )
    p = tmp_path / "t.parquet"
    df.to_parquet(p)
    r = read_log(p)
    assert [(x.row, x.field) for x in r.rejected] == [(3, "flight_id"), (4, "lat")]
    assert r.columns["t"].tolist() == [T0, T0 + 1]
    assert r.columns["intent_id"].tolist() == ["I-1", "I-1"]
    naive = df.assign(time=pd.to_datetime([T0] * 4, unit="s"))
    naive.to_parquet(p)
    r = read_log(p)
    assert [x.field for x in r.rejected] == ["time", "time", "flight_id", "time"]


def _feature(fid, coords, times, **props):
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": coords},
        "properties": {
            "flight_id": fid,
            "operator": "Op",
            "alt_ref": "AGL",
            "times": times,
            **props,
        },
    }


def test_geojson_linestring_z_with_times(tmp_path):
    doc = {
        "type": "FeatureCollection",
        "features": [
            _feature(
                "G1",
                [[112.9, 28.1, 50], [112.91, 28.1, 60], [112.92, 28.1]],
                [T0, "2025-03-03T08:00:01Z", T0 + 2],
            ),
            _feature("G2", [[112.9, 28.1, 50], [112.91, 28.1, 60]], [T0]),  # times too short
        ],
    }
    p = tmp_path / "t.geojson"
    p.write_text(json.dumps(doc))
    r = read_log(p)
    assert r.columns["t"].tolist() == [T0, T0 + 1]
    assert r.columns["ref"].tolist() == [AltRef.AGL] * 2
    assert [(x.where, x.field) for x in r.rejected] == [
        ("feature 0 vertex 2", "coordinates"),
        ("feature 1 vertex 0", "times"),
        ("feature 1 vertex 1", "times"),
    ]
    assert r.n_rejected == 3


GP = [("uint64_t", "timestamp"), ("double", "lat"), ("double", "lon"), ("float", "alt")]
GPS = [("uint64_t", "timestamp"), ("uint64_t", "time_utc_usec")]


def test_ulog_is_anchored_to_gnss_time(tmp_path):
    utc0 = int(T0 * 1e6)
    rows = [(1_000_000 * i, 28.1 + i * 1e-4, 112.9, 150.0) for i in range(1, 6)]
    rows[2] = (3_000_000, float("nan"), 112.9, 150.0)
    p = write_ulog(
        tmp_path / "flight7.ulg",
        {
            "vehicle_global_position": (GP, rows),
            "vehicle_gps_position": (
                GPS,
                [(1_500_000, 0), (2_500_000, utc0 + 2_500_000), (4_500_000, utc0 + 4_500_000)],
            ),
        },
    )
    r = read_log(p, operator="Op9")
    assert r.columns["t"].tolist() == [T0 + 1, T0 + 2, T0 + 4, T0 + 5]
    assert r.columns["flight_id"].tolist() == ["flight7"] * 4
    assert r.columns["operator"].tolist() == ["Op9"] * 4
    assert [(x.row, x.field) for x in r.rejected] == [(3, "lat")]


def test_ulog_without_gnss_time_is_refused(tmp_path):
    p = write_ulog(
        tmp_path / "x.ulg",
        {
            "vehicle_global_position": (GP, [(1, 28.0, 112.0, 1.0)]),
            "vehicle_gps_position": (GPS, [(1, 0)]),
        },
    )
    with pytest.raises(LogError, match="no GNSS time"):
        read_log(p)


def _state(t, alt=None, height=None):
    pos = {"lat": 28.1, "lng": 112.9, "accuracy_h": "HAUnknown"}
    if alt is not None:
        pos["alt"] = alt
    if height is not None:
        pos["height"] = height
    return {"timestamp": {"value": t, "format": "RFC3339"}, "position": pos}


def test_remote_id_telemetry(tmp_path):
    doc = {
        "flights": [
            {
                "id": "R1",
                "operator": "OpR",
                "telemetry": [
                    _state("2025-03-03T08:00:00Z", alt=180.0),
                    _state(
                        "2025-03-03T08:00:01Z",
                        alt=-1000,
                        height={"distance": 40, "reference": "GroundLevel"},
                    ),
                    _state(
                        "2025-03-03T08:00:02Z",
                        height={"distance": 40, "reference": "TakeoffLocation"},
                    ),
                    _state("yesterday", alt=180.0),
                ],
            }
        ]
    }
    p = tmp_path / "rid.json"
    p.write_text(json.dumps(doc))
    r = read_log(p)
    assert r.columns["t"].tolist() == [T0, T0 + 1]
    assert r.columns["ref"].tolist() == [AltRef.W84, AltRef.AGL]
    assert [(x.row, x.field) for x in r.rejected] == [(3, "position.alt"), (4, "timestamp")]


def test_normalise_altitudes_to_amsl_intervals(tmp_path, real_dem):
    p = tmp_path / "t.csv"
    p.write_text(
        "flight_id,operator,time,lat,lon,alt,alt_ref\n"
        f"F,O,{T0},28.1,112.9,300,AMSL\nF,O,{T0 + 1},28.1,112.9,50,AGL\nF,O,{T0 + 2},28.1,112.9,300,W84\n"
        f"F,O,{T0 + 3},10.0,100.0,50,AGL\n"
    )
    r = read_log(p)
    tr, outside = normalise([r], dem=real_dem, geoid=Geoid())
    g_lo, g_hi, _ = box_ground_bounds(real_dem, [112.9], [28.1], [112.9], [28.1])
    n = float(Geoid().undulation(28.1, 112.9))
    assert outside == 0 and len(tr) == 3
    assert tr.amsl_lo.tolist() == pytest.approx([300, g_lo[0] + 50, 300 - n])
    assert tr.amsl_hi.tolist() == pytest.approx([300, g_hi[0] + 50, 300 - n])
    assert tr.h_lo.tolist() == pytest.approx([300 - g_hi[0], 50, 300 - n - g_hi[0]])
    assert tr.h_hi.tolist() == pytest.approx([300 - g_lo[0], 50, 300 - n - g_lo[0]])
    assert r.n_rejected == 1 and (r.rejected[0].row, r.rejected[0].field) == (5, "alt")
    _, outside = normalise([read_log(p)], dem=real_dem, geoid=Geoid(), t_from=T0 + 1, t_to=T0 + 1)
    assert outside == 3


def test_point_ground_bounds_equal_the_terrain_rule(real_dem):
    from airgrid.audit.tracks import point_ground_bounds
    from airgrid.terrain.dem import apply_affine

    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(108, 115, 50_000), rng.uniform(24, 31, 50_000)
    c = np.arange(0.0, 700.0)
    x, y = apply_affine(real_dem.transform, c, c)  # pixel corners, and just beside them
    lon = np.concatenate([lon, x, x + 1e-12, x - 1e-12])
    lat = np.concatenate([lat, y, y - 1e-12, y + 1e-12])
    want = box_ground_bounds(real_dem, lon, lat, lon, lat)
    got = point_ground_bounds(real_dem, lon, lat)
    assert np.array_equal(want[0], got[0], equal_nan=True)
    assert np.array_equal(want[1], got[1], equal_nan=True)


def test_csv_blank_line_is_a_rejected_row_and_keeps_line_numbers(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text(
        "flight_id,operator,time,lat,lon,alt,alt_ref\n"
        "F,O,1740988800,28.1,112.9,150,AMSL\n\nF,O,1740988801,28.1,112.9,150,AMSL\n"
    )
    r = read_log(p)
    assert [(x.row, x.field) for x in r.rejected] == [(3, "flight_id")]
    assert r.columns["row"].tolist() == [2, 4]
