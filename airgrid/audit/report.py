"""Audit results on disk: violations as Parquet and GeoJSON, a per-operator Markdown summary.

* ``violations.parquet``: every column of :attr:`AuditResult.violations`, the geometry
  as WKB (``geometry``, EPSG:4326 lon/lat);
* ``violations.geojson``: one Feature per violation (RFC 7946, lon/lat with 7 decimals,
  about 1 cm), readable by GDAL;
* ``summary.md``: per operator, counts by rule and certainty, the worst cases and the
  conformance rate (certainly conforming fixes over fixes flown under an accepted intent),
  then rejected rows;
* ``summary.html``: the same summary as a standalone HTML page.
"""

from __future__ import annotations

import html
import itertools
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from airgrid.audit.audit import RULES, AuditResult
from airgrid.audit.io_kernels import geojson_geometries, join_features
from airgrid.audit.threads import together

#: Worst cases listed per operator.
WORST_CASES = 5
#: Rejected rows listed in the summary.
REJECTED_LISTED = 20


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_times(t: np.ndarray) -> np.ndarray:
    """:func:`_iso` of many POSIX times at once (object array of str).

    As :meth:`datetime.fromtimestamp`: whole seconds, then the fraction rounded half to
    even to microseconds, then cut to milliseconds.
    """
    t = np.asarray(t, np.float64)
    whole = np.floor(t)
    us = whole.astype(np.int64) * 1_000_000 + np.rint((t - whole) * 1e6).astype(np.int64)
    text = np.datetime_as_string(us.astype("datetime64[us]").astype("datetime64[ms]"), unit="ms")
    return (text.astype(object) + "Z") if len(t) else np.empty(0, object)


def write_parquet(result: AuditResult, path: Path) -> Path:
    """Write the violations as Parquet (geometry as WKB)."""
    df = result.violations.copy()
    df["geometry"] = (
        shapely.to_wkb(df["geometry"].to_numpy()) if len(df) else pd.Series([], dtype=object)
    )
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, path)
    return path


def geometry_json(geoms: np.ndarray) -> list[str]:
    """GeoJSON text of violation geometries (points and lines), coordinates with 7 decimals
    (about 1 cm; RFC 7946 section 11.2), written by one Numba pass
    (:func:`~airgrid.audit.io_kernels.geojson_geometries`)."""
    text, ends = _geometry_text(geoms)
    raw = text.tobytes().decode("ascii")
    return [raw[a:b] for a, b in itertools.pairwise(ends.tolist())]


