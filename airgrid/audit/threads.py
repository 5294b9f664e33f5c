"""Work of one audit split over a few Python threads.

The audit's Numba kernels release the GIL (``nogil=True``), so a kernel over the fixes
can run on contiguous spans of them in several threads at once, and independent rules
can run side by side. Plain threads are used, not Numba's parallel backend, so no
OpenMP state is left behind to break processes forked later.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

#: Threads a split uses: the CPUs this process may run on, at most 2.
WORKERS = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1, 2)
#: Fewest items worth a thread of their own.
MIN_SPAN = 200_000


def spans(n: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous ``(start, stop)`` spans covering ``range(n)``, in order (fewer
    when ``n`` is small; one empty span for ``n == 0``)."""
    parts = max(min(parts, n), 1)
    edges = [n * k // parts for k in range(parts + 1)]
    return list(itertools.pairwise(edges))


def over_spans(fn: Callable[[int, int], T], n: int, min_span: int | None = None) -> list[T]:
    """``fn(start, stop)`` over contiguous spans of ``range(n)``, one per thread (up to
    :data:`WORKERS`, each span at least ``min_span`` long, :data:`MIN_SPAN` by default);
    the results in span order. The first span runs in the calling thread."""
    parts = min(WORKERS, n // max(MIN_SPAN if min_span is None else min_span, 1))
    return together(*[lambda a=a, b=b: fn(a, b) for a, b in spans(n, parts)])


def together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at once (the first in the calling thread, each other one in a thread
    of its own) and return their results in order; the first exception is raised once
    all have ended."""
    if len(calls) == 1 or WORKERS < 2:
        return [c() for c in calls]
    with ThreadPoolExecutor(len(calls) - 1) as pool:
        rest = [pool.submit(c) for c in calls[1:]]
        try:
            first = calls[0]()
        finally:
            others = [f.exception() for f in rest]
    for exc in others:
        if exc is not None:
            raise exc
    return [first, *(f.result() for f in rest)]


__all__ = ["MIN_SPAN", "WORKERS", "over_spans", "spans", "together"]
