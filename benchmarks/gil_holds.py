"""How long a large conflict test holds the interpreter, seen from another thread.

A server thread that computes must leave the interpreter to the event loop often, or
health probes wait. This measures it directly: one thread runs
:func:`airgrid.airspace.traffic.conflicts.find_conflicts` for the abusive route intent of
``benchmarks/api.py`` (~4,900 pieces of 2 m) against the same route held by another
operator 10 s later (in conflict all along: the worst case), while the main thread sleeps 1 ms at a time and
records how late it wakes. Two cases: pieces of 2 m (987,037 candidate pairs, over the
decision's budget :data:`~airgrid.airspace.traffic.limits.MAX_CANDIDATE_PAIRS`, so the
measured work is the refusal) and pieces of 6.5 m (just under the budget: the largest
decision the engine makes). The baseline is the same sleep loop with nothing else running. The interpreter
is set up as the API runs it: a 1 ms switch interval, the collector frozen after
warm-up with rare full passes (``airgrid.api.http.app.GC_THRESHOLDS``).

Usage: ``python benchmarks/gil_holds.py [--piece-m M ...] [--runs K]``
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from airgrid.airspace.errors import ConflictBudgetError
from airgrid.airspace.traffic.conflicts import find_conflicts
from airgrid.airspace.traffic.holders import Holder
from airgrid.airspace.traffic.models import IntentState
from airgrid.airspace.traffic.route_volumes import route_to_volumes
from airgrid.airspace.traffic.separation import SeparationTable
from airgrid.api.http.app import GC_THRESHOLDS
from airgrid.geo.volumes import Volume4D


def route(piece_m: float, t0: float) -> tuple[Volume4D, ...]:
    """The abusive route intent of ``benchmarks/api.py``: 9.8 km east of Changsha at
    1,000 m in 15 minutes, the API's default 50 m x 20 m tube, pieces of ``piece_m``."""
    wps = [(28.12, 112.92, 1000.0, t0), (28.12, 113.02, 1000.0, t0 + 900.0)]
    return tuple(route_to_volumes(wps, half_width_m=50.0, half_height_m=20.0, max_piece_m=piece_m))


def wake_lateness(work: threading.Thread | None, seconds: float) -> np.ndarray:
    """Lateness (ms) of 1 ms sleeps while ``work`` runs (or for ``seconds`` without it)."""
    late = []
    end = time.perf_counter() + seconds
    if work is not None:
        work.start()
    while (work.is_alive() if work is not None else time.perf_counter() < end) and len(
        late
    ) < 1_000_000:
        t = time.perf_counter()
        time.sleep(0.001)
        late.append(time.perf_counter() - t - 0.001)
    if work is not None:
        work.join()
    return np.array(late) * 1000


def decide(vols: tuple[Volume4D, ...], holder: Holder, table: SeparationTable) -> str:
    """What the decision finds: the number of conflicts, or that it refused."""
    try:
        return f"{len(find_conflicts(vols, 'T2', 20, [holder], table)):,} conflicts"
    except ConflictBudgetError:
        return "refused (over the budget of candidate pairs)"


def measure(piece_m: float, runs: int, table: SeparationTable) -> None:
    """Time the decision for pieces of ``piece_m`` and how late the sleeping thread wakes."""
    vols = route(piece_m, 1e9)
    held = route(piece_m, 1e9 + 10.0)  # the same route 10 s later: in conflict all along
    holder = Holder("held", "op-2", 20, "T2", IntentState.ACCEPTED, held)
    print(f"-- pieces of {piece_m:g} m: {len(vols):,} volumes against {len(held):,}")
    rows = []
    for _ in range(runs):
        found: list[str] = []
        t0 = time.perf_counter()
        late = wake_lateness(
            threading.Thread(target=lambda found=found: found.append(decide(vols, holder, table))),
            0.0,
        )
        took = time.perf_counter() - t0
        idle = wake_lateness(None, took)
        rows.append(
            (took, np.percentile(late, 99), late.max(), np.percentile(idle, 99), idle.max())
        )
        print(
            f"{found[0]} in {took:.2f} s; wake lateness p99 {rows[-1][1]:.2f} ms, "
            f"max {rows[-1][2]:.2f} ms (idle: p99 {rows[-1][3]:.2f} ms, max {rows[-1][4]:.2f} ms)"
        )
    med = [statistics.median(r[j] for r in rows) for j in range(5)]
    print(f"median of {runs}: decision {med[0]:.2f} s")
    print(f"longest wait for the interpreter: {med[2]:.2f} ms (idle {med[4]:.2f} ms)")
    print(f"p99 wait: {med[1]:.2f} ms (idle {med[3]:.2f} ms), ratio {med[1] / med[3]:.1f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--piece-m",
        type=float,
        nargs="+",
        default=[2.0, 6.5],
        help="piece lengths (2 m: ~4,900 pieces, refused; 6.5 m: just under the budget)",
    )
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    sys.setswitchinterval(0.001)
    table = SeparationTable()
    warm = route(10.0, 1e9)[:50]
    find_conflicts(warm, "T2", 20, [Holder("w", "o", 0, "T2", IntentState.ACCEPTED, warm)], table)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    for piece_m in args.piece_m:
        measure(piece_m, args.runs, table)


if __name__ == "__main__":
    main()
