"""Audit results on disk: violations as Parquet and GeoJSON, a per-operator Markdown summary.

* ``violations.parquet``: every column of :attr:`AuditResult.violations`, the geometry
  as WKB (``geometry``, EPSG:4326 lon/lat);
* ``violations.geojson``: one Feature per violation (RFC 7946, lon/lat), readable by GDAL;
* ``summary.md``: per operator, counts by rule and certainty, the worst cases and the
  conformance rate (certainly conforming fixes over fixes flown under an accepted intent),
  then rejected rows.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from airgrid.audit.audit import RULES, AuditResult

#: Worst cases listed per operator.
WORST_CASES = 5
#: Rejected rows listed in the summary.
REJECTED_LISTED = 20


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_parquet(result: AuditResult, path: Path) -> Path:
    """Write the violations as Parquet (geometry as WKB)."""
    df = result.violations.copy()
    df["geometry"] = (
        shapely.to_wkb(df["geometry"].to_numpy()) if len(df) else pd.Series([], dtype=object)
    )
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, path)
    return path


def write_geojson(result: AuditResult, path: Path) -> Path:
    """Write the violations as a GeoJSON FeatureCollection."""
    feats = []
    df = result.violations
    props = [c for c in df.columns if c != "geometry"]
    for rec, geom in zip(df[props].to_dict("records"), df["geometry"]):
        clean = {}
        for k, v in rec.items():
            if isinstance(v, np.generic):
                v = v.item()
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            clean[k] = v
        clean["time_first"] = _iso(rec["t_first"])
        clean["time_last"] = _iso(rec["t_last"])
        feats.append(
            {
                "type": "Feature",
                "geometry": json.loads(shapely.to_geojson(geom)),
                "properties": clean,
            }
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def summary_markdown(result: AuditResult) -> str:
    """The per-operator summary (see the module docstring)."""
    v = result.violations
    lines = [
        "# Flight audit",
        "",
        f"Logs: {len(result.files)}; rejected rows: {result.n_rejected}; fixes outside the time window: {result.outside_window}.",
        "",
    ]
    for _, op in result.operators.iterrows():
        name = op["operator"]
        mine = v[v["operator"] == name]
        rate = (
            op["conforming_fixes"] / op["fixes_with_intent"]
            if op["fixes_with_intent"]
            else math.nan
        )
        lines += [
            f"## {name}",
            "",
            f"{op['flights']} flight(s), {op['fixes']} fixes; {op['flights_with_intent']} flight(s) under an "
            f"accepted intent; conformance rate {'n/a' if math.isnan(rate) else f'{rate:.1%}'}"
            f" ({op['conforming_fixes']} of {op['fixes_with_intent']} fixes); "
            f"{op['unassessed_fixes']} fixes without terrain (heights not assessed).",
            "",
            "| rule | certain | possible |",
            "|---|---:|---:|",
        ]
        for rule in RULES:
            r = mine[mine["rule"] == rule]
            c = int((r["certainty"] == "certain").sum())
            lines.append(f"| {rule} | {c} | {len(r) - c} |")
        if len(mine):
            worst = mine.assign(_k=mine["max_excess_m"].fillna(-1.0)).sort_values(
                ["certainty", "_k", "duration_s"], ascending=[True, False, False]
            )
            lines += [
                "",
                "Worst cases:",
                "",
                "| flight | rule | object | certainty | from | s | excess m |",
                "|---|---|---|---|---|---:|---:|",
            ]
            for _, w in worst.head(WORST_CASES).iterrows():
                ex = "" if pd.isna(w["max_excess_m"]) else f"{w['max_excess_m']:.1f}"
                lines.append(
                    f"| {w['flight_id']} | {w['rule']} | {w['object_id']} | {w['certainty']} "
                    f"| {_iso(w['t_first'])} | {w['duration_s']:.1f} | {ex} |"
                )
        lines.append("")
    if result.rejected:
        lines += ["## Rejected rows", ""]
        lines += [f"- {r}" for r in result.rejected[:REJECTED_LISTED]]
        if result.n_rejected > REJECTED_LISTED:
            lines.append(f"- ... {result.n_rejected - REJECTED_LISTED} more")
        lines.append("")
    return "\n".join(lines)


def write_results(result: AuditResult, out: Path) -> dict[str, Path]:
    """Write Parquet, GeoJSON and Markdown into ``out`` (created if needed)."""
    out.mkdir(parents=True, exist_ok=True)
    md = out / "summary.md"
    md.write_text(summary_markdown(result))
    return {
        "parquet": write_parquet(result, out / "violations.parquet"),
        "geojson": write_geojson(result, out / "violations.geojson"),
        "summary": md,
    }


__all__ = ["summary_markdown", "write_geojson", "write_parquet", "write_results"]