def _geometry_text(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The text of :func:`geometry_json` as ASCII bytes end to end, and the bounds of
    each geometry's text (``ends[g]:ends[g + 1]``)."""
    if len(geoms) == 0:
        return np.empty(0, np.uint8), np.zeros(1, np.int64)
    xy = np.ascontiguousarray(shapely.get_coordinates(geoms), np.float64)
    ptr = np.concatenate([[0], np.cumsum(shapely.get_num_coordinates(geoms))]).astype(np.int64)
    return geojson_geometries(
        xy, ptr, _bytes('{"type": "Point", "coordinates": '),
        _bytes('{"type": "LineString", "coordinates": '), _bytes("}"),
    )  # fmt: skip


def _bytes(s: str) -> np.ndarray:
    return np.frombuffer(s.encode("ascii"), np.uint8)


def write_geojson(result: AuditResult, path: Path) -> Path:
    """Write the violations as a GeoJSON FeatureCollection (times also as ISO 8601 text;
    coordinates as :func:`geometry_json` writes them).

    The properties are pandas' JSON lines (ASCII, non-ASCII text escaped); they and the
    geometries are joined into the features as bytes by one Numba pass
    (:func:`~airgrid.audit.io_kernels.join_features`).
    """
    df = result.violations

    def records() -> str:
        props = df.drop(columns="geometry").assign(
            time_first=iso_times(df["t_first"].to_numpy(np.float64)),
            time_last=iso_times(df["t_last"].to_numpy(np.float64)),
        )
        return props.to_json(orient="records", lines=True, double_precision=15) if len(df) else ""

    # the geometries' text (Numba, without the GIL) beside the properties' JSON
    lines, (geom, geom_ends) = together(records, lambda: _geometry_text(df["geometry"].to_numpy()))
    rec = np.frombuffer(lines.encode("ascii"), np.uint8)
    newline = np.flatnonzero(rec == 10)
    if len(rec) and rec[-1] != 10:
        newline = np.append(newline, len(rec))  # the last record without its newline
    prop_ends = np.concatenate([[0], newline - np.arange(len(newline))]).astype(np.int64)
    head, mid = _bytes('{"type": "Feature", "geometry": '), _bytes(', "properties": ')
    tail, sep = _bytes("}"), _bytes(",")
    out = np.empty(len(geom) + len(rec) + len(df) * (len(head) + len(mid) + 2), np.uint8)
    n = join_features(geom, geom_ends, rec[rec != 10], prop_ends, head, mid, tail, sep, out)
    with path.open("wb") as f:
        f.write(b'{"type": "FeatureCollection", "features": [')
        f.write(out[:n].data)
        f.write(b"]}")
    return path


def _worst(v: pd.DataFrame) -> dict[str, list[dict]]:
    """The worst cases per operator: certain first, then by excess, then by duration."""
    order = np.lexsort(
        (
            -v["duration_s"].to_numpy(float),
            -np.nan_to_num(v["max_excess_m"].to_numpy(float), nan=-1.0),
            v["certainty"].to_numpy(str) != "certain",
        )
    )
    top = v.iloc[order].groupby("operator", sort=False).head(WORST_CASES)
    out: dict[str, list[dict]] = {}
    for rec in top.drop(columns="geometry").to_dict("records"):
        out.setdefault(rec["operator"], []).append(rec)
    return out


def _operator_lines(op: dict, counts: dict, worst: list[dict]) -> list[str]:
    n = op["fixes_with_intent"]
    rate = f"{op['conforming_fixes'] / n:.1%}" if n else "n/a"
    lines = [
        f"## {op['operator']}",
        "",
        f"{op['flights']} flight(s), {op['fixes']} fixes; {op['flights_with_intent']} flight(s) under an "
        f"accepted intent; conformance rate {rate} ({op['conforming_fixes']} of {n} fixes); "
        f"{op['unassessed_fixes']} fixes without terrain (heights not assessed).",
        "",
        "| rule | certain | possible |",
        "|---|---:|---:|",
    ]
    for rule in RULES:
        c, p = (counts.get((op["operator"], rule, k), 0) for k in ("certain", "possible"))
        lines.append(f"| {rule} | {c} | {p} |")
    if worst:
        lines += [
            "",
            "Worst cases:",
            "",
            "| flight | rule | object | certainty | from | s | excess m |",
            "|---|---|---|---|---|---:|---:|",
        ]
        for w in worst:
            ex = "" if pd.isna(w["max_excess_m"]) else f"{w['max_excess_m']:.1f}"
            lines.append(
                f"| {w['flight_id']} | {w['rule']} | {w['object_id']} | {w['certainty']} "
                f"| {_iso(w['t_first'])} | {w['duration_s']:.1f} | {ex} |"
            )
    return [*lines, ""]


def summary_markdown(result: AuditResult) -> str:
    """The per-operator summary (see the module docstring)."""
    v = result.violations
    lines = [
        "# Flight audit",
        "",
        f"Logs: {len(result.files)}; rejected rows: {result.n_rejected}; "
        f"fixes outside the time window: {result.outside_window}.",
        "",
    ]
    counts = v.groupby(["operator", "rule", "certainty"]).size().to_dict() if len(v) else {}
    worst = _worst(v) if len(v) else {}
    for op in result.operators.to_dict("records"):
        lines += _operator_lines(op, counts, worst.get(op["operator"], []))
    if result.rejected:
        lines += ["## Rejected rows", ""]
        lines += [f"- {r}" for r in result.rejected[:REJECTED_LISTED]]
        if result.n_rejected > REJECTED_LISTED:
            lines.append(f"- ... {result.n_rejected - REJECTED_LISTED} more")
        lines.append("")
    return "\n".join(lines)


def markdown_to_html(md: str) -> str:
    """A standalone HTML page of the summary's Markdown (headings, paragraphs, tables, lists)."""
    out = ['<!doctype html><html><head><meta charset="utf-8"><title>Flight audit</title>',
           "<style>table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}</style>",
           "</head><body>"]  # fmt: skip
    table: list[list[str]] = []
    items: list[str] = []

    def flush() -> None:
        if table:
            head, *body = table
            out.append("<table><tr>" + "".join(f"<th>{c}</th>" for c in head) + "</tr>")
            out.extend("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in body)
            out.append("</table>")
            table.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
            items.clear()

    for line in md.splitlines():
        text = html.escape(line)
        if line.startswith("|"):
            cells = [c.strip() for c in text.strip("|").split("|")]
            if not all(set(c) <= set("-:") for c in cells):
                table.append(cells)
            continue
        if line.startswith("- "):
            items.append(text[2:])
            continue
        flush()
        if line.startswith("## "):
            out.append(f"<h2>{text[3:]}</h2>")
        elif line.startswith("# "):
            out.append(f"<h1>{text[2:]}</h1>")
        elif line.strip():
            out.append(f"<p>{text}</p>")
    flush()
    return "\n".join([*out, "</body></html>"])


def write_results(result: AuditResult, out: Path) -> dict[str, Path]:
    """Write Parquet, GeoJSON, Markdown and HTML into ``out`` (created if needed)."""
    out.mkdir(parents=True, exist_ok=True)
    md, page = out / "summary.md", out / "summary.html"

    def summaries() -> Path:
        text = summary_markdown(result)
        md.write_text(text)
        page.write_text(markdown_to_html(text))
        return write_parquet(result, out / "violations.parquet")

    # the GeoJSON beside the rest (its Numba kernel, pyarrow and file writes release the GIL)
    geojson, parquet = together(
        lambda: write_geojson(result, out / "violations.geojson"), summaries
    )
    return {"parquet": parquet, "geojson": geojson, "summary": md, "html": page}


__all__ = [
    "geometry_json",
    "summary_markdown",
    "write_geojson",
    "write_parquet",
    "write_results",
]
