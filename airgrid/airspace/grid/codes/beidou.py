"""China's Beidou grid location code (GB/T 39409-2020), 2D levels 1-10 and the height code.

The 2D code
-----------
Level 1 is the 1:1 000 000 map sheet (6° x 4°): the hemisphere ``N``/``S``, the 6°
longitude zone ``01``-``60`` (zone 31 starts at the prime meridian) and the 4° latitude
band ``A``-``V``. Each finer level splits its parent:

=====  ==============  =======  ===========================================
level  cell            split    characters
=====  ==============  =======  ===========================================
2      30' x 30'       12 x 8   longitude index (hex 0-B), latitude (0-7)
3      15' x 10'       2 x 3    one digit, 2 x latitude + longitude (0-5)
4      1' x 1'         15 x 10  longitude (hex 0-E), latitude (0-9)
5      4" x 4"         15 x 15  longitude (hex 0-E), latitude (hex 0-E)
6      2" x 2"         2 x 2    one digit, 2 x latitude + longitude (0-3)
7-10   1/4" .. 1/2048" 8 x 8    longitude (0-7), latitude (0-7)
=====  ==============  =======  ===========================================

From level 2 on, indices count away from the prime meridian and the equator, so the
other three hemispheres mirror the north-east one. The level-10 code has 20 characters,
e.g. ``N50J47539B8255346152`` (116°18'45.37"E, 39°59'35.38"N, the standard's example).
Polar caps (|lat| >= 88°) have their own scheme in the standard and are refused here.

All arithmetic is on integers in units of 1/2048" (the level-10 cell), so levels nest
exactly: a point's cell at level ``k`` is ``floor(offset / size_k)`` of the mirrored
offset from the origin corner.

The height code
---------------
A height ``h`` (metres above the ellipsoid: the standard uses the geodetic height of
CGCS2000, which equals WGS84's to centimetres) is turned into an index that grows with the
radius in geometric steps::

    n = floor((θ0 / θ) * ln((h + r0) / r0) / ln(1 + θ0 · π/180)),  θ0 = 1°, θ = 1/2048"

with ``r0 = 6 378 137 m``. ``|n|`` is written in mixed radix, one digit per level,
the same splits as the longitude from level 2 on: 64 (two decimal digits, level 1), then
8, 2, 15, 15, 2, 8, 8, 8, 8 (level 10 is one index step). The code starts with the sign
(``0`` at or above the ellipsoid, ``1`` below): twelve characters at level 10. (Some
implementations write levels 4 and 5 as four bits each; the Kingbase vector in the tests,
``...39D B89...``, shows the base-15 digits.)

The combined 32-character code
------------------------------
Public implementations disagree on how the 3D code is laid out, so both are offered:

``interleaved`` (the default, as in the standard's 3D code and the Kingbase and
BeidouGridCodec implementations)
    hemisphere, height sign, then per level the 2D characters followed by that level's
    height characters: ``N050J004705039DB8920557347`` at level 8.
``appended``
    the 20-character 2D code followed by the 12-character height code.

Both have the same length at every level; :func:`decode` tells them apart by the fourth
character (a latitude letter only in the appended form).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from airgrid.airspace.errors import GridCodeError

#: Level-10 cells per degree (1/2048 arc-second each).
UNITS_PER_DEGREE = 2048 * 3600
#: Cell size per level in level-10 units, (longitude, latitude); index 0 unused.
CELL_UNITS = np.array(
    [
        (360 * UNITS_PER_DEGREE, 360 * UNITS_PER_DEGREE),
        (6 * UNITS_PER_DEGREE, 4 * UNITS_PER_DEGREE),
        (UNITS_PER_DEGREE // 2, UNITS_PER_DEGREE // 2),
        (UNITS_PER_DEGREE // 4, UNITS_PER_DEGREE // 6),
        (UNITS_PER_DEGREE // 60, UNITS_PER_DEGREE // 60),
        (2048 * 4, 2048 * 4),
        (2048 * 2, 2048 * 2),
        (512, 512),
        (64, 64),
        (8, 8),
        (1, 1),
    ],
    dtype=np.int64,
)
#: Length of the 2D code at each level (index 0: the hemisphere letter alone).
CODE_LENGTH = (1, 4, 6, 7, 9, 11, 12, 14, 16, 18, 20)
#: Radix of the height index's digit at each level (level 1 as two decimal digits).
HEIGHT_RADIX = (64, 8, 2, 15, 15, 2, 8, 8, 8, 8)
#: Index steps in one cell of each level (the product of the finer radices).
HEIGHT_WEIGHT = tuple(int(np.prod(HEIGHT_RADIX[k + 1 :])) for k in range(10))
#: Length of the height code at each level (sign, two digits, then one per level).
HEIGHT_LENGTH = tuple(1 + 2 + k - 1 for k in range(1, 11))
EARTH_RADIUS_M = 6_378_137.0
#: θ0 / θ and ln(1 + θ0 · π/180) of the height formula.
_HEIGHT_SCALE = float(UNITS_PER_DEGREE)
_HEIGHT_LOG_BASE = math.log1p(math.pi / 180.0)
MAX_LEVEL = 10
POLAR_LAT = 88.0

Layout = Literal["interleaved", "appended"]
_HEX = np.frombuffer(b"0123456789ABCDEF", np.uint8)


@dataclass(frozen=True)
class CodeBox:
    """The box a grid code stands for.

    Attributes
    ----------
    west, south, east, north
        Bounds in degrees (WGS84).
    bottom_m, top_m
        Height range in metres above the surface ``height_reference`` names; ``None``
        for a 2D code.
    level
        The code's level (Beidou 1-10) or zoom (ZFXY).
    height_reference
        ``"W84"``: the WGS84 ellipsoid (Beidou, whose standard measures geodetic
        heights); ``"AMSL"``: mean sea level (ZFXY, see :mod:`.zfxy`).
    """

    west: float
    south: float
    east: float
    north: float
    bottom_m: float | None
    top_m: float | None
    level: int
    height_reference: Literal["W84", "AMSL"] = "W84"

    def contains(self, lat: float, lon: float, h: float | None = None, tol: float = 1e-9) -> bool:
        """Whether a point lies in the box (closed, with ``tol`` degrees / metres of slack)."""
        inside = (self.west - tol <= lon <= self.east + tol) and (
            self.south - tol <= lat <= self.north + tol
        )
        if h is not None and self.bottom_m is not None and self.top_m is not None:
            inside &= self.bottom_m - tol <= h <= self.top_m + tol
        return inside


def _check_level(level: int) -> None:
    if not (isinstance(level, int | np.integer) and 1 <= level <= MAX_LEVEL):
        raise GridCodeError(f"Beidou level must be an integer 1..{MAX_LEVEL}, got {level!r}")


def _mirrored_units(lat: NDArray, lon: NDArray) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Offsets in level-10 cells from the origin corner, mirrored into the north-east."""
    if not (np.all(np.isfinite(lat)) and np.all(np.isfinite(lon))):
        raise GridCodeError("latitude and longitude must be finite numbers")
    if np.any(np.abs(lat) >= POLAR_LAT) or np.any(np.abs(lon) > 180):
        raise GridCodeError(
            f"Beidou codes cover |lat| < {POLAR_LAT:g} and |lon| <= 180 (polar caps are not supported)"
        )
    lon_u = np.floor(lon * UNITS_PER_DEGREE).astype(np.int64)
    lat_u = np.floor(lat * UNITS_PER_DEGREE).astype(np.int64)
    lon_u = np.minimum(lon_u, 180 * UNITS_PER_DEGREE - 1)
    east, north = lon_u >= 0, lat_u >= 0
    return np.where(east, lon_u, -lon_u - 1), np.where(north, lat_u, -lat_u - 1), east, north


