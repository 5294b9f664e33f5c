"""Assessed tables as GeoJSON (hexagon polygons) and Parquet, for the map page and planners.

Each feature is one cell in one bin: its hexagon (lon/lat ring, closed) and the
properties ``cell``, ``tier``, ``bin_start``, ``bin_end`` (ISO 8601 UTC), ``count``,
``occupancy``, ``conflicts``, ``refusals``, ``area_class``, ``capacity``, ``load``,
``hotspot`` and ``suggestion`` (null unless the cell stays over capacity).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import h3
import pandas as pd

#: Numbers are rounded to this many decimals in GeoJSON.
DECIMALS = 6


def iso(t: float) -> str:
    """POSIX seconds as ISO 8601 UTC (``Z``)."""
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def hexagon(cell: str) -> list[list[float]]:
    """The closed lon/lat ring of an H3 cell."""
    ring = [[round(lon, 7), round(lat, 7)] for lat, lon in h3.cell_to_boundary(cell)]
    return [*ring, ring[0]]


def _number(x: float) -> float | None:
    return None if not math.isfinite(x) else round(float(x), DECIMALS)


def feature_properties(row: dict[str, Any]) -> dict[str, Any]:
    """JSON properties of one assessed row."""
    return {
        "cell": row["cell"],
        "tier": row["tier"],
        "bin_start": iso(row["bin_start"]),
        "bin_end": iso(row["bin_end"]),
        "count": int(row["count"]),
        "occupancy": _number(row["occupancy"]),
        "conflicts": int(row["conflicts"]),
        "refusals": int(row["refusals"]),
        "area_class": row["area_class"],
        "capacity": _number(row["capacity"]),
        "load": _number(row["load"]),
        "hotspot": bool(row["hotspot"]),
        "suggestion": row["suggestion"] or None,
    }


def to_geojson(assessed: pd.DataFrame) -> dict[str, Any]:
    """A GeoJSON FeatureCollection, one hexagon feature per row of ``assessed``."""
    rings = {c: hexagon(c) for c in assessed["cell"].unique().tolist()}
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": f"{row['cell']}@{iso(row['bin_start'])}",
                "geometry": {"type": "Polygon", "coordinates": [rings[row["cell"]]]},
                "properties": feature_properties(row),
            }
            for row in assessed.to_dict("records")
        ],
    }


def to_parquet_frame(assessed: pd.DataFrame) -> pd.DataFrame:
    """``assessed`` with its bins as UTC timestamps and the hexagon as WKT (``geometry``)."""
    out = assessed.copy()
    for col in ("bin_start", "bin_end"):
        out[col] = pd.to_datetime(out[col], unit="s", utc=True)
    rings = {c: hexagon(c) for c in out["cell"].unique().tolist()}
    out["geometry"] = [
        "POLYGON ((" + ", ".join(f"{x} {y}" for x, y in rings[c]) + "))" for c in out["cell"]
    ]
    return out


def write_outputs(assessed: pd.DataFrame, out_dir: str | Path, stem: str) -> tuple[Path, Path]:
    """Write ``<stem>.parquet`` and ``<stem>.geojson`` under ``out_dir``; returns both paths."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    parquet = folder / f"{stem}.parquet"
    geojson = folder / f"{stem}.geojson"
    to_parquet_frame(assessed).to_parquet(parquet, index=False)
    geojson.write_text(json.dumps(to_geojson(assessed)), encoding="utf-8")
    return parquet, geojson


__all__ = [
    "DECIMALS",
    "feature_properties",
    "hexagon",
    "iso",
    "to_geojson",
    "to_parquet_frame",
    "write_outputs",
]
