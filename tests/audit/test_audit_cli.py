"""``airgrid audit``: logs and a store in, Parquet, GeoJSON (GDAL-readable) and Markdown out."""

from __future__ import annotations

import json
import math

import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely

from airgrid.airspace.store.service import open_store
from airgrid.airspace.traffic.models import IntentRequest
from airgrid.api.cli.main import main
from airgrid.geo.volumes import Volume4D
from tests.audit.conftest import SQUARE, T0

ONE_M = 1.0 / (111_320.0 * math.cos(math.radians(28.11)))
CHANGDE = (28.9189, 111.64)  # airport reference point: inside its default protection zone


@pytest.fixture
def db(tmp_path):
    with open_store(tmp_path / "store") as store:
        vol = Volume4D(shapely.Polygon(SQUARE), 0.0, 3000.0, T0, T0 + 100)
        assert store.submit(IntentRequest("OpA", 10, "T1", (vol,), "I1")).accepted
    return f"sqlite:///{tmp_path / 'store' / 'airgrid.sqlite'}"


def _log(tmp_path, extra=""):
    rows = ["flight_id,operator,time,lat,lon,alt,alt_ref"]
    for k in range(11):
        lon = 112.92 + ONE_M if k == 5 else 112.91
        rows.append(f"I1,OpA,{T0 + 10 * k},28.11,{lon!r},50,AGL")
    for k in range(3):
        rows.append(f"AP,OpB,{T0 + k},{CHANGDE[0]},{CHANGDE[1]},60,AGL")
    p = tmp_path / "day.csv"
    p.write_text("\n".join(rows) + "\n" + extra)
    return p


def test_audit_writes_parquet_geojson_and_summary(tmp_path, db):
    out = tmp_path / "out"
    code = main(["audit", str(_log(tmp_path)), "--out", str(out), "--db", db, "--no-progress"])
    assert code == 0
    table = pq.read_table(out / "violations.parquet").to_pandas()
    got = sorted(zip(table.flight_id, table.rule, table.object_id))
    assert got == [
        ("AP", "geofence", "ZGCD-AP"),
        ("AP", "no_accepted_intent", "AP"),
        ("I1", "geofence", "ZGCS-AP"),  # the square lies in an airport zone too
        ("I1", "nonconformance", "I1"),
    ]
    non = table[table.rule == "nonconformance"].iloc[0]
    assert (non.t_first, non.t_last, non.row_first) == (T0 + 50, T0 + 50, 7)
    assert shapely.from_wkb(non.geometry).equals(shapely.Point(112.92 + ONE_M, 28.11))
    info = pyogrio.read_info(out / "violations.geojson")
    assert info["features"] == 4 and "rule" in info["fields"]
    _, _, geoms, fields = pyogrio.raw.read(out / "violations.geojson")
    kinds = sorted(shapely.get_type_id(shapely.from_wkb(geoms)).tolist())
    assert kinds == [0, 1, 1, 1] and len(fields) == len(info["fields"])  # 1 point, 3 lines
    md = (out / "summary.md").read_text()
    assert "## OpA" in md and "conformance rate 90.9% (10 of 11 fixes)" in md
    assert md.count("| geofence | 1 | 0 |") == 2
    page = (out / "summary.html").read_text()
    assert page.count("<table>") == 4 and "<td>geofence</td><td>1</td><td>0</td>" in page


def test_time_window_and_no_store(tmp_path):
    out = tmp_path / "out"
    log = _log(tmp_path)
    args = ["audit", str(log), "--out", str(out), "--no-progress", "--to", "2025-03-03T08:00:40Z"]
    assert main(args) == 0
    table = pq.read_table(out / "violations.parquet").to_pandas()
    assert sorted(table.rule) == ["geofence", "geofence"]  # no store: no intent rules
    assert "fixes outside the time window: 6" in (out / "summary.md").read_text()


def test_bad_input_exits_2_with_a_clear_message(tmp_path, capsys):
    out = str(tmp_path / "out")
    bad = tmp_path / "bad.csv"
    bad.write_text("flight_id,time\nF,1\n")
    assert main(["audit", str(bad), "--out", out, "--no-progress"]) == 2
    assert "missing column(s) operator, lat, lon, alt, alt_ref" in capsys.readouterr().err
    log = _log(tmp_path, extra="I1,OpA,notatime,28.11,112.91,50,AGL\n")
    assert main(["audit", str(log), "--out", out, "--no-progress"]) == 0
    assert main(["audit", str(log), "--out", out, "--no-progress", "--strict"]) == 2
    assert "1 row(s) rejected; first: " in capsys.readouterr().err
    assert main(["audit", str(log), "--out", out, "--from", "yesterday"]) == 2
    assert main(["audit", str(log), "--out", out, "--db", f"sqlite:///{tmp_path}/none.sqlite"]) == 2
    assert "must be a file named airgrid.sqlite" in capsys.readouterr().err
    missing = f"sqlite:///{tmp_path}/none/airgrid.sqlite"
    assert main(["audit", str(log), "--out", out, "--db", missing]) == 2
    assert "--db: no store at" in capsys.readouterr().err


def test_every_format_feeds_one_audit(tmp_path):
    from tests.audit.test_readers import GP, GPS, _feature, _state
    from tests.audit.ulog_writer import write_ulog

    lat, lon = CHANGDE
    utc0 = int(T0 * 1e6)
    ulg = write_ulog(
        tmp_path / "px4.ulg",
        {
            "vehicle_global_position": (
                GP,
                [(1_000_000 * i, lat, lon, 200.0) for i in range(1, 4)],
            ),
            "vehicle_gps_position": (GPS, [(1_000_000, utc0 + 1_000_000)]),
        },
    )
    geo = tmp_path / "t.geojson"
    geo.write_text(
        '{"type": "FeatureCollection", "features": ['
        + json.dumps(_feature("G", [[lon, lat, 50.0], [lon, lat, 50.0]], [T0, T0 + 1]))
        + "]}"
    )
    rid = tmp_path / "rid.json"
    rid.write_text(
        json.dumps(
            [
                {
                    "id": "R",
                    "operator": "OpR",
                    "telemetry": [_state("2025-03-03T08:00:00Z", alt=250.0)],
                }
            ]
        )
    )
    out = tmp_path / "out"
    assert (
        main(
            [
                "audit",
                str(ulg),
                str(geo),
                str(rid),
                "--out",
                str(out),
                "--no-progress",
                "--operator",
                "OpU",
            ]
        )
        == 0
    )
    table = pq.read_table(out / "violations.parquet").to_pandas()
    fence = table[table.rule == "geofence"].set_index("flight_id")
    assert sorted(fence.index) == ["G", "R", "px4"]
    assert fence.loc["px4", "operator"] == "OpU"
    assert (fence.loc["px4", "t_first"], fence.loc["px4", "t_last"]) == (T0 + 1, T0 + 3)


def test_local_cluster_option_gives_the_same_results(tmp_path, db):
    pytest.importorskip("distributed")
    log = str(_log(tmp_path))
    base = ["audit", log, "--db", db, "--no-progress"]
    assert main([*base, "--out", str(tmp_path / "one")]) == 0
    assert main([*base, "--out", str(tmp_path / "two"), "--local-cluster", "2"]) == 0
    one = pq.read_table(tmp_path / "one" / "violations.parquet")
    two = pq.read_table(tmp_path / "two" / "violations.parquet")
    assert one.equals(two) and one.num_rows == 4
