"""The oblique (double) stereographic projection of the WGS84 ellipsoid (forward), in Numba.

This is the projection PROJ calls ``sterea`` (Oblique Stereographic Alternative), the
plane of :func:`~airgrid.geo.plane.local_metric`, and the arithmetic is PROJ's, step for
step, so points agree with ``+proj=sterea +ellps=WGS84`` to rounding (the tests hold the
two within a micrometre). The ellipsoid is mapped conformally onto a sphere (Gauss's
conformal sphere, fitted at the centre's latitude), and the sphere projected
stereographically from the point opposite the centre. With scale ``k0`` at the centre,
the scale grows with the distance from it and is never below ``k0``.

It exists so that a kernel measuring footprints in the plane can project their vertices
itself, in the same pass, instead of handing them to a PROJ transformer a few hundred
at a time (where PROJ's cost per call, not per vertex, dominated).

References
----------
- PROJ, ``src/projections/sterea.cpp`` and ``src/gauss.cpp`` (the formulas).
- J. P. Snyder, *Map Projections: A Working Manual*, USGS Professional Paper 1395
  (1987), pp. 154-163 (the stereographic projection).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: WGS84 semi-major axis (m) and first eccentricity squared (2f - f^2, f = 1/298.257223563).
WGS84_A = 6_378_137.0
WGS84_ES = 0.0066943799901413165
# parameter vector layout (float64[9])
_LAM0, _C, _K, _RATEXP, _E, _SINC0, _COSC0, _R2, _K0 = range(9)


def sterea_params(lon0: float, lat0: float, k0: float = 1.0) -> np.ndarray:
    """The constants of the projection centred on (``lon0``, ``lat0``) degrees with
    scale ``k0`` there (PROJ's ``pj_gauss_ini`` and ``sterea`` set-up).

    Returns
    -------
    numpy.ndarray
        float64[9], the argument :func:`sterea_point` takes.
    """
    es = WGS84_ES
    e = math.sqrt(es)
    phi0 = math.radians(lat0)
    sphi = math.sin(phi0)
    cphi = math.cos(phi0) ** 2
    rc = math.sqrt(1.0 - es) / (1.0 - es * sphi * sphi)
    c = math.sqrt(1.0 + es * cphi * cphi / (1.0 - es))
    chi = math.asin(sphi / c)
    ratexp = 0.5 * c * e
    srat = ((1.0 - e * sphi) / (1.0 + e * sphi)) ** ratexp
    k = math.tan(0.5 * chi + math.pi / 4) / (math.tan(0.5 * phi0 + math.pi / 4) ** c * srat)
    out = np.empty(9)
    out[_LAM0] = math.radians(lon0)
    out[_C], out[_K], out[_RATEXP], out[_E] = c, k, ratexp, e
    out[_SINC0], out[_COSC0] = math.sin(chi), math.cos(chi)
    out[_R2], out[_K0] = 2.0 * rc, k0
    return out


@njit(cache=True, nogil=True, inline="always")
def _adjlon(lam: float) -> float:
    """Longitude difference brought into [-pi, pi]."""
    if abs(lam) <= math.pi:
        return lam
    return lam - 2.0 * math.pi * math.floor((lam + math.pi) / (2.0 * math.pi))


@njit(cache=True, nogil=True, inline="always")
def sterea_point(p: np.ndarray, lon: float, lat: float) -> tuple[float, float]:
    """Project one point, ``lon``, ``lat`` in degrees, to plane metres ``x``, ``y`` with the
    constants ``p`` of :func:`sterea_params`."""
    phi = lat * (math.pi / 180.0)
    lam = _adjlon(lon * (math.pi / 180.0) - p[_LAM0]) * p[_C]
    s = p[_E] * math.sin(phi)
    chi = (
        2.0
        * math.atan(
            p[_K]
            * math.tan(0.5 * phi + math.pi / 4) ** p[_C]
            * ((1.0 - s) / (1.0 + s)) ** p[_RATEXP]
        )
        - math.pi / 2
    )
    sinc, cosc, cosl = math.sin(chi), math.cos(chi), math.cos(lam)
    f = p[_K0] * p[_R2] * WGS84_A / (1.0 + p[_SINC0] * sinc + p[_COSC0] * cosc * cosl)
    return f * cosc * math.sin(lam), f * (p[_COSC0] * sinc - p[_SINC0] * cosc * cosl)


__all__ = ["WGS84_A", "WGS84_ES", "sterea_params", "sterea_point"]
