"""The ``airgrid geofences`` commands."""

from __future__ import annotations

import json

from airgrid.airspace.geofences.formats.ed269 import from_ed269
from airgrid.airspace.geofences.formats.ed318 import from_ed318
from airgrid.airspace.geofences.formats.geojson import from_geojson
from airgrid.airspace.geofences.formats.registry import detect_format
from airgrid.api.cli.main import main


def test_export_import_convert_and_check(tmp_path, capsys):
    ed = tmp_path / "zones.json"
    assert main(["geofences", "export", "--format", "ed269", "--out", str(ed)]) == 0
    zones = from_ed269(ed)
    assert len(zones) == 12 and {z.identifier for z in zones} >= {"ZGHA-AP", "ZGXX-AP"}
    gj = tmp_path / "zones.geojson"
    assert main(["geofences", "import", str(ed), "--format", "geojson", "--out", str(gj)]) == 0
    assert from_geojson(gj) == zones
    capsys.readouterr()
    assert main(["geofences", "import", str(gj)]) == 0
    assert "12 valid geofences" in capsys.readouterr().out
    assert (
        main(
            [
                "geofences",
                "check",
                "28.19",
                "113.22",
                "300",
                "--time",
                "2025-01-01T00:00:00Z",
                "--fences",
                str(gj),
            ]
        )
        == 0
    )
    assert "ZGHA-AP" in capsys.readouterr().out
    assert main(["geofences", "check", "28.19", "113.22", "9000", "--fences", str(gj)]) == 0
    assert "in no geofence" in capsys.readouterr().out


def test_bad_files_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"UASZoneList": [{"identifier": "X"}]}))
    assert main(["geofences", "import", str(bad)]) == 2
    assert "restriction" in capsys.readouterr().err
    assert main(["geofences", "import", str(tmp_path / "missing.json")]) == 2
    assert (
        main(["geofences", "check", "28.19", "113.22", "300", "--time", "2025-01-01T00:00:00"]) == 2
    )


def test_ed318_export_import_and_detection(tmp_path, capsys):
    e318 = tmp_path / "zones318.json"
    assert main(["geofences", "export", "--format", "ed318", "--out", str(e318)]) == 0
    zones = from_ed318(e318)
    assert len(zones) == 12 and detect_format(json.loads(e318.read_text())) == "ed318"
    capsys.readouterr()
    assert main(["geofences", "import", str(e318)]) == 0
    assert "12 valid geofences" in capsys.readouterr().out
    for fmt, reader in (("geojson", from_geojson), ("ed269", from_ed269)):
        out = tmp_path / f"zones.{fmt}"
        assert main(["geofences", "import", str(e318), "--format", fmt, "--out", str(out)]) == 0
        assert reader(out) == zones
        back = tmp_path / f"back-{fmt}.json"
        assert main(["geofences", "import", str(out), "--format", "ed318", "--out", str(back)]) == 0
        assert from_ed318(back) == zones
    bad = json.loads(e318.read_text())
    bad["features"][0]["geometry"]["layer"]["uom"] = "km"
    e318.write_text(json.dumps(bad))
    capsys.readouterr()
    assert main(["geofences", "import", str(e318)]) == 2
    assert "uom must be m or ft" in capsys.readouterr().err
