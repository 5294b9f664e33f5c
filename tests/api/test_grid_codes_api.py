"""GET /v1/grid/codes and /v1/grid/codes/{code}, voxel answers' codes, and the CLI's
``airgrid code`` and ``airgrid decode``."""

from __future__ import annotations

import json

import pytest

from airgrid.airspace.grid.codes import beidou, zfxy
from airgrid.api.cli.main import main

POINT = {"lon": 112.99, "lat": 28.2, "alt_m": 250.0}


def test_codes_of_a_point_match_the_codecs_and_name_the_voxel(client, auth, services):
    r = client.get("/v1/grid/codes", params=POINT, headers=auth["operator"])
    assert r.status_code == 200, r.text
    body = r.json()
    n = float(services.geoid.undulation(28.2, 112.99))
    assert body["alt_w84_m"] == pytest.approx(250.0 + n, abs=1e-3)
    h = body["alt_w84_m"]
    assert body["beidou"]["code_2d"] == beidou.encode_2d(28.2, 112.99, 10)
    assert len(body["beidou"]["code_3d"]) == len(body["beidou"]["code_3d_appended"]) == 32
    assert beidou.decode_3d(body["beidou"]["code_3d"]).contains(28.2, 112.99, h)
    # the spatial ID measures from mean sea level (zoom 25: 1 m layers), Beidou from the ellipsoid
    assert zfxy.decode(body["zfxy"]["id"]).contains(28.2, 112.99, 250.0, tol=1e-7)
    assert body["zfxy"]["id"].split("/")[1] == "250" and abs(h - 250.0) > 5
    voxel = body["located"]["voxel"]
    assert voxel is not None and voxel["floor_m"] <= 250.0 < voxel["ceiling_m"]
    assert len(voxel["beidou"]) == 32 and voxel["zfxy"].startswith("25/")


def test_codes_at_a_coarser_level_and_zoom(client, auth):
    r = client.get(
        "/v1/grid/codes", params={**POINT, "level": 4, "zoom": 18}, headers=auth["operator"]
    )
    body = r.json()
    assert body["beidou"]["code_2d"] == "N49H903E2"
    assert len(body["beidou"]["height_code"]) == 6 and len(body["beidou"]["code_3d"]) == 15
    assert body["zfxy"]["id"].startswith("18/")


def test_codes_outside_the_grid_have_no_voxel(client, auth):
    r = client.get(
        "/v1/grid/codes",
        params={"lon": 116.3, "lat": 39.99, "alt_m": 100},
        headers=auth["operator"],
    )
    assert r.status_code == 200 and r.json()["located"] is None


@pytest.mark.parametrize(
    "params",
    [
        {**POINT, "lat": 95},
        {**POINT, "alt_m": "high"},
        {**POINT, "level": 11},
        {**POINT, "zoom": -1},
    ],
)
def test_bad_code_queries_answer_422(client, auth, params):
    r = client.get("/v1/grid/codes", params=params, headers=auth["operator"])
    assert r.status_code == 422


