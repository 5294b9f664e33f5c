"""Truth points and the calibration of a DEM's margin model against them.

A truth point is a published height at a place: an airport's elevation (ground that
must lie within both bounds) or a summit's height (ground that must lie under the
upper bound somewhere within the uncertainty of its coordinates). The margin model of
:class:`~airgrid.terrain.dem.DemAccuracy` is calibrated so that every truth point holds;
:func:`required_factors` says how large its relief factors must be at least.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import numpy as np

from airgrid.terrain.dem import Dem
from airgrid.terrain.errors import TerrainError


@dataclass(frozen=True)
class TruthPoint:
    """A published height.

    Attributes
    ----------
    name
        What it is.
    kind
        ``"airport"`` (ground: ``g_lo <= elevation <= g_hi``) or ``"summit"`` (the
        highest ground: ``elevation <= g_hi`` somewhere within ``radius_m``).
    lat, lon
        WGS84 degrees.
    elevation_m
        Published height, metres above mean sea level.
    radius_m
        How far the true place may lie from (lat, lon), from the quality of the
        coordinates' source.
    source
        Where the height was published.
    """

    name: str
    kind: str
    lat: float
    lon: float
    elevation_m: float
    radius_m: float
    source: str


def read_truth_points(path: str | Path) -> list[TruthPoint]:
    """Read a truth-point CSV such as ``airgrid/data/truth_points.csv``.

    Raises
    ------
    TerrainError
        The file is missing, or a row lacks a field or has a bad number.
    """
    try:
        with Path(path).open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise TerrainError(f"cannot read truth points {path}: {exc}") from exc
    out = []
    for i, r in enumerate(rows, start=2):
        try:
            p = TruthPoint(
                r["name"],
                r["kind"],
                float(r["lat"]),
                float(r["lon"]),
                float(r["elevation_m"]),
                float(r["radius_m"]),
                r["elevation_source"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TerrainError(f"{path} line {i}: {exc!r}") from exc
        if p.kind not in ("airport", "summit"):
            raise TerrainError(f"{path} line {i}: kind must be airport or summit, got {p.kind!r}")
        out.append(p)
    return out


def _pixels_within(dem: Dem, p: TruthPoint) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the DEM pixels that meet the disc of ``radius_m`` around ``p``."""
    col, row = dem.lonlat_to_pixel(np.array([p.lon]), np.array([p.lat]))
    h, w = dem.shape
    if p.radius_m <= 0:
        return np.array([int(row[0])]), np.array([int(col[0])])
    dx, dy = dem.pixel_size_m
    rx = p.radius_m / dx + 1
    ry = p.radius_m / dy + 1
    rr, cc = np.mgrid[
        max(int(row[0] - ry), 0) : min(int(row[0] + ry) + 1, h),
        max(int(col[0] - rx), 0) : min(int(col[0] + rx) + 1, w),
    ]
    # distance from the point to the nearest point of each pixel, in metres
    ex = np.maximum(np.maximum(cc - col[0], col[0] - (cc + 1)), 0) * dx
    ey = np.maximum(np.maximum(rr - row[0], row[0] - (rr + 1)), 0) * dy
    near = np.hypot(ex, ey) <= p.radius_m
    return rr[near], cc[near]


class RequiredFactors(TypedDict):
    """The relief factors the truth points need, and the points that set them."""

    up: float
    down: float
    worst_up: str
    worst_down: str


def required_factors(dem: Dem, points: list[TruthPoint]) -> RequiredFactors:
    """The smallest relief factors, over the DEM's absolute terms, that every point needs.

    For an airport, the pixel under it must hold its elevation within
    ``[height - down, height + up]``; for a summit, some pixel within its radius must
    reach it with ``height + up``. Each such condition is solved for the relief
    factor with the DEM's current absolute terms.

    Returns
    -------
    dict
        ``up`` and ``down`` (the largest factors needed; 0 when no point needs any)
        and ``worst_up`` / ``worst_down`` (names of the points that set them).
    """
    acc = dem.accuracy
    size = 2 * acc.relief_ring + 1
    from scipy.ndimage import maximum_filter, minimum_filter

    data = dem.data
    relief = maximum_filter(np.nan_to_num(data, nan=-1e9), size, mode="nearest") - minimum_filter(
        np.nan_to_num(data, nan=1e9), size, mode="nearest"
    )
    out: RequiredFactors = {"up": 0.0, "down": 0.0, "worst_up": "", "worst_down": ""}
    for p in points:
        rr, cc = _pixels_within(dem, p)
        h = data[rr, cc].astype(np.float64)
        rel = np.maximum(relief[rr, cc].astype(np.float64), 1.0)
        need_up = float(np.nanmin((p.elevation_m - h - acc.up_absolute_m) / rel))
        if need_up > out["up"]:
            out["up"], out["worst_up"] = need_up, p.name
        if p.kind == "airport":
            need_down = float(np.nanmax((h - p.elevation_m - acc.down_absolute_m) / rel))
            if need_down > out["down"]:
                out["down"], out["worst_down"] = need_down, p.name
    return out


__all__ = ["TruthPoint", "read_truth_points", "required_factors"]
