"""Rules every way in shares: identifiers, instants and sizes.

The geofence and intent models call these, so the API, the importers (GeoJSON,
ED-269, ED-318), the CLI and the store refuse the same values, and nothing is stored
that cannot be read back and formatted.

Each check takes the error class to raise, so a caller's error family stays its own
(a geofence refuses with a :class:`~airgrid.airspace.errors.GeofenceError`, an intent
with an :class:`~airgrid.airspace.errors.IntentError`).

Decisions
---------
* **Identifiers**: 1 to :data:`MAX_IDENTIFIER_LENGTH` printable characters, no white
  space, no ``/`` (ids are URL path segments), and neither ``.`` nor ``..`` (which URL
  normalisation would swallow).
* **Instants** lie in [:data:`TIME_MIN`, :data:`TIME_MAX`] (1970-01-01 to 2200-01-01
  UTC). Every such instant can be written in any time zone and its calendar day and
  the days around it exist, which the daily-period arithmetic needs; near year 1 or
  9999 neither holds.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

#: Longest identifier (geofences; intents have their own shorter pattern).
MAX_IDENTIFIER_LENGTH = 128
#: Earliest accepted instant, POSIX seconds (1970-01-01T00:00:00Z).
TIME_MIN = 0.0
#: Latest accepted instant, POSIX seconds (2200-01-01T00:00:00Z).
TIME_MAX = datetime(2200, 1, 1, tzinfo=UTC).timestamp()
#: Smallest circle radius, metres (a smaller one is a typo or a unit error).
MIN_RADIUS_M = 1.0


def check_identifier(
    value: object, what: str, error: type[Exception], max_length: int = MAX_IDENTIFIER_LENGTH
) -> str:
    """``value`` if it is a usable identifier, else ``error``.

    Parameters
    ----------
    value
        The candidate identifier.
    what
        How to name it in the message (``"geofence identifier"``).
    error
        Exception class to raise.
    max_length
        Longest accepted identifier.

    Returns
    -------
    str

    Raises
    ------
    error
        Not a string, empty, too long, white space, ``/``, control characters, or ``.``/``..``.
    """
    if not isinstance(value, str):
        raise error(f"{what} must be a string, got {type(value).__name__}")
    if not value:
        raise error(f"{what} must not be empty")
    if len(value) > max_length:
        raise error(f"{what} has {len(value)} characters, the limit is {max_length}")
    if value in (".", ".."):
        raise error(f"{what} {value!r} is not allowed (it names a path, not an object)")
    if "/" in value or any(c.isspace() or not c.isprintable() for c in value):
        raise error(f"{what} {value!r} must not contain '/', white space or control characters")
    return value


def check_time(t: float, what: str, error: type[Exception]) -> float:
    """``t`` (POSIX seconds) if it is finite and in [:data:`TIME_MIN`, :data:`TIME_MAX`].

    Raises
    ------
    error
        Not finite, or outside the range.
    """
    if not math.isfinite(t):
        raise error(f"{what} must be a finite time")
    if not TIME_MIN <= t <= TIME_MAX:
        raise error(f"{what} must lie between 1970-01-01T00:00:00Z and 2200-01-01T00:00:00Z")
    return t


def check_datetime(t: datetime, what: str, error: type[Exception]) -> datetime:
    """An aware datetime if its instant passes :func:`check_time` (it is returned unchanged).

    Raises
    ------
    error
        No time zone, or an instant outside the range.
    """
    if t.tzinfo is None or t.utcoffset() is None:
        raise error(f"{what} needs a time zone (add Z or an offset)")
    check_time((t - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds(), what, error)
    return t
