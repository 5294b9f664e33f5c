"""Models of the analytics routes: cell densities as GeoJSON or rows, and hotspot cells."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_PROPS: dict[str, Any] = {
    "cell": "89411892c83ffff",
    "tier": "T2",
    "bin_start": "2026-12-06T08:00:00Z",
    "bin_end": "2026-12-06T08:15:00Z",
    "count": 7,
    "occupancy": 0.012,
    "conflicts": 1,
    "refusals": 2,
    "area_class": "dense_urban",
    "capacity": 5.26,
    "load": 1.33,
    "hotspot": True,
    "suggestion": "one-way E (72% of traffic heads so)",
}


class CellBin(BaseModel):
    """One cell in one time bin (also the properties of each GeoJSON feature)."""

    cell: str = Field(description="H3 cell at the tier's resolution.")
    tier: str
    bin_start: str = Field(description="Start of the bin, ISO 8601 UTC.")
    bin_end: str = Field(description="End of the bin (exclusive), ISO 8601 UTC.")
    count: int = Field(description="Intents whose volumes touch the cell in the bin.")
    occupancy: float | None = Field(
        description="Intent volume-seconds in the cell over the cell's (area × band "
        "thickness × bin length)."
    )
    conflicts: int = Field(description="Recorded conflict points in the cell and bin.")
    refusals: int = Field(description="Refused submissions touching the cell in the bin.")
    area_class: str = Field(description="dense_urban, suburban or rural (capacity table).")
    capacity: float | None = Field(description="Flights the cell may carry per bin.")
    load: float | None = Field(description="count / capacity.")
    hotspot: bool = Field(description="Over capacity (load > 1).")
    suggestion: str | None = Field(
        description="One-way or layered operation, for cells that stay over capacity."
    )


class DensityCollection(BaseModel):
    """Cell densities as a GeoJSON FeatureCollection (RFC 7946) of hexagons."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "id": "89411892c83ffff@2026-12-06T08:00:00Z",
                            "geometry": {"type": "Polygon", "coordinates": [[[112.97, 28.2]]]},
                            "properties": _PROPS,
                        }
                    ],
                }
            ]
        }
    )

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]]


class DensityRows(BaseModel):
    """Cell densities as plain rows (``format=json``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tier": "T2",
                    "start": "2026-12-06T08:00:00Z",
                    "end": "2026-12-06T09:00:00Z",
                    "bin_s": 900,
                    "rows": [_PROPS],
                }
            ]
        }
    )

    tier: str
    start: str
    end: str
    bin_s: float
    rows: list[CellBin]


class HotspotCell(BaseModel):
    """A cell over capacity in at least one bin of the window."""

    cell: str
    tier: str
    area_class: str
    capacity: float = Field(description="Flights per bin.")
    bins_over: int = Field(description="Bins of the window over capacity.")
    peak_count: int
    peak_load: float
    suggestion: str | None = Field(description="Set when the cell stays over capacity.")


class HotspotList(BaseModel):
    """Cells over capacity, highest peak load first."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tier": "T2",
                    "start": "2026-12-06T08:00:00Z",
                    "end": "2026-12-06T09:00:00Z",
                    "bin_s": 900,
                    "bins": 4,
                    "cells": [
                        {
                            "cell": "89411892c83ffff",
                            "tier": "T2",
                            "area_class": "dense_urban",
                            "capacity": 5.26,
                            "bins_over": 3,
                            "peak_count": 9,
                            "peak_load": 1.71,
                            "suggestion": "one-way E (72% of traffic heads so)",
                        }
                    ],
                }
            ]
        }
    )

    tier: str
    start: str
    end: str
    bin_s: float
    bins: int = Field(description="Bins in the window.")
    cells: list[HotspotCell]


__all__ = ["CellBin", "DensityCollection", "DensityRows", "HotspotCell", "HotspotList"]
