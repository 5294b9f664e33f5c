"""``airgrid corridors``: design a corridor network over logistics nodes and export it as GeoJSON."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from airgrid.airspace.geofences.airports import airport_zones
from airgrid.airspace.geofences.cover import mark_geofences
from airgrid.airspace.grid import Area, Grid, TierTable, area_from_bbox, build_grid, named_area
from airgrid.api.cli.common import BadInput, DemOpt, cli_settings, console, progress_bar
from airgrid.api.cli.grid import open_dem
from airgrid.routing.corridors.network import NetworkParams, design_network
from airgrid.routing.corridors.nodes import (
    PREFECTURE_SEATS,
    Node,
    NodeKind,
    default_nodes,
    load_nodes,
)
from airgrid.routing.corridors.report import network_geojson, network_report
from airgrid.routing.graph import build_graph
from airgrid.settings import Settings

#: Margin (degrees) around user nodes when the grid is built over their bounding box.
NODE_BBOX_MARGIN_DEG = 0.1

NodesOpt = Annotated[
    Path | None,
    typer.Option(
        help="Node file: GeoJSON Points (name, kind, weight) or CSV name,lat,lon,kind,weight."
    ),
]
AreaOpt = Annotated[
    str,
    typer.Option(
        help="Named area (hunan, a prefecture, a county): selects the default nodes inside it and the grid extent."
    ),
]
GeofencesOpt = Annotated[
    bool,
    typer.Option(
        help="Mark the default airport protection zones as prohibited and report geofences crossed/skirted."
    ),
]


def _kinds(text: str) -> list[NodeKind]:
    try:
        return [NodeKind(k.strip().lower()) for k in text.split(",") if k.strip()]
    except ValueError:
        raise BadInput(
            f"--kinds takes a comma list of {[k.value for k in NodeKind]}, got {text!r}"
        ) from None


def _select_nodes(
    nodes: Path | None, area: str, kinds: str, seats_only: bool, data_dir: Path
) -> tuple[list[Node], Area]:
    """The nodes to join and the area the grid covers.

    Nodes from a file get the grid over their bounding box (plus
    :data:`NODE_BBOX_MARGIN_DEG`); otherwise the default nodes of ``kinds`` inside the
    named area, the area being the grid's extent.
    """
    if nodes is not None:
        node_list = load_nodes(nodes)
        lats = [n.lat for n in node_list]
        lons = [n.lon for n in node_list]
        m = NODE_BBOX_MARGIN_DEG
        the_area = area_from_bbox(min(lons) - m, min(lats) - m, max(lons) + m, max(lats) + m)
    else:
        the_area = named_area(area, data_dir)
        node_list = default_nodes(data_dir, kinds=_kinds(kinds), area=the_area)
    if seats_only:
        seat_ids = {f"geonames:{g}" for g in PREFECTURE_SEATS}
        node_list = [n for n in node_list if n.id in seat_ids]
    if len(node_list) < 2:
        raise BadInput(f"{len(node_list)} node(s) selected; a corridor network needs at least 2")
    return node_list, the_area


def _tier_grid(
    grid: Path | None,
    the_area: Area,
    tier: str,
    cfg: Settings,
    dem: list[Path] | None,
    update: Callable[[str, float], None],
) -> Grid:
    """The grid to design in: the one at ``grid``, or ``tier`` built over the area.

    A build reports its progress through ``update`` over the first 30 % of the bar.
    """
    if grid is not None:
        return Grid.load(grid)
    table = TierTable.from_toml(cfg.tiers_path).select([tier])
    return build_grid(
        the_area,
        open_dem(dem or cfg.dem_paths),
        table,
        progress=lambda step, frac: update(f"grid: {step}", 0.3 * frac),
    )


def _write_json(out: Path, doc: dict) -> None:
    """Write ``doc`` as UTF-8 JSON to ``out``, creating its folder."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def corridors_cmd(
    ctx: typer.Context,
    nodes: NodesOpt = None,
    area: AreaOpt = "hunan",
    kinds: Annotated[
        str, typer.Option(help="Default-node kinds to use (comma list of hub, depot, drop).")
    ] = "hub",
    seats_only: Annotated[
        bool,
        typer.Option(
            "--seats-only", help="Only the prefecture-level seats among the default nodes."
        ),
    ] = False,
    tier: Annotated[str, typer.Option(help="Tier the corridors live in.")] = "T2",
    grid: Annotated[
        Path | None,
        typer.Option(help="Built grid folder (default: build the tier over the area)."),
    ] = None,
    dem: DemOpt = None,
    width: Annotated[int, typer.Option(help="Corridor half-width in H3 rings.")] = 1,
    band_layers: Annotated[
        int, typer.Option(help="Layers per band (even: lower half lane A, upper half lane B).")
    ] = 4,
    detour_ratio: Annotated[
        float,
        typer.Option(help="Add a redundant link when the network detour exceeds this ratio."),
    ] = 1.4,
    candidates: Annotated[str, typer.Option(help="Candidate links: delaunay or knn.")] = "delaunay",
    merge: Annotated[
        bool, typer.Option(help="Merge side-by-side stretches onto earlier corridors.")
    ] = True,
    geofences: GeofencesOpt = True,
    out: Annotated[
        Path | None,
        typer.Option(help="GeoJSON output (centrelines, corridor polygons, nodes)."),
    ] = None,
    save_grid: Annotated[
        Path | None,
        typer.Option(help="Save the grid with the corridor marks (for 'airgrid route')."),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Design a corridor network over logistics nodes in one tier; print the planner summary."""
    if not (math.isfinite(detour_ratio) and detour_ratio > 1):
        raise BadInput("--detour-ratio must be a number > 1")
    cfg = cli_settings(ctx)
    node_list, the_area = _select_nodes(nodes, area, kinds, seats_only, cfg.data_dir)
    params = NetworkParams(
        tier=tier,
        width=width,
        band_layers=band_layers,
        detour_ratio=detour_ratio,
        candidates=candidates,
        merge=merge,
    )
    params.check()
    fences = airport_zones(data_dir=cfg.data_dir) if geofences else None
    with progress_bar(progress) as update:
        g = _tier_grid(grid, the_area, tier, cfg, dem, update)
        if fences:
            update("marking geofences", 0.3)
            mark_geofences(g, fences)
        update("routing graph", 0.32)
        graph = build_graph(g)
        net = design_network(
            graph,
            node_list,
            params,
            progress=lambda step, frac: update(step, 0.35 + 0.55 * frac),
        )
        update("report", 0.92)
        rep = network_report(net, geofences=fences)
        if out is not None:
            _write_json(out, network_geojson(net, rep))
        if save_grid is not None:
            g.save(save_grid)
    _print(rep, out, save_grid)


def register(app: typer.Typer) -> None:
    """Add the ``corridors`` subcommand to ``app``."""
    app.command("corridors")(corridors_cmd)


def _corridor_table(rep: dict) -> Table:
    """One row per corridor of a network report: band, length, detour, clearance, geofences."""
    t = Table(title="corridors")
    for col in (
        "corridor",
        "band",
        "km",
        "detour",
        "min clr m",
        "mean clr m",
        "voxels",
        "crossings",
        "geofences crossed",
        "skirted",
    ):
        t.add_column(
            col,
            justify="right" if col not in ("corridor", "geofences crossed", "skirted") else "left",
        )
    for r in rep["corridors"]:
        t.add_row(
            f"{r['a']} - {r['b']}",
            str(r["band"]),
            f"{r['length_m'] / 1000:.1f}",
            f"{r['detour_ratio']:.3f}" if r["detour_ratio"] is not None else "-",
            f"{r['min_clearance_m']:.0f}",
            f"{r['mean_clearance_m']:.0f}",
            f"{r['voxels']:,}",
            str(r["crossings"]),
            r["geofences_crossed"] if r["geofences_evaluated"] else "not evaluated",
            r["geofences_skirted"],
        )
    return t


def _network_table(s: dict) -> Table:
    """The network totals of a report, one row per figure."""
    summary = Table(title="network", show_header=False)
    for k in (
        "tier",
        "nodes",
        "unreachable_nodes",
        "pieces",
        "largest_piece_nodes",
        "connected",
        "corridors",
        "mst_links",
        "redundant_links",
        "length_m",
        "detour_ratio_mean",
        "detour_ratio_max",
        "voxels",
        "voxels_shared",
        "merged_cells",
        "crossings",
        "unseparated_pairs",
        "bands_used",
        "bands_available",
        "geofences_evaluated",
    ):
        summary.add_row(k, str(s[k]))
    return summary


def _print(rep: dict, out: Path | None, saved: Path | None) -> None:
    """Print a network report: corridors, totals, notes and the files written."""
    console.print(_corridor_table(rep))
    s = rep["network"]
    console.print(_network_table(s))
    if s["unreachable_nodes"]:
        console.print(
            f"[bold yellow]note:[/] {s['unreachable_nodes']} node(s) have no usable voxel of tier "
            f"{s['tier']} near them (the tier is absent where the ground is too uncertain for its band) "
            "and were left out; run with -v to list them."
        )
    if s["pieces"] > 1:
        console.print(
            f"[bold yellow]note:[/] the nodes fall into {s['pieces']} pieces of tier {s['tier']} that "
            "no path inside the tier joins; each piece got its own network."
        )
    if out is not None:
        console.print(f"wrote {out}")
    if saved is not None:
        console.print(f"saved the marked grid to {saved} (routes on it get the corridor discount)")
