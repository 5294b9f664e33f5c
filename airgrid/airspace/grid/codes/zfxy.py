"""Japan's 4D spatial ID (空間ID, ZFXY) of the Digital Agency / IPA guideline.

A point (lon, lat, height ``h``) at zoom ``z`` has the ID ``z/f/x/y`` with::

    n = 2**z
    f = floor(n * h / 2**25)
    x = floor(n * (lon + 180) / 360)
    y = floor(n * (1 - ln(tan(lat) + sec(lat)) / π) / 2)

so ``x``/``y`` are the web-map (slippy) tile of zoom ``z`` and a voxel of zoom 25 is 1 m
high. Latitudes are limited to the web Mercator's ±85.0511°. IDs are written
``z/f/x/y``; a leading ``/`` (the form of the ``@spatial-id/javascript-sdk``) is
accepted when reading.

Height reference
----------------
``h`` is the height above mean sea level (標高, an orthometric height), not above the
ellipsoid. The ZFXY specification (unvt/zfxy-spec, the formula the guideline adopted)
defines ``h`` as the "elevation from sea level", and the Digital Agency's reference
library (ouranos-gex-lib-for-Python, ``SpatialId.shape.point``) takes heights as given in
the caller's CRS, its example being EPSG:6697 (JGD2011 + JGD2011 vertical height, i.e.
標高 above Tokyo Bay mean sea level), and converts them to EPSG:4326, which has no
vertical axis, so the height enters the index unchanged. airgrid's mean sea level is
the EGM96 geoid (its ``AMSL`` everywhere); Japan's own geoid differs from it by about a
metre, one zoom-25 step. The Beidou codes, in contrast, use ellipsoidal heights
(:mod:`.beidou`).
"""

from __future__ import annotations

import math
import re

import numpy as np
from numpy.typing import ArrayLike, NDArray

from airgrid.airspace.errors import GridCodeError
from airgrid.airspace.grid.codes.beidou import CodeBox

#: Height of the whole vertical range at zoom 0 (metres): a zoom-25 voxel is 1 m high.
H_ROOT_M = float(2**25)
MAX_ZOOM = 30
#: Latitude limit of the web Mercator tiles.
MAX_LAT = math.degrees(math.atan(math.sinh(math.pi)))
_ID = re.compile(r"^/?(\d{1,2})/(-?\d+)/(\d+)/(\d+)$")


def _check_zoom(z: int) -> None:
    if not (isinstance(z, int | np.integer) and 0 <= z <= MAX_ZOOM):
        raise GridCodeError(f"ZFXY zoom must be an integer 0..{MAX_ZOOM}, got {z!r}")


def indices(
    lat: ArrayLike, lon: ArrayLike, h: ArrayLike, z: int = 25
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """The (f, x, y) indices of each point at zoom ``z``.

    Parameters
    ----------
    lat, lon
        Degrees (WGS84), broadcast with ``h``.
    h
        Metres above mean sea level (airgrid's AMSL).
    z
        Zoom 0..30.

    Raises
    ------
    GridCodeError
        A bad zoom, a non-finite value, a latitude past ±85.0511° or a longitude past ±180°.
    """
    _check_zoom(z)
    la, lo, hh = np.broadcast_arrays(
        np.asarray(lat, float), np.asarray(lon, float), np.asarray(h, float)
    )
    if not (np.all(np.isfinite(la)) and np.all(np.isfinite(lo)) and np.all(np.isfinite(hh))):
        raise GridCodeError("latitude, longitude and height must be finite numbers")
    if np.any(np.abs(la) > MAX_LAT) or np.any(np.abs(lo) > 180):
        raise GridCodeError(f"ZFXY covers |lat| <= {MAX_LAT:.4f} and |lon| <= 180")
    n = 2**z
    f = np.floor(n * hh / H_ROOT_M).astype(np.int64)
    x = np.floor(n * (lo + 180.0) / 360.0).astype(np.int64)
    phi = np.radians(la)
    y = np.floor(n * (1.0 - np.log(np.tan(phi) + 1.0 / np.cos(phi)) / math.pi) / 2.0)
    return f, np.clip(x, 0, n - 1), np.clip(y.astype(np.int64), 0, n - 1)


def encode(lat: ArrayLike, lon: ArrayLike, h: ArrayLike, z: int = 25) -> NDArray[np.str_]:
    """The spatial ID ``z/f/x/y`` of each point (see :func:`indices`).

    Raises
    ------
    GridCodeError
        As :func:`indices`.
    """
    f, x, y = indices(lat, lon, h, z)
    out = np.char.add(f"{z}/", f.astype(str))
    for part in (x, y):
        out = np.char.add(np.char.add(out, "/"), part.astype(str))
    return out


def parse(code: str) -> tuple[int, int, int, int]:
    """(z, f, x, y) of a spatial ID ``z/f/x/y`` (a leading ``/`` allowed).

    Raises
    ------
    GridCodeError
        Not four integers, a zoom past 30, or x/y outside the zoom's 0..2**z-1.
    """
    m = _ID.match(str(code).strip())
    if not m:
        raise GridCodeError(f"a spatial ID is 'z/f/x/y' (four integers), got {code!r}")
    z, f, x, y = (int(g) for g in m.groups())
    _check_zoom(z)
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise GridCodeError(f"spatial ID {code!r}: x and y must be in 0..{2**z - 1} at zoom {z}")
    return z, f, x, y


def decode(code: str) -> CodeBox:
    """The box of a spatial ID: tile bounds in degrees, heights above mean sea level.

    Raises
    ------
    GridCodeError
        As :func:`parse`.
    """
    z, f, x, y = parse(code)
    n = 2**z

    def lat_of(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    step = H_ROOT_M / n
    return CodeBox(
        west=x / n * 360.0 - 180.0,
        south=lat_of(y + 1),
        east=(x + 1) / n * 360.0 - 180.0,
        north=lat_of(y),
        bottom_m=f * step,
        top_m=(f + 1) * step,
        level=z,
        height_reference="AMSL",
    )
