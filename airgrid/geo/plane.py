"""The local metric plane: one conformal projection for every metric buffer and distance test."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import shapely
from pyproj import Transformer

#: Relative growth added to every metric buffer so polygonal approximations of arcs
#: and local-projection scale error can only enlarge a protected area.
BUFFER_SAFETY = 1e-3

_G = TypeVar("_G", shapely.Geometry, np.ndarray)


def local_metric(lon: float, lat: float) -> tuple[Transformer, Transformer]:
    """Forward and inverse transformers to a local conformal plane (metres) centred on a point.

    The plane is PROJ's oblique (double) stereographic projection of the WGS84 ellipsoid
    with scale 1 at the centre. Its scale is smallest there and grows with the distance
    ``s`` from the centre as about ``1 + (s / 2R)^2``: planar distances never understate
    true (geodesic) ones and overstate them by at most 0.0034 % within 75 km of the
    centre and 0.014 % within 150 km (checked against ``pyproj.Geod`` in the tests), so
    buffers computed in the plane and grown by :data:`BUFFER_SAFETY` contain their true
    counterparts, and distance tests with that margin cannot miss a true contact.

    Chosen over the azimuthal-equidistant plane (exact distances from the centre, a
    similar bound elsewhere) because PROJ projects a vertex about 4 times faster with it,
    which is most of the cost of an exact conflict test. Built from explicit PROJ
    pipelines, without the CRS database look-up (about 0.3 ms instead of 20 ms per plane).
    """
    plane = f"+proj=sterea +lat_0={lat:.8f} +lon_0={lon:.8f} +k_0=1 +x_0=0 +y_0=0 +ellps=WGS84"
    return (
        Transformer.from_pipeline(
            f"+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step {plane}"
        ),
        Transformer.from_pipeline(
            f"+proj=pipeline +step +inv {plane} +step +proj=unitconvert +xy_in=rad +xy_out=deg"
        ),
    )


def transform(tf: Transformer, geoms: _G) -> _G:
    """Apply a transformer to a shapely geometry or an array of them (vertex by vertex)."""
    return shapely.transform(geoms, tf.transform, interleaved=False)
