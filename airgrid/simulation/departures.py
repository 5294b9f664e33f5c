"""When flights leave: departure times drawn from a daily curve.

The curve (:data:`DAILY_CURVE`) is a piecewise-linear rate over the local day (China
Standard Time, UTC+8): quiet at night, a morning rise to the late-morning peak (10:00,
delivery and business travel), a midday shoulder, a second peak at 18:00 (evening
deliveries) and a fall to the night level after 22:00. Times are drawn by inverting its
cumulative integral with a seeded :class:`numpy.random.Generator`, so a seed gives the
same day every time.
"""

from __future__ import annotations

import numpy as np

from airgrid.simulation.errors import TrafficError

#: (local hour, relative departure rate) knots of the daily curve, linear in between.
DAILY_CURVE: tuple[tuple[float, float], ...] = (
    (0.0, 0.05),
    (6.0, 0.10),
    (8.0, 0.60),
    (10.0, 1.00),
    (12.0, 0.80),
    (14.0, 0.75),
    (16.0, 0.85),
    (18.0, 1.00),
    (20.0, 0.60),
    (22.0, 0.25),
    (24.0, 0.05),
)
#: Offset of local time (China Standard Time) from UTC, seconds.
LOCAL_UTC_OFFSET_S = 8 * 3600


def departure_times(
    n: int,
    day_start: float,
    rng: np.random.Generator,
    curve: tuple[tuple[float, float], ...] = DAILY_CURVE,
) -> np.ndarray:
    """``n`` departure times (POSIX seconds, sorted) over the day starting at ``day_start``.

    Parameters
    ----------
    n
        How many (>= 0).
    day_start
        POSIX time of local midnight.
    rng
        The seeded generator.
    curve
        ``(hour, rate)`` knots from hour 0 to 24, rates >= 0 and not all zero.

    Raises
    ------
    TrafficError
        ``n`` negative or a malformed curve.
    """
    if n < 0:
        raise TrafficError(f"the number of flights must be >= 0, got {n}")
    hours = np.array([h for h, _ in curve], np.float64)
    rate = np.array([r for _, r in curve], np.float64)
    if hours[0] != 0 or hours[-1] != 24 or np.any(np.diff(hours) <= 0) or np.any(rate < 0):
        raise TrafficError("the daily curve needs increasing hours from 0 to 24 and rates >= 0")
    # the cumulative integral is piecewise quadratic: invert it on a one-minute lattice
    fine = np.linspace(0.0, 24.0, 24 * 60 + 1)
    r = np.interp(fine, hours, rate)
    fine_cum = np.concatenate([[0.0], np.cumsum(np.diff(fine) * (r[1:] + r[:-1]) / 2)])
    if fine_cum[-1] <= 0:
        raise TrafficError("the daily curve's rates are all zero")
    u = rng.uniform(0.0, fine_cum[-1], n)
    return np.sort(day_start + np.interp(u, fine_cum, fine) * 3600.0)


__all__ = ["DAILY_CURVE", "LOCAL_UTC_OFFSET_S", "departure_times"]