def _digits_2d(
    mx: NDArray, my: NDArray, east: NDArray, north: NDArray, level: int
) -> list[NDArray]:
    """ASCII columns of the 2D code (hemisphere letter first) for offsets ``mx``, ``my``."""
    cols = [np.where(north, ord("N"), ord("S")).astype(np.uint8)]
    zone_k = mx // CELL_UNITS[1, 0]
    zone = np.where(east, zone_k + 31, 30 - zone_k)
    cols += [(ord("0") + zone // 10).astype(np.uint8), (ord("0") + zone % 10).astype(np.uint8)]
    cols.append((ord("A") + my // CELL_UNITS[1, 1]).astype(np.uint8))
    for k in range(2, level + 1):
        ix = (mx % CELL_UNITS[k - 1, 0]) // CELL_UNITS[k, 0]
        iy = (my % CELL_UNITS[k - 1, 1]) // CELL_UNITS[k, 1]
        if k in (3, 6):
            cols.append((ord("0") + 2 * iy + ix).astype(np.uint8))
        else:
            cols += [_HEX[ix], _HEX[iy]]
    return cols


def _join(cols: list[NDArray]) -> NDArray[np.str_]:
    mat = np.ascontiguousarray(np.stack(cols, axis=-1).astype(np.uint8))
    return mat.view(f"S{mat.shape[-1]}")[..., 0].astype(str)


def encode_2d(lat: ArrayLike, lon: ArrayLike, level: int = MAX_LEVEL) -> NDArray[np.str_]:
    """The 2D Beidou code of each point at ``level``.

    Parameters
    ----------
    lat, lon
        Degrees (WGS84 / CGCS2000), broadcast together.
    level
        1 (6° x 4°) to 10 (1/2048").

    Returns
    -------
    numpy.ndarray
        Strings of :data:`CODE_LENGTH` ``[level]`` characters, the shape of the inputs.

    Raises
    ------
    GridCodeError
        A bad level, a coordinate out of range, or a point in a polar cap.
    """
    _check_level(level)
    la, lo = np.broadcast_arrays(np.asarray(lat, float), np.asarray(lon, float))
    mx, my, east, north = _mirrored_units(la, lo)
    return _join(_digits_2d(mx, my, east, north, level))


def height_index(h: ArrayLike) -> NDArray[np.int64]:
    """The signed height index ``n`` of heights ``h`` (metres above the ellipsoid).

    Raises
    ------
    GridCodeError
        A height not finite, at or below the Earth's centre, or past the code's range.
    """
    hh = np.asarray(h, float)
    if not np.all(np.isfinite(hh)) or np.any(hh <= -EARTH_RADIUS_M * 0.99):
        raise GridCodeError("heights must be finite and above the Earth's centre")
    n = np.floor(_HEIGHT_SCALE * np.log1p(hh / EARTH_RADIUS_M) / _HEIGHT_LOG_BASE)
    if np.any(np.abs(n) >= HEIGHT_RADIX[0] * HEIGHT_WEIGHT[0]):
        raise GridCodeError("height outside the range of the Beidou height code")
    return n.astype(np.int64)


def height_of_index(n: ArrayLike) -> NDArray[np.float64]:
    """The height (m above the ellipsoid) where index ``n`` starts: inverse of :func:`height_index`."""
    nn = np.asarray(n, float)
    return EARTH_RADIUS_M * np.expm1(nn * _HEIGHT_LOG_BASE / _HEIGHT_SCALE)


def _height_fragments(n: NDArray, level: int) -> tuple[NDArray, list[list[NDArray]]]:
    """Sign column and, per level, the ASCII columns of the height code of index ``n``."""
    sign = np.where(n < 0, ord("1"), ord("0")).astype(np.uint8)
    a = np.abs(n)
    frags: list[list[NDArray]] = []
    for k in range(level):
        part = (a // HEIGHT_WEIGHT[k]) % HEIGHT_RADIX[k]
        if k == 0:
            frags.append([_HEX[part // 10], _HEX[part % 10]])
        else:
            frags.append([_HEX[part]])
    return sign, frags


def encode_height(h: ArrayLike, level: int = MAX_LEVEL) -> NDArray[np.str_]:
    """The Beidou height code of heights ``h`` (m above the ellipsoid) at ``level``.

    Raises
    ------
    GridCodeError
        A bad level or height (see :func:`height_index`).
    """
    _check_level(level)
    sign, frags = _height_fragments(height_index(h), level)
    return _join([sign, *(c for f in frags for c in f)])


def encode_3d(
    lat: ArrayLike,
    lon: ArrayLike,
    h: ArrayLike,
    level: int = MAX_LEVEL,
    layout: Layout = "interleaved",
) -> NDArray[np.str_]:
    """The 3D Beidou code (2D code and height code) of each point.

    Parameters
    ----------
    lat, lon
        Degrees, broadcast with ``h``.
    h
        Metres above the WGS84 ellipsoid.
    level
        1..10; 32 characters at level 10.
    layout
        ``"interleaved"`` (per level, 2D then height characters) or ``"appended"``
        (the 2D code, then the height code); see the module docstring.

    Raises
    ------
    GridCodeError
        A bad level, layout, coordinate or height.
    """
    _check_level(level)
    la, lo, hh = np.broadcast_arrays(
        np.asarray(lat, float), np.asarray(lon, float), np.asarray(h, float)
    )
    mx, my, east, north = _mirrored_units(la, lo)
    cols2d = _digits_2d(mx, my, east, north, level)
    sign, frags = _height_fragments(height_index(hh), level)
    if layout == "appended":
        return _join([*cols2d, sign, *(c for f in frags for c in f)])
    if layout != "interleaved":
        raise GridCodeError(f"layout must be 'interleaved' or 'appended', got {layout!r}")
    cols = [cols2d[0], sign]
    for k in range(1, level + 1):
        cols += cols2d[CODE_LENGTH[k - 1] : CODE_LENGTH[k]] + frags[k - 1]
    return _join(cols)


def _digit(ch: str, radix: int, code: str, pos: int) -> int:
    v = int(ch, 16) if ch in "0123456789ABCDEFabcdef" else -1
    if not 0 <= v < radix:
        raise GridCodeError(
            f"Beidou code {code!r}: character {pos + 1} ({ch!r}) is not a base-{radix} digit"
        )
    return v


def _level_of(length: int, lengths: tuple[int, ...], what: str, code: str) -> int:
    if length not in lengths[1:]:
        raise GridCodeError(
            f"{what} {code!r} has {length} characters; levels 1-10 have {', '.join(map(str, lengths[1:]))}"
        )
    return lengths.index(length)


def _decode_2d_parts(code: str) -> tuple[int, int, int, bool, bool]:
    """(level, x offset, y offset, east, north) of a 2D code, offsets in level-10 units."""
    level = _level_of(len(code), CODE_LENGTH, "Beidou 2D code", code)
    c = code.upper()
    if c[0] not in "NS":
        raise GridCodeError(f"Beidou code {code!r} must start with N or S")
    if not c[1:3].isdigit() or not 1 <= int(c[1:3]) <= 60:
        raise GridCodeError(f"Beidou code {code!r}: longitude zone {c[1:3]!r} is not 01..60")
    if not "A" <= c[3] <= "V":
        raise GridCodeError(f"Beidou code {code!r}: latitude band {c[3]!r} is not A..V")
    zone = int(c[1:3])
    east = zone >= 31
    mx = (zone - 31 if east else 30 - zone) * int(CELL_UNITS[1, 0])
    my = (ord(c[3]) - ord("A")) * int(CELL_UNITS[1, 1])
    splits = {2: (12, 8), 4: (15, 10), 5: (15, 15), 7: (8, 8), 8: (8, 8), 9: (8, 8), 10: (8, 8)}
    for k in range(2, level + 1):
        pos = CODE_LENGTH[k - 1]
        if k in (3, 6):
            v = _digit(c[pos], 6 if k == 3 else 4, code, pos)
            ix, iy = v % 2, v // 2
        else:
            nx, ny = splits[k]
            ix, iy = _digit(c[pos], nx, code, pos), _digit(c[pos + 1], ny, code, pos + 1)
        mx += ix * int(CELL_UNITS[k, 0])
        my += iy * int(CELL_UNITS[k, 1])
    return level, mx, my, east, c[0] == "N"


def _bounds(
    level: int, mx: int, my: int, east: bool, north: bool
) -> tuple[float, float, float, float]:
    sx, sy = int(CELL_UNITS[level, 0]), int(CELL_UNITS[level, 1])
    x0, x1 = (mx, mx + sx) if east else (-(mx + sx), -mx)
    y0, y1 = (my, my + sy) if north else (-(my + sy), -my)
    u = UNITS_PER_DEGREE
    return x0 / u, y0 / u, x1 / u, y1 / u


def _decode_height_parts(code: str, level: int) -> tuple[float, float]:
    """Bottom and top (m above the ellipsoid) of a height code of ``level``."""
    if code[0] not in "01":
        raise GridCodeError(f"Beidou height code {code!r} must start with the sign 0 or 1")
    if not code[1:3].isdigit() or int(code[1:3]) >= 64:
        raise GridCodeError(f"Beidou height code {code!r}: first level {code[1:3]!r} is not 00..63")
    a = int(code[1:3]) * HEIGHT_WEIGHT[0]
    for k in range(1, level):
        a += _digit(code[2 + k], HEIGHT_RADIX[k], code, 2 + k) * HEIGHT_WEIGHT[k]
    step = HEIGHT_WEIGHT[level - 1]
    lo, hi = (a, a + step) if code[0] == "0" else (1 - a - step, 1 - a)
    bottom, top = height_of_index(np.array([lo, hi]))
    return float(bottom), float(top)


def decode_2d(code: str) -> CodeBox:
    """The lon/lat box of a 2D Beidou code (no height range).

    Raises
    ------
    GridCodeError
        The code is not a 2D Beidou code of levels 1-10.
    """
    level, mx, my, east, north = _decode_2d_parts(str(code).strip())
    return CodeBox(*_bounds(level, mx, my, east, north), None, None, level)


def decode_height(code: str) -> tuple[float, float]:
    """Bottom and top (m above the ellipsoid) of a Beidou height code.

    Raises
    ------
    GridCodeError
        The code is not a height code of levels 1-10.
    """
    code = str(code).strip()
    return _decode_height_parts(
        code, _level_of(len(code), (1, *HEIGHT_LENGTH), "Beidou height code", code)
    )


def split_3d(code: str, layout: Layout | None = None) -> tuple[str, str]:
    """The 2D code and the height code inside a 3D code.

    ``layout`` None detects it: the appended form has the latitude letter fourth.

    Raises
    ------
    GridCodeError
        A length that no level has, or an unknown layout.
    """
    code = str(code).strip().upper()
    lengths = (2, *(CODE_LENGTH[k] + HEIGHT_LENGTH[k - 1] for k in range(1, 11)))
    level = _level_of(len(code), lengths, "Beidou 3D code", code)
    if layout is None:
        layout = "appended" if code[3:4].isalpha() else "interleaved"
    if layout == "appended":
        return code[: CODE_LENGTH[level]], code[CODE_LENGTH[level] :]
    if layout != "interleaved":
        raise GridCodeError(f"layout must be 'interleaved' or 'appended', got {layout!r}")
    flat, height, pos = [code[0]], [code[1]], 2
    for k in range(1, level + 1):
        n2d = CODE_LENGTH[k] - CODE_LENGTH[k - 1]
        nh = 2 if k == 1 else 1
        flat.append(code[pos : pos + n2d])
        height.append(code[pos + n2d : pos + n2d + nh])
        pos += n2d + nh
    return "".join(flat), "".join(height)


def decode_3d(code: str, layout: Layout | None = None) -> CodeBox:
    """The box (lon/lat bounds and height range) of a 3D Beidou code.

    Raises
    ------
    GridCodeError
        The code is not a 3D Beidou code in the given (or detected) layout.
    """
    flat, height = split_3d(code, layout)
    level, mx, my, east, north = _decode_2d_parts(flat)
    bottom, top = _decode_height_parts(height, level)
    return CodeBox(*_bounds(level, mx, my, east, north), bottom, top, level)
