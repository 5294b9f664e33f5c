"""One entry point for every flight-log format, chosen by the file's suffix."""

from __future__ import annotations

from pathlib import Path

from airgrid.audit.errors import LogError
from airgrid.audit.formats import read_geojson, read_rid, read_ulog
from airgrid.audit.tables import read_csv, read_parquet
from airgrid.audit.tracks import ReadResult

#: Suffix -> format name.
FORMATS = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".geojson": "geojson",
    ".ulg": "ulog",
    ".json": "rid",
}


def read_log(path: str | Path, *, operator: str = "unknown") -> ReadResult:
    """Read one flight log.

    Parameters
    ----------
    path
        ``.csv`` / ``.parquet`` (track tables), ``.geojson`` (LineString Z tracks),
        ``.ulg`` (PX4 ULog) or ``.json`` (ASTM F3411 Remote ID telemetry; a ``.json``
        holding a GeoJSON FeatureCollection is read as GeoJSON).
    operator
        The operator of logs that do not name one (ULog).

    Raises
    ------
    LogError
        Missing file, unknown suffix, or a file that cannot be read as its format.
    """
    p = Path(path)
    if not p.is_file():
        raise LogError(f"{p}: no such file")
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise LogError(f"{p}: unknown log format (suffixes: {', '.join(sorted(FORMATS))})")
    if fmt == "csv":
        return read_csv(p)
    if fmt == "parquet":
        return read_parquet(p)
    if fmt == "ulog":
        return read_ulog(p, operator=operator)
    if fmt == "rid" and _looks_like_geojson(p):
        fmt = "geojson"
    return read_geojson(p) if fmt == "geojson" else read_rid(p)


def _looks_like_geojson(p: Path) -> bool:
    with open(p, "rb") as f:
        head = f.read(4096)
    return b'"FeatureCollection"' in head or b'"Feature"' in head


__all__ = ["FORMATS", "read_log"]
