"""The figures of a traffic day, and the brute-force check of its accepted intents.

:func:`summarise` turns the outcomes into a :class:`TrafficReport`: accepted and refused
(by reason), delays, route-length inflation against the great circle, flights/s end to
end, per-flight latency percentiles and peak memory (the process's peak resident set,
:func:`resource.getrusage`). :func:`conflicting_pairs` checks a sample of the accepted
intents pairwise with the exact conflict test.
"""

from __future__ import annotations

import resource
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from airgrid.airspace.store.service import Store
from airgrid.airspace.traffic.conflicts import conflict_pairs
from airgrid.airspace.traffic.holders import Holder, HolderVolumes
from airgrid.simulation.runner import REASONS, FlightOutcome

#: Accepted intents checked pairwise by :func:`conflicting_pairs`, at most.
SAMPLE = 2_000


@dataclass(frozen=True)
class TrafficReport:
    """The figures of one run (times in seconds unless named otherwise).

    Attributes
    ----------
    mode
        ``"in-process"`` or ``"http, N clients"``.
    flights, accepted
        Flights flown and accepted.
    refused
        Refusals per reason (every reason of :data:`~airgrid.simulation.runner.REASONS`).
    by_class
        Per flight class: ``[flights, accepted]``.
    delayed
        Accepted flights that took a departure delay.
    rerouted
        Accepted flights re-routed around a conflict.
    moved
        Accepted flights flown at another altitude than planned (an altitude fix).
    delay_mean_s
        Mean delay over accepted flights.
    delay_percentiles_s
        Delay at the 50th, 90th, 99th percentile and the maximum over accepted flights.
    inflation_median, inflation_p90
        Route length over the great circle between its ends (routes found, ends at least
        1 km apart).
    wall_s, flights_per_s
        Wall time of the run and flights over it.
    latency_p50_ms, latency_p99_ms
        Per-flight latency (route to final answer).
    peak_rss_mib
        The process's peak resident memory (plus its largest planning process's, for a
        day planned in processes).
    submit_cpu_s, plan_cpu_s
        In-process: CPU time of the thread that submits (and fixes and re-routes), and of
        the planning ahead (the process's other threads and its planning processes),
        over the run; None through HTTP. On a shared machine they show which side bounds
        the wall time.
    checked, pairs_in_conflict
        Accepted intents checked pairwise and the pairs found in conflict (None: not checked).
    """

    mode: str
    flights: int
    accepted: int
    refused: dict[str, int]
    by_class: dict[str, list[int]]
    delayed: int
    rerouted: int
    moved: int
    delay_mean_s: float
    delay_percentiles_s: list[float]
    inflation_median: float
    inflation_p90: float
    wall_s: float
    flights_per_s: float
    latency_p50_ms: float
    latency_p99_ms: float
    peak_rss_mib: float
    submit_cpu_s: float | None = None
    plan_cpu_s: float | None = None
    checked: int = 0
    pairs_in_conflict: int | None = None

    def as_dict(self) -> dict:
        """The report as plain JSON-ready data."""
        return asdict(self)


@dataclass(frozen=True)
class CpuSplit:
    """CPU seconds of an in-process run: the submitting thread's, and the rest (the
    process's other threads and its children's)."""

    submit_s: float
    plan_s: float


class CpuClock:
    """Measures a :class:`CpuSplit` from its creation, in the submitting thread."""

    def __init__(self) -> None:
        self._start = self._now()

    @staticmethod
    def _now() -> tuple[float, float, float]:
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.thread_time(), time.process_time(), kids.ru_utime + kids.ru_stime

    def split(self) -> CpuSplit:
        """The CPU used since creation (children count once they have ended)."""
        thread, process, kids = (b - a for a, b in zip(self._start, self._now()))
        return CpuSplit(thread, process - thread + kids)


