"""Routing subcommands: ``route`` (two points) and ``route-multi`` (depot and stops from a file)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Annotated

import numpy as np
import shapely
import typer
from rich.table import Table
from shapely.geometry import shape

from airgrid.airspace.grid import Grid, Status
from airgrid.api.cli.common import BadInput, cli_settings, console
from airgrid.routing import (
    GraphFileError,
    MultiStopRoute,
    Route,
    RouteGraph,
    Strategy,
    at_agl,
    build_graph,
    plan_multi_stop,
    plan_route,
)
from airgrid.routing.corridors.corridor import clear_corridors, opposing_lane_mask
from airgrid.routing.landmarks import landmark_count

#: Gazetteer of the place names routes may start and end at (in the data folder).
PLACES_FILE = "hunan_places_geonames.csv"
GraphCacheOpt = Annotated[
    Path | None,
    typer.Option(
        "--graph-cache",
        help="Folder for the routing graph: reused when built from this grid, else (re)built there "
        "with ALT landmarks (slow once, faster routes after).",
    ),
]
RouteGridOpt = Annotated[
    Path | None,
    typer.Option(
        help="Grid folder built by 'airgrid build'. Default: AIRGRID_GRID_PATH or <var dir>/grid-default."
    ),
]
TiersOpt = Annotated[
    str | None, typer.Option(help="Allowed tiers, comma-separated (default: all).")
]
NoGoOpt = Annotated[Path | None, typer.Option(help="GeoJSON of extra no-go polygons.")]
MinHeightOpt = Annotated[
    float | None,
    typer.Option(
        help="Least certain true height of voxel floors (over the highest plausible ground), m."
    ),
]
MaxHeightOpt = Annotated[
    float | None,
    typer.Option(
        help="Greatest certain true height of voxel ceilings (over the lowest plausible ground), m."
    ),
]
PreferCorridorsOpt = Annotated[
    bool,
    typer.Option(
        help="Use the grid's corridors (discounted, own-direction lane only); the grid must come from "
        "'airgrid corridors --save-grid'."
    ),
]
StrategyOpt = Annotated[
    Strategy,
    typer.Option(
        help="exact: optimal A* over the whole graph; fast: the cheaper of weighted A* (at most 1.1 x the "
        "optimum) and A* in a zone corridor (for long routes); auto: fast from 100 km."
    ),
]


def parse_place(text: str, data_dir: Path) -> tuple[float, float]:
    """``"lat,lon"`` in degrees, or the name of a place in ``hunan_places_geonames.csv`` of ``data_dir``."""
    parts = text.split(",")
    if len(parts) == 2:
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except ValueError:
            pass
        else:
            if not (
                math.isfinite(lat)
                and math.isfinite(lon)
                and -90 <= lat <= 90
                and -180 <= lon <= 180
            ):
                raise BadInput(
                    f"{text!r}: latitude must be in [-90, 90] and longitude in [-180, 180]"
                )
            return lat, lon
    key = text.strip().lower()
    with (data_dir / PLACES_FILE).open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["name"].lower() == key:
                return float(row["latitude"]), float(row["longitude"])
    raise BadInput(f"{text!r} is neither 'lat,lon' nor a place name in {PLACES_FILE}")


def _point(
    graph: RouteGraph, latlon: tuple[float, float], alt: float | None, height: float | None
) -> tuple:
    if alt is not None and height is not None:
        raise BadInput(
            "give either an altitude (--alt, AMSL) or a height above ground (--height, AGL), not both"
        )
    if alt is not None:
        return (latlon[0], latlon[1], alt)
    return at_agl(graph, latlon[0], latlon[1], height)


def _no_go(path: Path | None) -> list[shapely.Geometry]:
    if path is None:
        return []
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot read no-go GeoJSON {path}: {exc}") from None
    feats = doc.get("features", [doc]) if isinstance(doc, dict) else []
    geoms = [shape(f.get("geometry", f)) for f in feats]
    if not geoms or any(g.geom_type not in ("Polygon", "MultiPolygon") for g in geoms):
        raise BadInput(f"{path}: no-go areas must be GeoJSON Polygons/MultiPolygons")
    return geoms


def _tiers(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def read_stops(path: Path) -> list[tuple[float, float, float | None, float | None, str]]:
    """Stops from CSV (columns lat, lon, optional alt_m / height_m / name) or GeoJSON Points.

    Returns
    -------
    list of (lat, lon, alt_m or None, height_m or None, name)
    """
    if not path.exists():
        raise BadInput(f"stops file not found: {path}")
    out = []
    if path.suffix.lower() in (".geojson", ".json"):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise BadInput(f"{path} is not valid JSON: {exc}") from None
        for i, f in enumerate(doc.get("features", [])):
            geom = f.get("geometry") or {}
            if geom.get("type") != "Point":
                raise BadInput(f"{path}: feature {i} is not a Point")
            c = geom["coordinates"]
            props = f.get("properties") or {}
            alt = float(c[2]) if len(c) > 2 else props.get("alt_m")
            out.append(
                (float(c[1]), float(c[0]), alt, props.get("height_m"), str(props.get("name", i)))
            )
    else:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        for i, row in enumerate(rows):
            try:
                lat, lon = float(row["lat"]), float(row["lon"])
                alt = float(row["alt_m"]) if row.get("alt_m") else None
                height = float(row["height_m"]) if row.get("height_m") else None
            except (KeyError, ValueError, TypeError):
                raise BadInput(
                    f"{path}: row {i + 1} needs numeric lat, lon (and optional alt_m/height_m)"
                ) from None
            out.append((lat, lon, alt, height, row.get("name") or str(i)))
    if len(out) < 2:
        raise BadInput(f"{path}: need a depot (first stop) and at least one more stop")
    return out


def _summary(route: Route, title: str) -> None:
    t = Table(title=title, show_header=False)
    t.add_row("status", route.status.value + (f" ({route.message})" if route.message else ""))
    if route.found:
        t.add_row("length", f"{route.length_m / 1000:,.2f} km")
        t.add_row("flight time", f"{route.time_s / 60:,.1f} min")
        t.add_row(
            "cost",
            f"{route.cost:,.0f}"
            + (
                " (optimal)"
                if route.optimal
                else f" (fast search; optimum >= {route.cost_lower_bound:,.0f})"
            ),
        )
        t.add_row("min terrain clearance", f"{route.min_clearance_m:,.0f} m")
        t.add_row("voxels / waypoints", f"{len(route.voxels)} / {len(route.waypoints)}")
    t.add_row("expansions", f"{route.expansions:,}")
    t.add_row("search", f"{route.search_ms:,.1f} ms")
    console.print(t)
    if route.found:
        w = Table("#", "lat", "lon", "alt m AMSL", "true height m (certain range)")
        for i, p in enumerate(route.waypoints):
            w.add_row(
                str(i),
                f"{p.lat:.5f}",
                f"{p.lon:.5f}",
                f"{p.alt_m:.0f}",
                f"{p.true_height_range_m[0]:.0f}-{p.true_height_range_m[1]:.0f}",
            )
        console.print(w)


def _write(out: Path | None, doc: dict) -> None:
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc), encoding="utf-8")
        console.print(f"wrote {out}")


def _load(grid: Path, cache: Path | None, prefer_corridors: bool = False) -> RouteGraph:
    """The grid's routing graph: from ``cache`` when it holds one for this grid, else built (and saved there).

    A graph built for the cache gets ALT landmarks (:func:`~airgrid.routing.landmarks.landmark_count`),
    which take tens of seconds once on a prefecture grid; one built for a single command does not.

    Corridor marks (from ``airgrid corridors --save-grid``) give their cost discount
    only with ``prefer_corridors``; otherwise they are cleared in memory first, so
    ordinary routes are not drawn into corridors.
    """
    g = Grid.load(grid)
    has_corridors = bool(np.any(g.status & np.uint8(Status.CORRIDOR)))
    if prefer_corridors and not has_corridors:
        raise BadInput(
            f"grid {grid} has no corridors; make them with 'airgrid corridors --save-grid {grid}'"
        )
    if not prefer_corridors and has_corridors:
        clear_corridors(g)
    if cache is not None:
        try:
            return RouteGraph.load(cache, g)
        except GraphFileError:
            pass
    # landmarks pay off over many routes: only for a graph that is kept (--graph-cache)
    graph = build_graph(g, landmarks=landmark_count(g.n_voxels) if cache is not None else 0)
    if cache is not None:
        graph.save(cache)
    return graph


def _corridor_share(graph: RouteGraph, r: Route) -> None:
    """Print how many of a found route's voxels lie in corridors."""
    inside = np.count_nonzero(graph.grid.status[r.voxels] & np.uint8(Status.CORRIDOR))
    console.print(
        f"{inside} of {len(r.voxels)} voxels ({100 * inside / len(r.voxels):.0f}%) in corridors"
    )


