"""Flight logs that are not tables: GeoJSON tracks, PX4 ULog and ASTM F3411 Remote ID JSON.

GeoJSON
-------
A FeatureCollection (or one Feature) of ``LineString`` geometries with Z
(``[lon, lat, alt]``). Properties: ``flight_id``, ``operator``, ``alt_ref`` (AMSL, AGL,
W84), ``times`` (one per vertex: POSIX seconds or ISO-8601 text with a UTC offset), and
optionally ``intent_id`` and ``tier``. Rows are vertices, numbered from 1 through the
file; ``where`` names them ``feature F vertex V`` (both 0-based, as JSON arrays count).
A fault of the feature itself rejects all its vertices.

PX4 ULog
--------
Read with pyulog: fixes from ``vehicle_global_position`` (``lat``, ``lon``, ``alt`` in
metres AMSL). Its ``timestamp`` counts microseconds since boot, so the log is anchored
to UTC with GNSS time: ``vehicle_gps_position`` (or ``sensor_gps``) samples carry both
``timestamp`` and ``time_utc_usec``, and the offset is the median of
``time_utc_usec - timestamp`` over samples with a GNSS time (robust to a late first
fix). A log without any GNSS time cannot be placed in time and is refused. The flight id
is the file's stem; the operator is given by the caller (a ULog does not name one).

ASTM F3411 Remote ID
--------------------
JSON: a list of flights, or ``{"flights": [...]}``, or one flight. A flight has ``id``
(or ``flight_id``), ``operator`` (or ``operator_id``), optionally ``intent_id`` and
``tier``, and ``telemetry`` (or ``states``): a list of ``RIDAircraftState``. From each
state: ``timestamp`` (``{"value": RFC 3339, "format": "RFC3339"}`` or the text) and
``position`` with ``lat``, ``lng`` and ``alt`` (metres above the WGS84 ellipsoid). Where
``alt`` is absent or ``-1000`` (F3411's "unknown"), ``height`` with reference
``GroundLevel`` is used as AGL; a height over ``TakeoffLocation`` cannot be placed and
the state is rejected. Rows are states, numbered from 1 through the file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from airgrid.audit.errors import LogError
from airgrid.audit.tracks import AltRef, ReadResult, Rejected, raw_columns
from airgrid.geo.validation import TIME_MAX, TIME_MIN

#: F3411's value for an unknown altitude.
RID_UNKNOWN_ALT = -1000.0


class _Fault(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _time(v: Any, field: str = "time") -> float:
    """POSIX seconds from a number or ISO-8601 text with a UTC offset."""
    if isinstance(v, bool):
        raise _Fault(field, "not a time")
    if isinstance(v, int | float):
        t = float(v)
    elif isinstance(v, str):
        try:
            d = datetime.fromisoformat(v.strip())
        except ValueError:
            raise _Fault(field, f"not ISO-8601: {v!r}") from None
        if d.tzinfo is None:
            raise _Fault(field, f"no UTC offset: {v!r}")
        t = d.timestamp()
    else:
        raise _Fault(field, "not a time")
    if not (math.isfinite(t) and TIME_MIN <= t <= TIME_MAX):
        raise _Fault(field, "not a time in 1970-2200")
    return t


def _num(v: Any, field: str, lo: float, hi: float) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= float(v) <= hi:
        raise _Fault(field, f"not a number in {lo:g}..{hi:g}: {v!r}")
    return float(v)


def _text(v: Any, field: str) -> str:
    if not isinstance(v, str) or not v.strip():
        raise _Fault(field, "missing or empty")
    return v.strip()


class _Rows:
    """Collects good fixes and rejected rows of one file."""

    def __init__(self, path: str) -> None:
        self.result = ReadResult(path, {})
        self.rows: list[tuple] = []

    def bad(self, row: int, fault: _Fault, where: str) -> None:
        self.result.reject(Rejected(self.result.path, row, fault.field, fault.message, where))

    def finish(self) -> ReadResult:
        cols = list(zip(*self.rows)) if self.rows else [()] * 10
        fid, op, intent, tier, t, lat, lon, alt, ref, row = cols
        self.result.columns = raw_columns(
            len(self.rows),
            flight_id=np.array(fid, object),
            operator=np.array(op, object),
            intent_id=np.array(intent, object),
            tier=np.array(tier, object),
            t=np.array(t, float),
            lat=np.array(lat, float),
            lon=np.array(lon, float),
            alt=np.array(alt, float),
            ref=np.array(ref, np.int8),
            row=np.array(row, np.int64),
        )
        return self.result


def _load_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LogError(f"{path}: not readable JSON: {exc}") from None


# -- GeoJSON ---------------------------------------------------------------------------
def read_geojson(path: str | Path) -> ReadResult:
    """Fixes of a GeoJSON file of LineString Z tracks (see the module docstring).

    Raises
    ------
    LogError
        Not JSON, or not a Feature / FeatureCollection.
    """
    path = str(path)
    doc = _load_json(path)
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        features = doc.get("features")
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    else:
        features = None
    if not isinstance(features, list):
        raise LogError(f"{path}: a GeoJSON track file must be a Feature or FeatureCollection")
    out = _Rows(path)
    row = 0
    for fi, feat in enumerate(features):
        geom = feat.get("geometry") if isinstance(feat, dict) else None
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        n = len(coords) if isinstance(coords, list) else 1
        try:
            props = feat.get("properties") or {}
            if (
                not isinstance(geom, dict)
                or geom.get("type") != "LineString"
                or not isinstance(coords, list)
            ):
                raise _Fault("geometry", "not a LineString")
            head = (
                _text(props.get("flight_id"), "flight_id"),
                _text(props.get("operator"), "operator"),
                str(props.get("intent_id") or ""),
                str(props.get("tier") or ""),
            )
            ref = _ref(props.get("alt_ref"))
            times = props.get("times")
            if not isinstance(times, list) or len(times) != n:
                raise _Fault(
                    "times",
                    f"need one time per vertex ({n}), got {len(times) if isinstance(times, list) else 'none'}",
                )
        except _Fault as fault:
            for v in range(n):
                row += 1
                out.bad(row, fault, f"feature {fi} vertex {v}")
            continue
        for v, (c, tv) in enumerate(zip(coords, times)):
            row += 1
            try:
                if not isinstance(c, list) or len(c) != 3:
                    raise _Fault("coordinates", "need [lon, lat, alt] (LineString Z)")
                fix = (
                    _time(tv, "times"),
                    _num(c[1], "lat", -90, 90),
                    _num(c[0], "lon", -180, 180),
                    _num(c[2], "alt", -1000, 20_000),
                )
            except _Fault as fault:
                out.bad(row, fault, f"feature {fi} vertex {v}")
                continue
            out.rows.append((*head, *fix, ref, row))
    return out.finish()


def _ref(v: Any) -> int:
    try:
        return int(AltRef[str(v).strip().upper()])
    except KeyError:
        raise _Fault("alt_ref", f"not one of AMSL, AGL, W84: {v!r}") from None


# -- PX4 ULog --------------------------------------------------------------------------
def read_ulog(path: str | Path, *, operator: str = "unknown") -> ReadResult:
    """Fixes of a PX4 ULog (see the module docstring).

    Parameters
    ----------
    path
        The ``.ulg`` file.
    operator
        Who flew it.

    Raises
    ------
    LogError
        Not a ULog, no ``vehicle_global_position``, or no GNSS time to anchor it.
    """
    from pyulog import ULog

    path = str(path)
    topics = ["vehicle_global_position", "vehicle_gps_position", "sensor_gps"]
    try:
        log = ULog(path, topics)
    except Exception as exc:  # pyulog raises plain exceptions of many kinds on bad files
        raise LogError(f"{path}: not a readable ULog: {exc}") from None
    data = {d.name: d.data for d in log.data_list}
    gp = data.get("vehicle_global_position")
    if gp is None:
        raise LogError(f"{path}: no vehicle_global_position in the log")
    offset = None
    for name in ("vehicle_gps_position", "sensor_gps"):
        gps = data.get(name)
        if gps is not None and "time_utc_usec" in gps:
            utc = gps["time_utc_usec"].astype(np.int64)
            ok = utc > 0
            if ok.any():
                offset = int(np.median(utc[ok] - gps["timestamp"][ok].astype(np.int64)))
                break
    if offset is None:
        raise LogError(
            f"{path}: no GNSS time (time_utc_usec) in vehicle_gps_position or sensor_gps: "
            "the log's boot-relative timestamps cannot be placed in UTC"
        )
    t = (gp["timestamp"].astype(np.int64) + offset) / 1e6
    lat, lon, alt = (gp[k].astype(np.float64) for k in ("lat", "lon", "alt"))
    row = np.arange(1, len(t) + 1, dtype=np.int64)
    result = ReadResult(path, {})
    ok = np.ones(len(t), bool)
    for name, v, lim in (("lat", lat, 90.0), ("lon", lon, 180.0), ("alt", alt, 20_000.0)):
        bad = ok & ~(np.abs(v) <= lim)
        result.reject(
            [
                Rejected(
                    path,
                    int(i + 1),
                    name,
                    "missing or out of range",
                    f"vehicle_global_position sample {i + 1}",
                )
                for i in np.flatnonzero(bad)
            ]
        )
        ok &= ~bad
    result.columns = raw_columns(
        int(ok.sum()),
        flight_id=Path(path).stem,
        operator=operator,
        t=t[ok],
        lat=lat[ok],
        lon=lon[ok],
        alt=alt[ok],
        ref=int(AltRef.AMSL),
        row=row[ok],
    )
    return result


# -- ASTM F3411 Remote ID --------------------------------------------------------------
def _flights(doc: Any) -> list:
    if isinstance(doc, dict) and isinstance(doc.get("flights"), list):
        return doc["flights"]
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        return [doc]
    return []


def _states(flight: Any) -> Iterator[Any]:
    states = flight.get("telemetry", flight.get("states")) if isinstance(flight, dict) else None
    yield from states if isinstance(states, list) else ()


def _rid_fix(state: Any) -> tuple[float, float, float, float, int]:
    """(t, lat, lon, alt, ref) of one RIDAircraftState."""
    if not isinstance(state, dict):
        raise _Fault("(state)", "not an object")
    ts = state.get("timestamp")
    t = _time(ts.get("value") if isinstance(ts, dict) else ts, "timestamp")
    pos = state.get("position")
    if not isinstance(pos, dict):
        raise _Fault("position", "missing")
    lat = _num(pos.get("lat"), "position.lat", -90, 90)
    lon = _num(pos.get("lng"), "position.lng", -180, 180)
    alt = pos.get("alt")
    if isinstance(alt, int | float) and not isinstance(alt, bool) and alt != RID_UNKNOWN_ALT:
        return t, lat, lon, _num(alt, "position.alt", -1000, 20_000), int(AltRef.W84)
    height = pos.get("height")
    if isinstance(height, dict) and height.get("reference") == "GroundLevel":
        h = _num(height.get("distance"), "position.height.distance", -1000, 20_000)
        return t, lat, lon, h, int(AltRef.AGL)
    raise _Fault("position.alt", "unknown, and no height above GroundLevel to use instead")


def read_rid(path: str | Path) -> ReadResult:
    """Fixes of ASTM F3411 Remote ID telemetry JSON (see the module docstring).

    Raises
    ------
    LogError
        Not JSON, or no flight with telemetry in it.
    """
    path = str(path)
    flights = _flights(_load_json(path))
    if not any(True for f in flights for _ in _states(f)):
        raise LogError(f"{path}: no Remote ID flight with telemetry (RIDAircraftState list)")
    out = _Rows(path)
    row = 0
    for fi, flight in enumerate(flights):
        states = list(_states(flight))
        try:
            if not isinstance(flight, dict):
                raise _Fault("(flight)", "not an object")
            head = (
                _text(flight.get("id", flight.get("flight_id")), "id"),
                _text(flight.get("operator", flight.get("operator_id")), "operator"),
                str(flight.get("intent_id") or ""),
                str(flight.get("tier") or ""),
            )
        except _Fault as fault:
            for si in range(len(states)):
                row += 1
                out.bad(row, fault, f"flight {fi} state {si}")
            continue
        for si, state in enumerate(states):
            row += 1
            try:
                t, lat, lon, alt, ref = _rid_fix(state)
            except _Fault as fault:
                out.bad(row, fault, f"flight {fi} state {si}")
                continue
            out.rows.append((*head, t, lat, lon, alt, ref, row))
    return out.finish()


__all__ = ["RID_UNKNOWN_ALT", "read_geojson", "read_rid", "read_ulog"]