def test_a_zfxy_id_goes_back_to_its_box_and_voxel(client, auth, services):
    sid = client.get("/v1/grid/codes", params=POINT, headers=auth["operator"]).json()
    code = sid["zfxy"]["id"]
    r = client.get(f"/v1/grid/codes/{code}", headers=auth["operator"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "zfxy" and body["level"] == 25
    w, s, e, n = body["bbox"]
    assert w <= 112.99 <= e and s <= 28.2 <= n
    assert body["voxels"] == [sid["located"]["voxel"]["id"]]
    assert body["bottom_amsl_m"] <= 250.0 <= body["top_amsl_m"]
    assert (body["bottom_amsl_m"], body["top_amsl_m"]) == (250.0, 251.0)  # the ID's own range
    n = float(services.geoid.undulation(28.2, 112.99))
    assert body["bottom_w84_m"] <= 250.0 + n <= body["top_w84_m"]


def test_a_2d_beidou_code_overlaps_whole_columns(client, auth, services):
    code = str(beidou.encode_2d(28.2, 112.99, 7))
    body = client.get(f"/v1/grid/codes/{code}", headers=auth["operator"]).json()
    grid = services.grid
    assert body["kind"] == "beidou2d" and body["bottom_w84_m"] is None
    assert body["voxel_count"] == len(body["voxels"]) > 1
    tiers = {grid.tiers[int(grid.tier[grid.parse_voxel_id(v)])].name for v in body["voxels"]}
    assert len(tiers) >= 2  # the column through every tier


def test_a_3d_beidou_code_in_either_layout(client, auth):
    h = client.get("/v1/grid/codes", params=POINT, headers=auth["operator"]).json()["alt_w84_m"]
    bodies = [
        client.get(
            f"/v1/grid/codes/{beidou.encode_3d(28.2, 112.99, h, 7, layout)}",
            headers=auth["operator"],
        ).json()
        for layout in ("interleaved", "appended")
    ]
    assert bodies[0]["kind"] == bodies[1]["kind"] == "beidou3d"
    assert bodies[0]["voxels"] == bodies[1]["voxels"] and len(bodies[0]["voxels"]) == 1


def test_a_code_outside_the_grid_has_no_voxels(client, auth):
    r = client.get("/v1/grid/codes/N50J47539B825534", headers=auth["operator"])
    assert r.status_code == 200 and r.json()["voxels"] == []


def test_a_coarse_code_over_the_limits_answers_422(client, auth):
    r = client.get(f"/v1/grid/codes/{beidou.encode_2d(28.2, 112.99, 2)}", headers=auth["operator"])
    assert r.status_code == 422
    assert "limit" in r.json()["detail"]


@pytest.mark.parametrize("code", ["N99J", "N49H90", "25/0/1", "31/0/0/0", "N049H64"])
def test_malformed_codes_answer_422(client, auth, code):
    r = client.get(f"/v1/grid/codes/{code}", headers=auth["operator"])
    assert r.status_code == 422, r.text


def test_voxels_of_an_area_carry_codes(client, auth):
    r = client.get(
        "/v1/grid/voxels", params={"bbox": "112.98,28.19,112.985,28.195"}, headers=auth["operator"]
    )
    feats = r.json()["features"]
    assert feats
    for f in feats[:20]:
        p = f["properties"]
        box = beidou.decode_3d(p["beidou"])
        lon, lat = box.west, box.south
        assert f["geometry"]["type"] == "Polygon" and len(p["beidou"]) == 32
        sid = zfxy.decode(p["zfxy"])
        assert abs(sid.west - lon) < 1e-3 and abs(sid.south - lat) < 1e-3


def test_cli_code_and_decode(grid_dir, capsys):
    args = ["code", "28.2", "112.99", "250", "--grid", str(grid_dir), "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["beidou_2d"] == beidou.encode_2d(28.2, 112.99, 10)
    assert out["voxel"] and out["usable"] is True
    assert main(["decode", out["zfxy"], "--grid", str(grid_dir), "--json"]) == 0
    back = json.loads(capsys.readouterr().out)
    assert back["voxels"] == [out["voxel"]]


@pytest.mark.parametrize(
    "args",
    [["code", "95", "112.99", "250"], ["code", "28.2", "x", "250"], ["decode", "N99J"]],
)
def test_cli_bad_input_exits_2(grid_dir, capsys, args):
    assert main([*args, "--grid", str(grid_dir)]) == 2
    assert "airgrid: error:" in capsys.readouterr().err


@pytest.mark.parametrize("level", [1, 2, 3])
def test_coarse_beidou_levels_go_to_their_voxels_within_the_configured_limits(
    client, auth, services, monkeypatch, level
):
    """Levels 1-3 (6° x 4°, 30' x 30', 15' x 10') decode both ways like the finer ones;
    their boxes are only larger than the default query limits allow in one answer (see
    :func:`test_a_coarse_code_over_the_limits_answers_422`). The limits
    (``AIRGRID_MAX_QUERY_AREA_KM2``, ``AIRGRID_MAX_QUERY_VOXELS``) bound what one answer
    costs; raised, the same code answers its box and every voxel it overlaps, in 2D and in
    3D. (The appended 3D layout of levels 1 and 3 is as long as a 2D code and read as one:
    see ``decode_any``.)"""
    monkeypatch.setattr(services.settings, "max_query_area_km2", 1e6)
    monkeypatch.setattr(services.settings, "max_query_voxels", 10**7)
    point = client.get("/v1/grid/codes", params=POINT, headers=auth["operator"]).json()
    voxel = point["located"]["voxel"]["id"]
    code = str(beidou.encode_2d(28.2, 112.99, level))
    body = client.get(f"/v1/grid/codes/{code}", headers=auth["operator"]).json()
    assert body["kind"] == "beidou2d" and body["level"] == level
    assert body["voxel_count"] == len(body["voxels"]) and voxel in body["voxels"]
    layouts = ["interleaved"] if level in (1, 3) else ["interleaved", "appended"]
    for layout in layouts:
        code3 = str(beidou.encode_3d(28.2, 112.99, point["alt_w84_m"], level, layout))
        r = client.get(f"/v1/grid/codes/{code3}", headers=auth["operator"])
        assert r.status_code == 200, r.text
        assert r.json()["kind"] == "beidou3d" and voxel in r.json()["voxels"]
        assert set(r.json()["voxels"]) <= set(body["voxels"])


@pytest.mark.parametrize("level", [1, 2, 3])
def test_coarse_beidou_levels_over_the_limits_name_the_area_and_the_limit(
    client, auth, services, level
):
    """Under the configured area limit (400 km² by default, 50 km² in these tests), a level
    1-3 box over the grid is refused naming the box's area and the limit; a finer code
    (level 4 is 1' x 1', about 3 km²) fits."""
    r = client.get(
        f"/v1/grid/codes/{beidou.encode_2d(28.2, 112.99, level)}", headers=auth["operator"]
    )
    assert r.status_code == 422
    limit = f"limit of {services.settings.max_query_area_km2:g} km²"
    assert "km²" in r.json()["detail"] and limit in r.json()["detail"]
    fine = client.get(
        f"/v1/grid/codes/{beidou.encode_2d(28.2, 112.99, 4)}", headers=auth["operator"]
    )
    assert fine.status_code == 200