def route_cmd(
    ctx: typer.Context,
    origin: Annotated[
        str,
        typer.Argument(
            help="From: 'lat,lon' or a place name (hunan_places_geonames.csv of the data folder)."
        ),
    ],
    dest: Annotated[str, typer.Argument(help="To: 'lat,lon' or a place name.")],
    grid: RouteGridOpt = None,
    alt: Annotated[float | None, typer.Option(help="Altitude of both ends, m AMSL.")] = None,
    height: Annotated[
        float | None,
        typer.Option(
            help="Height above ground (AGL) of both ends, m, over the highest plausible ground (default: the middle usable voxel of the lowest tier there)."
        ),
    ] = None,
    tiers: TiersOpt = None,
    min_height: MinHeightOpt = None,
    max_height: MaxHeightOpt = None,
    no_go: NoGoOpt = None,
    max_range_km: Annotated[float | None, typer.Option(help="Maximum route length, km.")] = None,
    budget: Annotated[int, typer.Option(help="Maximum A* expansions.")] = 20_000_000,
    cruise: Annotated[float, typer.Option(help="Cruise speed, m/s.")] = 15.0,
    climb: Annotated[float, typer.Option(help="Climb speed, m/s.")] = 5.0,
    descent: Annotated[float, typer.Option(help="Descent speed, m/s.")] = 3.0,
    out: Annotated[Path | None, typer.Option(help="Write the route as GeoJSON here.")] = None,
    graph_cache: GraphCacheOpt = None,
    prefer_corridors: PreferCorridorsOpt = False,
    strategy: StrategyOpt = Strategy.AUTO,
) -> None:
    """Plan a route between two points and print its summary."""
    cfg = cli_settings(ctx)
    a, b = parse_place(origin, cfg.data_dir), parse_place(dest, cfg.data_dir)
    graph = _load(grid or cfg.grid_path, graph_cache, prefer_corridors)
    lanes = opposing_lane_mask(graph.grid, *a, *b) if prefer_corridors else None
    r = plan_route(
        graph,
        _point(graph, a, alt, height),
        _point(graph, b, alt, height),
        tiers=_tiers(tiers),
        min_height_m=min_height,
        max_height_m=max_height,
        no_go=_no_go(no_go),
        max_range_m=None if max_range_km is None else max_range_km * 1000,
        budget=budget,
        cruise_mps=cruise,
        climb_mps=climb,
        descent_mps=descent,
        blocked_mask=lanes,
        strategy=strategy,
    )
    _summary(r, f"route {origin} -> {dest}")
    if prefer_corridors and r.found:
        _corridor_share(graph, r)
    _write(out, r.to_geojson())


