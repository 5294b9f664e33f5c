"""Beidou grid location codes (GB/T 39409-2020) and 4D spatial IDs (ZFXY): published
vectors, both layouts of the 3D Beidou code, and round trips point -> code -> box."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airgrid.airspace.errors import GridCodeError
from airgrid.airspace.grid.codes import beidou, zfxy
from airgrid.airspace.grid.codes.overlap import box_heights, decode_any

#: The example point of GB/T 39409-2020 (116°18'45.37"E, 39°59'35.38"N) and its level-10
#: code, as reproduced in the demo of the TypeScript Codec2D implementation
#: ("console.log('参照 N50J47539B82553461')" ... "N50J47539b8255346152").
STANDARD_LON = 116 + 18 / 60 + 45.37 / 3600
STANDARD_LAT = 39 + 59 / 60 + 35.38 / 3600

#: Kingbase "地理网格模型功能与接口文档", functions ST_asBGC, ST_asBGC3D, ST_bdCode2Box and
#: ST_BGC3D2Box (the same point, height 25 125 m, level 8).
KINGBASE_LON, KINGBASE_LAT, KINGBASE_H = 116.31260277777778, 39.993161111111114, 25125.0
KINGBASE_2D = "N50J47539B825534"
KINGBASE_3D = "N050J004705039DB8920557347"
KINGBASE_BOX = (116.3125954861111, 39.99315972222223, 116.31260416666666, 39.99316840277778)
KINGBASE_BOTTOM_M = 25124.460173016414


def test_standard_example_at_level_10():
    assert beidou.encode_2d(STANDARD_LAT, STANDARD_LON, 10) == "N50J47539B8255346152"


def test_kingbase_2d_code_and_box():
    assert beidou.encode_2d(KINGBASE_LAT, KINGBASE_LON, 8) == KINGBASE_2D
    box = beidou.decode_2d(KINGBASE_2D)
    assert (box.west, box.south, box.east, box.north) == pytest.approx(KINGBASE_BOX, abs=1e-12)
    assert box.level == 8 and box.bottom_m is None


def test_kingbase_3d_code_is_the_interleaved_layout():
    assert beidou.encode_3d(KINGBASE_LAT, KINGBASE_LON, KINGBASE_H, 8) == KINGBASE_3D
    box = beidou.decode_3d(KINGBASE_3D)
    assert box.bottom_m == pytest.approx(KINGBASE_BOTTOM_M, abs=1e-3)
    assert box.bottom_m <= KINGBASE_H < box.top_m
    assert (box.west, box.south, box.east, box.north) == pytest.approx(KINGBASE_BOX, abs=1e-12)


def test_appended_layout_is_the_2d_code_then_the_height_code():
    code = str(beidou.encode_3d(KINGBASE_LAT, KINGBASE_LON, KINGBASE_H, 10, "appended"))
    flat = str(beidou.encode_2d(KINGBASE_LAT, KINGBASE_LON, 10))
    height = str(beidou.encode_height(KINGBASE_H, 10))
    assert len(code) == 32 and code == flat + height
    inter = str(beidou.encode_3d(KINGBASE_LAT, KINGBASE_LON, KINGBASE_H, 10))
    assert len(inter) == 32 and inter != code
    assert beidou.split_3d(inter) == beidou.split_3d(code) == (flat, height)
    assert beidou.decode_3d(inter) == beidou.decode_3d(code)


def test_encoding_is_vectorised():
    lat = np.array([28.2, -31.4, 10.0])
    lon = np.array([112.99, -57.7, -170.0])
    codes = beidou.encode_3d(lat, lon, np.array([250.0, 50.0, -30.0]), 10)
    assert codes.shape == (3,) and all(len(c) == 32 for c in codes)
    assert [c[0] for c in codes] == ["N", "S", "N"]
    ids = zfxy.encode(lat, lon, 100.0, 20)
    assert ids.shape == (3,) and ids[0].startswith("20/")


@pytest.mark.parametrize(
    "code",
    ["", "X50J", "N61J", "N00J", "N50W", "N50JC0", "N50J4G", "N50J476", "N50J4753", "N050J64"],
)
def test_malformed_beidou_codes_are_refused(code):
    with pytest.raises(GridCodeError):
        decode_any(code)


def test_polar_caps_and_bad_levels_are_refused():
    with pytest.raises(GridCodeError, match="polar"):
        beidou.encode_2d(88.5, 10.0)
    with pytest.raises(GridCodeError, match="level"):
        beidou.encode_2d(28.0, 112.0, 11)
    with pytest.raises(GridCodeError, match="layout"):
        beidou.encode_3d(28.0, 112.0, 10.0, 5, "zigzag")  # type: ignore[arg-type]


lats = st.floats(-87.999, 87.999, allow_nan=False)
lons = st.floats(-180.0, 180.0, allow_nan=False)
heights = st.floats(-10_000.0, 100_000.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(lat=lats, lon=lons, h=heights, layout=st.sampled_from(["interleaved", "appended"]))
def test_beidou_box_contains_the_point_at_every_level(lat, lon, h, layout):
    previous = None
    for level in range(1, 11):
        code = str(beidou.encode_3d(lat, lon, h, level, layout))
        box = beidou.decode_3d(code, layout)
        assert box.level == level
        assert box.contains(lat, lon, h), (code, box)
        flat = beidou.decode_2d(str(beidou.encode_2d(lat, lon, level)))
        assert (flat.west, flat.south, flat.east, flat.north) == (
            box.west,
            box.south,
            box.east,
            box.north,
        )
        if previous is not None:  # each level nests in the one above
            assert previous.west <= box.west and box.east <= previous.east
            assert previous.bottom_m <= box.bottom_m and box.top_m <= previous.top_m
        previous = box


# -- ZFXY -----------------------------------------------------------------------------
# Vectors from the tests of @spatial-id/javascript-sdk (tests/index.test.ts at effdb3d3,
# MIT licence; see tests/data/SOURCE.md).


def test_spatial_id_sdk_point_vector():
    assert zfxy.encode(0.0, 0.0, 10.0, 25) == "25/10/16777216/16777216"


@pytest.mark.parametrize(
    ("code", "west", "south", "east", "north"),
    [
        ("1/0/0/0", -180.0, 0.0, 0.0, 85.0511287798066),
        (
            "25/0/29803304/13212456",
            139.75476264953613,
            35.68594511814803,
            139.7547733783722,
            35.68595383239409,
        ),
        (
            "22/0/3725212/1650923",
            139.73751068115234,
            35.73007056488394,
            139.73759651184082,
            35.73014024024556,
        ),
    ],
)
def test_spatial_id_sdk_polygon_vectors(code, west, south, east, north):
    box = zfxy.decode(code)
    assert (box.west, box.south, box.east, box.north) == pytest.approx(
        (west, south, east, north), abs=1e-12
    )


def test_spatial_id_sdk_vertices_and_contains_vectors():
    box = zfxy.decode("/22/6/3725284/1651062")
    assert (box.bottom_m, box.top_m) == (48.0, 56.0)
    assert box.west == pytest.approx(139.74369049072266, abs=1e-12)
    assert box.north == pytest.approx(35.720454780411565, abs=1e-12)
    inside = zfxy.decode("25/15/29802274/13208496")
    assert inside.contains(35.72044997095608, 139.7437134824338, 15.2)
    assert not inside.contains(35.72044997095608, 139.7437134824338, 0.0)
    assert not inside.contains(35.0, 139.0)
    assert zfxy.encode(35.72044997095608, 139.7437134824338, 15.2, 25) == (
        "25/15/29802274/13208496"
    )


def test_spatial_id_sdk_parent_vectors():
    _, _, x, y = zfxy.parse("25/0/29803304/13212456")
    assert (x >> 2, y >> 2) == (7450826, 3303114)
    assert (x >> 11, y >> 11) == (14552, 6451)


@pytest.mark.parametrize("code", ["", "25/0/1", "a/b/c/d", "31/0/0/0", "2/0/4/0", "1/0/0/-1"])
def test_malformed_spatial_ids_are_refused(code):
    with pytest.raises(GridCodeError):
        zfxy.decode(code)


@settings(max_examples=300, deadline=None)
@given(
    lat=st.floats(-85.05, 85.05, allow_nan=False),
    lon=st.floats(-180.0, 179.9999, allow_nan=False),
    h=heights,
    z=st.integers(0, 30),
)
def test_zfxy_box_contains_the_point(lat, lon, h, z):
    box = zfxy.decode(str(zfxy.encode(lat, lon, h, z)))
    assert box.level == z and box.contains(lat, lon, h, tol=1e-7)


@pytest.mark.parametrize("level", range(1, 11))
def test_every_level_decodes_both_ways_in_every_form(level):
    """Levels 1-10: a point's 2D code, interleaved 3D code and appended 3D code each go back
    to a box containing the point, through ``decode_any`` (the API's and CLI's reader).
    At levels 1, 3, 5 and 6 the 3D codes are as long as the 2D codes of levels 3, 6, 9 and
    10; the interleaved form is still recognised, the appended one is read as 2D (its
    documented ambiguity) and decodes as 3D when its layout is named."""
    lat, lon, h = 28.2, 112.99, 233.31
    flat = str(beidou.encode_2d(lat, lon, level))
    inter = str(beidou.encode_3d(lat, lon, h, level))
    appended = str(beidou.encode_3d(lat, lon, h, level, "appended"))
    kind, box = decode_any(flat)
    assert kind == "beidou2d" and box.level == level and box.contains(lat, lon)
    kind, box = decode_any(inter)
    assert kind == "beidou3d" and box.level == level and box.contains(lat, lon, h)
    shared = len(appended) in beidou.CODE_LENGTH[1:]
    assert shared == (level in (1, 3, 5, 6))
    kind, box = decode_any(appended)
    if shared:
        assert kind == "beidou2d" and box.level != level
        box = beidou.decode_3d(appended, "appended")
    else:
        assert kind == "beidou3d"
    assert box.level == level and box.contains(lat, lon, h)


def test_level_1_interleaved_3d_code_is_not_a_malformed_2d_code():
    """``N050J00`` (hemisphere, height sign, zone 50, band J, height 00) is the level-1 3D
    code of the Beijing example point: seven characters, like a level-3 2D code."""
    assert beidou.encode_3d(STANDARD_LAT, STANDARD_LON, 100.0, 1) == "N050J00"
    kind, box = decode_any("N050J00")
    assert kind == "beidou3d" and box.contains(STANDARD_LAT, STANDARD_LON, 100.0)


def test_zfxy_heights_are_above_mean_sea_level_and_beidou_above_the_ellipsoid():
    """ZFXY's h is the height above sea level (unvt/zfxy-spec: "elevation from sea level";
    the Digital Agency's library passes the caller's heights through unchanged, its example
    CRS being JGD2011 + 標高); Beidou's is geodetic. ``box_heights`` gives both ranges,
    converted so that they only grow."""
    z = zfxy.decode("25/250/27308647/14028343")
    assert z.height_reference == "AMSL" and (z.bottom_m, z.top_m) == (250.0, 251.0)
    assert box_heights(z, -17.0, -16.0) == (233.0, 235.0, 250.0, 251.0)
    b = beidou.decode_3d(KINGBASE_3D)
    assert b.height_reference == "W84"
    w_lo, w_hi, a_lo, a_hi = box_heights(b, -17.0, -16.0)
    assert (w_lo, w_hi) == (b.bottom_m, b.top_m)
    assert (a_lo, a_hi) == (b.bottom_m + 16.0, b.top_m + 17.0)
    assert box_heights(beidou.decode_2d(KINGBASE_2D), -17.0, -16.0) is None
