"""Generated tracks for the audit tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pytest

from airgrid.audit.tracks import AltRef, ReadResult, Tracks, normalise, raw_columns
from airgrid.terrain import Dem
from airgrid.terrain.geoid import Geoid

#: Monday 2025-03-03 08:00 UTC.
T0 = datetime(2025, 3, 3, 8, tzinfo=UTC).timestamp()
#: A square around (28.11, 112.91): lon 112.90-112.92, lat 28.10-28.12.
SQUARE = ((112.90, 28.10), (112.92, 28.10), (112.92, 28.12), (112.90, 28.12), (112.90, 28.10))


def fixes(
    flight: str,
    t: Sequence[float],
    lat: Sequence[float],
    lon: Sequence[float],
    alt: Sequence[float] | float,
    ref: AltRef = AltRef.AMSL,
    *,
    operator: str = "Op",
    intent_id: str = "",
    tier: str = "",
) -> ReadResult:
    """One flight's fixes as a read result (rows numbered from 1)."""
    n = len(t)
    cols = raw_columns(
        n,
        flight_id=flight,
        operator=operator,
        intent_id=intent_id,
        tier=tier,
        t=np.asarray(t, float),
        lat=np.asarray(lat, float),
        lon=np.asarray(lon, float),
        alt=np.broadcast_to(np.asarray(alt, float), (n,)).copy(),
        ref=int(ref),
        row=np.arange(1, n + 1),
    )
    return ReadResult(f"{flight}.csv", cols)


@pytest.fixture(scope="session")
def make_tracks(real_dem: Dem):
    """``make_tracks(*read_results, dem=True) -> Tracks`` over the real DEM and geoid."""
    geoid = Geoid()

    def make(*parts: ReadResult, dem: bool = True) -> Tracks:
        return normalise(list(parts), dem=real_dem if dem else None, geoid=geoid)[0]

    return make