def _legs_table(m: MultiStopRoute, names: list[str], return_to_depot: bool) -> Table:
    """One row per leg of a multi-stop route: stops, length, time and clearance."""
    t = Table(
        title=f"multi-stop route from {names[0]} ({'exact' if m.exact else 'NN + 2-opt'} order)"
    )
    for col in ("leg", "from", "to", "km", "min", "clearance m"):
        t.add_column(col, justify="right")
    seq = [0] + [k + 1 for k in m.order] + ([0] if return_to_depot else [])
    for k, leg in enumerate(m.legs):
        t.add_row(
            str(k + 1),
            names[seq[k]],
            names[seq[k + 1]],
            f"{leg.length_m / 1000:.2f}",
            f"{leg.time_s / 60:.1f}",
            f"{leg.min_clearance_m:.0f}",
        )
    return t


def route_multi_cmd(
    ctx: typer.Context,
    stops: Annotated[
        Path,
        typer.Argument(
            help="CSV (lat,lon[,alt_m|height_m][,name]) or GeoJSON Points; the first is the depot."
        ),
    ],
    grid: RouteGridOpt = None,
    return_to_depot: Annotated[
        bool, typer.Option("--return/--no-return", help="Close the tour at the depot.")
    ] = True,
    height: Annotated[
        float | None,
        typer.Option(
            help="Height above ground (AGL, over the highest plausible ground) of stops without alt/height, m (default: the middle usable voxel of the lowest tier)."
        ),
    ] = None,
    tiers: TiersOpt = None,
    no_go: NoGoOpt = None,
    budget: Annotated[int, typer.Option(help="Maximum A* expansions per leg.")] = 20_000_000,
    out: Annotated[
        Path | None, typer.Option(help="Write the legs as a GeoJSON FeatureCollection here.")
    ] = None,
    graph_cache: GraphCacheOpt = None,
) -> None:
    """Plan a depot -> stops [-> depot] route with a good stop order."""
    rows = read_stops(stops)
    graph = _load(grid or cli_settings(ctx).grid_path, graph_cache)
    pts = [
        _point(graph, (la, lo), a, h if h is not None or a is not None else height)
        for la, lo, a, h, _ in rows
    ]
    m: MultiStopRoute = plan_multi_stop(
        graph,
        pts[0],
        pts[1:],
        return_to_depot=return_to_depot,
        tiers=_tiers(tiers),
        no_go=_no_go(no_go),
        budget=budget,
    )
    console.print(_legs_table(m, [r[4] for r in rows], return_to_depot))
    console.print(
        f"status {m.status.value}{': ' + m.message if m.message else ''}; "
        f"total {m.total_length_m / 1000:,.2f} km, {m.total_time_s / 60:,.1f} min"
    )
    _write(out, m.to_geojson())


def register(app: typer.Typer) -> None:
    """Add ``route`` and ``route-multi`` to ``app``."""
    app.command("route")(route_cmd)
    app.command("route-multi")(route_multi_cmd)
