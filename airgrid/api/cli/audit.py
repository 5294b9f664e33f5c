"""``airgrid audit LOGS... --out DIR``: flight logs against geofences, tiers and intents."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from airgrid.airspace.grid.tiers import TierTable
from airgrid.api.cli.common import (
    BadInput,
    cli_settings,
    console,
    existing_store,
    iso_time,
    progress_bar,
)
from airgrid.api.cli.geofences import load_fences
from airgrid.api.cli.grid import open_dem
from airgrid.audit.inputs import audit_inputs
from airgrid.terrain.geoid import Geoid

if TYPE_CHECKING:
    import pandas as pd

    from airgrid.audit.audit import AuditResult
    from airgrid.audit.tracks import Tracks


LogsArg = Annotated[
    list[Path],
    typer.Argument(help="Flight logs: .csv, .parquet, .geojson, .ulg, .json (Remote ID)."),
]
OutOpt = Annotated[
    Path,
    typer.Option(
        "--out",
        help="Folder for violations.parquet, violations.geojson, summary.md and summary.html.",
    ),
]
FromOpt = Annotated[
    str | None, typer.Option("--from", help="Audit fixes from this time (ISO 8601 with zone).")
]
ToOpt = Annotated[
    str | None, typer.Option("--to", help="Audit fixes up to this time (ISO 8601 with zone).")
]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store with the intents and geofences: sqlite:///path/airgrid.sqlite or postgresql://...; without it no intent rules run.",
    ),
]
TierGridOpt = Annotated[
    Path | None,
    typer.Option(
        "--grid",
        help="Built grid folder whose tier table to use (default: AIRGRID_TIERS_PATH or the shipped tiers.toml).",
    ),
]
FencesOpt = Annotated[
    Path | None, typer.Option("--fences", help="Geofence file (default: the Hunan airport zones).")
]
AuditDemOpt = Annotated[
    Path | None,
    typer.Option(
        "--dem", help="DEM for ground bounds (default: AIRGRID_DEM_PATHS or the Hunan DEM)."
    ),
]
OperatorOpt = Annotated[
    str, typer.Option("--operator", help="Operator of logs that name none (ULog).")
]
ContingentOpt = Annotated[
    float, typer.Option("--contingent-after", help="Seconds of nonconformance before Contingent.")
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Run the rules on this Dask scheduler (tcp://host:8786); Parquet logs are also read there.",
    ),
]
LocalClusterOpt = Annotated[
    int,
    typer.Option(
        "--local-cluster",
        help="Run the rules on a local Dask cluster of this many worker processes (0: in this process); Parquet logs are also read there.",
    ),
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Exit 2 if any row is rejected.")]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")]


def _tiers(grid: Path | None, tiers_path: Path) -> TierTable:
    """The tier table of a built grid, or the configured tier file."""
    if grid is None:
        return TierTable.from_toml(tiers_path)
    from airgrid.airspace.grid.voxels import Grid

    return Grid.load(grid).tiers


def _print_result(result: AuditResult, out: Path) -> None:
    """Write the results to ``out`` and print what was found and where it went."""
    from airgrid.audit.report import write_results

    paths = write_results(result, out)
    v = result.violations
    certain = int((v["certainty"] == "certain").sum()) if len(v) else 0
    flights = int(result.operators["flights"].sum())
    console.print(
        f"{len(v)} violation(s) ({certain} certain) in {flights} flight(s); "
        f"{result.n_rejected} row(s) rejected"
    )
    for r in result.rejected[:5]:
        typer.echo(f"rejected: {r}", err=True)
    for kind, p in paths.items():
        console.print(f"{kind}: {p}")


def audit_cmd(
    ctx: typer.Context,
    logs: LogsArg,
    out: OutOpt,
    t_from: FromOpt = None,
    t_to: ToOpt = None,
    db: StoreOpt = None,
    grid: TierGridOpt = None,
    fences: FencesOpt = None,
    dem: AuditDemOpt = None,
    operator: OperatorOpt = "unknown",
    contingent_after: ContingentOpt = 30.0,
    scheduler: SchedulerOpt = None,
    local_cluster: LocalClusterOpt = 0,
    strict: StrictOpt = False,
    progress: ProgressOpt = True,
) -> None:
    """Audit flight logs against geofences, tiers, terrain and accepted intents.

    Checks geofences entered while active, tier bands, the light-UAV limit,
    terrain clearance and conformance to accepted intents (exit 2 on bad input).
    """
    from airgrid.audit.audit import run_audit  # pandas and pyarrow load only for audits
    from airgrid.audit.errors import LogError
    from airgrid.audit.rules import RuleSettings

    cfg = cli_settings(ctx)
    start = None if t_from is None else iso_time(t_from, "--from")
    end = None if t_to is None else iso_time(t_to, "--to")
    tiers = _tiers(grid, cfg.tiers_path)
    dem_paths = [dem] if dem else cfg.dem_paths
    terrain = open_dem(dem_paths)
    inputs = audit_inputs(
        load_fences(fences, cfg.data_dir),
        store=existing_store(db, "--db") if db else None,
        dem=terrain,
    )
    settings = RuleSettings(contingent_after_s=contingent_after)
    executor = None
    if scheduler or local_cluster > 0:
        from airgrid.audit.cluster import audit_on_cluster

        def executor(tracks: Tracks) -> tuple[pd.DataFrame, pd.DataFrame]:
            return audit_on_cluster(
                tracks,
                fences=inputs.geofences,
                dem_paths=dem_paths,
                tiers=tiers,
                intents=inputs.intents,
                settings=settings,
                scheduler=scheduler,
                workers=max(local_cluster, 1),
                progress=update,
            )

    parquet = all(Path(p).suffix.lower() in (".parquet", ".pq") for p in logs)
    try:
        with progress_bar(progress) as update:
            common = {
                "tiers": tiers, "intents": inputs.intents, "settings": settings,
                "t_from": start, "t_to": end, "strict": strict, "progress": update,
            }  # fmt: skip
            if executor is not None and parquet:  # read on the workers
                from airgrid.audit.frames import audit_parquet_on_cluster

                result = audit_parquet_on_cluster(
                    logs, fences=inputs.geofences, dem_paths=dem_paths,
                    geoid_path=cfg.geoid_path, scheduler=scheduler,
                    workers=max(local_cluster, 1), **common,
                )  # fmt: skip
            else:
                result = run_audit(
                    logs, index=inputs.index, dem=terrain, geoid=Geoid(cfg.geoid_path),
                    operator=operator, executor=executor, **common,
                )  # fmt: skip
    except LogError as exc:
        raise BadInput(str(exc)) from None
    _print_result(result, out)


def register(app: typer.Typer) -> None:
    """Add the ``audit`` command to ``app``."""
    app.command("audit")(audit_cmd)
