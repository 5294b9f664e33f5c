"""Earth constants and conservative metre/degree conversions, one copy for every layer.

The conversions are bounds, not estimates: each says on which side it errs. A pad in
degrees computed here never covers fewer metres than asked anywhere in the range where
it is used.
"""

from __future__ import annotations

import math

#: Mean Earth radius (IUGG R1 of WGS84), m. Used for great-circle distances on the sphere.
EARTH_RADIUS_M = 6_371_008.8
#: Shortest length of one degree of latitude on the WGS84 ellipsoid (at the equator), m.
M_PER_DEG_LAT_MIN = 110_574.0
#: Length of one degree of longitude at the equator on the WGS84 ellipsoid, m. At latitude
#: ``phi`` a degree of longitude is at least ``M_PER_DEG_LON_EQUATOR * cos(phi)``.
M_PER_DEG_LON_EQUATOR = 111_320.0
#: One international foot, m (exact).
FT = 0.3048
#: Cosine floor for longitude pads, so pads stay finite near the poles (about 84.3 deg).
_COS_FLOOR = 0.1


def deg_lat_for(metres: float) -> float:
    """Degrees of latitude that span at least ``metres`` anywhere on the ellipsoid.

    Uses the shortest degree (at the equator), so it overstates by at most 1.0 % (at the
    poles a degree of latitude is 111,694 m).
    """
    return metres / M_PER_DEG_LAT_MIN


def deg_lon_for(metres: float, lat_abs_max: float) -> float:
    """Degrees of longitude that span at least ``metres`` at every latitude up to ``lat_abs_max``.

    ``M_PER_DEG_LON_EQUATOR * cos(phi)`` understates the true degree of longitude (the
    ellipsoid's parallel radius exceeds the sphere's ``a cos(phi)`` by ``1/sqrt(1 - e^2
    sin^2 phi)``, at most 0.34 %), so the result errs wide by at most that; the cosine is
    floored at 0.1.

    Parameters
    ----------
    metres
        The distance to span.
    lat_abs_max
        The largest absolute latitude (degrees) where the pad is applied.
    """
    cos = max(math.cos(math.radians(min(abs(lat_abs_max), 90.0))), _COS_FLOOR)
    return metres / (M_PER_DEG_LON_EQUATOR * cos)
