"""Clip the EGM96 15' geoid grid to a regional GeoTIFF for airgrid.

Source: ``egm96_15.gtx`` from Debian's ``proj-data`` package (the NGA/NASA EGM96
15-arc-minute geoid-height grid, public domain)::

    cd /tmp && apt-get download proj-data && dpkg -x proj-data_*_all.deb projdata
    python scripts/clip_geoid.py /tmp/projdata/usr/share/proj/egm96_15.gtx

Output: ``airgrid/data/egm96_15_hunan.tif`` covering lon 95..125 E, lat 15..50 N (grid
*nodes* on both edges included), float32, EPSG:4326, deflate.

Georeferencing: the GTX values are point values at grid *nodes* (lon = -180 +
0.25 i, lat = -90 + 0.25 j). GDAL exposes a GTX with the area convention, i.e. each
node at the *centre* of a 0.25-degree pixel. The clip keeps exactly those pixels
(no resampling) and is written with ``AREA_OR_POINT=Point``
(``GTRasterTypeGeoKey = RasterPixelIsPoint``, as PROJ's geodetic-TIFF-grid
specification recommends); GDAL then stores the tie point at the first node
(95 E, 50 N) itself. The script reads the written file back and checks that (a)
every value equals the source node value bit for bit and (b) PROJ's vgridshift
on the clip reproduces the source value exactly at nodes and agrees with the
source grid between nodes.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.windows import Window

STEP = 0.25  # degrees, 15 arc-minutes
WEST, EAST, SOUTH, NORTH = 95.0, 125.0, 15.0, 50.0
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "airgrid" / "data" / "egm96_15_hunan.tif"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def node_window(src: rasterio.io.DatasetReader) -> Window:
    """Window of the source pixels whose centres (= nodes) lie in the clip box."""
    inv = ~src.transform
    col0, row0 = inv * (WEST, NORTH)  # pixel coords of the NW node (a pixel centre)
    col1, row1 = inv * (EAST, SOUTH)
    # Node centres sit at .5 pixel coordinates; floor gives the pixel index.
    c0, r0, c1, r1 = (int(np.floor(v)) for v in (col0, row0, col1, row1))
    for v in (col0, row0, col1, row1):
        if abs(v - np.floor(v) - 0.5) > 1e-9:
            raise SystemExit(f"clip edge is not on a grid node (pixel coordinate {v})")
    return Window(c0, r0, c1 - c0 + 1, r1 - r0 + 1)


def clip(src_path: Path, out_path: Path) -> None:
    with rasterio.open(src_path) as src:
        if not (abs(src.res[0] - STEP) < 1e-12 and abs(src.res[1] - STEP) < 1e-12):
            raise SystemExit(f"unexpected resolution {src.res}")
        win = node_window(src)
        data = src.read(1, window=win).astype(np.float32)
        nodata = src.nodata
        if nodata is not None and np.any(data == np.float32(nodata)):
            raise SystemExit("source has nodata inside the clip box")
        transform = src.window_transform(win)
    # Area-convention transform: pixel (0, 0) centred on the node (WEST, NORTH).
    expected = Affine(STEP, 0.0, WEST - STEP / 2, 0.0, -STEP, NORTH + STEP / 2)
    if not transform.almost_equals(expected, precision=1e-12):
        raise SystemExit(f"window transform {transform} != {expected}")

    out_path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": expected,
        "nodata": None,
        "compress": "deflate",
        "predictor": 3,
        "zlevel": 9,
    }
    with rasterio.open(out_path, "w", **profile) as dst:
        dst.update_tags(
            AREA_OR_POINT="Point",
            TIFFTAG_IMAGEDESCRIPTION="EGM96 geoid height (m above WGS84 ellipsoid), 15' nodes",
            source="egm96_15.gtx (Debian proj-data); NGA/NASA EGM96, public domain",
        )
        dst.update_tags(1, DESCRIPTION="geoid_undulation", UNITTYPE="metre")
        dst.set_band_description(1, "geoid_undulation")
        dst.write(data, 1)
    verify(src_path, out_path)
    print(
        f"wrote {out_path} ({out_path.stat().st_size} bytes, {data.shape[1]}x{data.shape[0]} nodes)"
    )
    print(f"source sha256 {_sha256(src_path)}")
    print(f"output sha256 {_sha256(out_path)}")


def verify(src_path: Path, out_path: Path) -> None:
    """Read nodes back through GDAL and through PROJ; raise on any mismatch."""
    from pyproj import Transformer

    with rasterio.open(out_path) as out, rasterio.open(src_path) as src:
        if out.tags().get("AREA_OR_POINT") != "Point":
            raise SystemExit("AREA_OR_POINT=Point was not written")
        clip_vals = out.read(1)
        # Every node, by geographic coordinate, against the source.
        rows, cols = np.mgrid[0 : out.height, 0 : out.width]
        lon = WEST + cols * STEP
        lat = NORTH - rows * STEP
        src_r, src_c = rasterio.transform.rowcol(src.transform, lon.ravel(), lat.ravel())
        src_vals = src.read(1)[np.asarray(src_r), np.asarray(src_c)].reshape(lon.shape)
        if not np.array_equal(clip_vals, src_vals):
            raise SystemExit("clip values differ from source nodes")
        out_r, out_c = rasterio.transform.rowcol(out.transform, [102.5], [47.0])
        if (
            clip_vals[out_r[0], out_c[0]]
            != src_vals[round((NORTH - 47.0) / STEP), round((102.5 - WEST) / STEP)]
        ):
            raise SystemExit("node lookup by coordinate is off by a pixel")

    def vgrid(grid: Path) -> Transformer:
        return Transformer.from_pipeline(
            "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
            f"+step +proj=vgridshift +grids={grid.resolve()} +multiplier=1 "
            "+step +proj=unitconvert +xy_in=rad +xy_out=deg"
        )

    t_clip, t_src = vgrid(out_path), vgrid(src_path)
    # Nodes (interior and edges): PROJ must give the node value itself.
    sel = (slice(None, None, 7), slice(None, None, 6))
    lo, la = lon[sel].ravel(), lat[sel].ravel()
    _, _, n_clip = t_clip.transform(lo, la, np.zeros_like(lo))
    if np.max(np.abs(n_clip - clip_vals[sel].ravel().astype(float))) > 1e-5:
        raise SystemExit("PROJ does not reproduce node values from the clip")
    # Between nodes: clip and full grid must interpolate identically.
    rng = np.random.default_rng(0)
    lo = rng.uniform(WEST, EAST, 2000)
    la = rng.uniform(SOUTH, NORTH, 2000)
    _, _, a = t_clip.transform(lo, la, np.zeros_like(lo))
    _, _, b = t_src.transform(lo, la, np.zeros_like(lo))
    if np.max(np.abs(a - b)) > 1e-5:
        raise SystemExit(f"clip and source disagree by {np.max(np.abs(a - b))} m")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gtx", type=Path, help="path to egm96_15.gtx (from Debian proj-data)")
    ap.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    clip(args.gtx, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