def peak_rss_mib(children: bool = False) -> float:
    """Peak resident set size of this process, MiB; with ``children``, plus that of the
    largest child process ended so far (pages they share are counted in both)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if children:
        rss += resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def summarise(
    outcomes: Sequence[FlightOutcome],
    wall_s: float,
    mode: str,
    *,
    children: bool = False,
    cpu: CpuSplit | None = None,
) -> TrafficReport:
    """The report of a run's outcomes over ``wall_s`` seconds (its peak memory with the
    largest child's added when ``children``: see :func:`peak_rss_mib`; its CPU split when
    measured)."""
    acc = [o for o in outcomes if o.accepted]
    reasons = Counter(o.reason for o in outcomes if not o.accepted)
    by_class: dict[str, list[int]] = {}
    for o in outcomes:
        row = by_class.setdefault(o.cls, [0, 0])
        row[0] += 1
        row[1] += int(o.accepted)
    delays = np.array([o.delay_s for o in acc]) if acc else np.zeros(1)
    infl = np.array(
        [o.route_m / o.crow_m for o in outcomes if o.crow_m >= 1_000 and np.isfinite(o.route_m)]
    )
    lat = np.array([o.latency_s for o in outcomes]) * 1e3 if outcomes else np.zeros(1)
    return TrafficReport(
        mode=mode,
        flights=len(outcomes),
        accepted=len(acc),
        refused={r: reasons.get(r, 0) for r in REASONS},
        by_class=by_class,
        delayed=sum(o.delay_s > 0 for o in acc),
        rerouted=sum(o.reroutes > 0 for o in acc),
        moved=sum(o.offset_m != 0 for o in acc),
        delay_mean_s=float(delays.mean()),
        delay_percentiles_s=[float(x) for x in np.percentile(delays, [50, 90, 99, 100])],
        inflation_median=float(np.median(infl)) if len(infl) else float("nan"),
        inflation_p90=float(np.percentile(infl, 90)) if len(infl) else float("nan"),
        wall_s=wall_s,
        flights_per_s=len(outcomes) / wall_s if wall_s > 0 else float("nan"),
        latency_p50_ms=float(np.percentile(lat, 50)),
        latency_p99_ms=float(np.percentile(lat, 99)),
        peak_rss_mib=peak_rss_mib(children),
        submit_cpu_s=cpu.submit_s if cpu is not None else None,
        plan_cpu_s=cpu.plan_s if cpu is not None else None,
    )


def conflicting_pairs(store: Store, intent_ids: Sequence[str], seed: int = 0) -> tuple[int, int]:
    """Pairs in conflict among up to :data:`SAMPLE` of ``intent_ids``, as stored.

    Every pair of the sample is put to the exact conflict test
    (:func:`~airgrid.airspace.traffic.conflicts.conflict_pairs`, the test the store
    decides with, with the store's separation minima): each intent against all the
    others' volumes, every volume pair considered.

    Returns
    -------
    (checked, pairs)
        Intents checked and distinct intent pairs found in conflict.
    """
    rng = np.random.default_rng(seed)
    ids = list(intent_ids)
    if len(ids) > SAMPLE:
        ids = [ids[i] for i in sorted(rng.choice(len(ids), SAMPLE, replace=False).tolist())]
    intents = [store.get(i) for i in ids]
    holders = [Holder(f.id, f.operator, f.priority, f.tier, f.state, f.volumes) for f in intents]
    hv = HolderVolumes.of(holders)
    table = store.policy.separation
    pairs: set[tuple[int, int]] = set()
    for a, h in enumerate(holders):
        p = conflict_pairs(list(h.volumes), h.tier, hv, table)
        for b in set(p.h.tolist()) - {a}:
            pairs.add((min(a, b), max(a, b)))
    return len(holders), len(pairs)


__all__ = [
    "SAMPLE",
    "CpuClock",
    "CpuSplit",
    "TrafficReport",
    "conflicting_pairs",
    "peak_rss_mib",
    "summarise",
]
