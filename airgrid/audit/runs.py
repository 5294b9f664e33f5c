"""Violations as runs: consecutive offending fixes of one flight, rule and object merge.

Rules find runs of offending fixes (Numba passes over the fixes) and :class:`Found`
collects them, each with its certainty, until the audit adds the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from airgrid.audit.tracks import Tracks

#: Certainty of a violation: every altitude the fix may have breaks the rule, or some do.
CERTAIN, POSSIBLE = "certain", "possible"


@dataclass
class Runs:
    """Runs of offending fixes: global fix indices ``i0..i1`` (inclusive), times, certainty,
    and the largest excess (metres; NaN where the rule has none)."""

    i0: np.ndarray
    i1: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    certain: np.ndarray
    excess: np.ndarray

    def __len__(self) -> int:
        return len(self.i0)


@dataclass
class Found:
    """Violations found so far, as parallel lists (one entry per violation)."""

    flight: list[np.ndarray] = field(default_factory=list)
    rule: list[np.ndarray] = field(default_factory=list)
    obj: list[np.ndarray] = field(default_factory=list)
    state: list[np.ndarray] = field(default_factory=list)
    runs: list[Runs] = field(default_factory=list)

    def add(
        self,
        tracks: Tracks,
        rule: str,
        obj: np.ndarray | str,
        runs: Runs,
        state: np.ndarray | str = "",
    ) -> None:
        """Add runs of one rule (``obj``: the object each run breaks, or one for all)."""
        n = len(runs)
        if n == 0:
            return
        self.flight.append(tracks.flight[runs.i0].astype(np.int64))
        self.rule.append(np.full(n, rule, dtype=object))
        self.obj.append(np.broadcast_to(np.asarray(obj, dtype=object), (n,)).copy())
        self.state.append(np.broadcast_to(np.asarray(state, dtype=object), (n,)).copy())
        self.runs.append(runs)

    def extend(self, other: Found) -> None:
        """Add everything another collection found, after what this one holds."""
        for name in ("flight", "rule", "obj", "state", "runs"):
            getattr(self, name).extend(getattr(other, name))

    def columns(self) -> dict[str, np.ndarray]:
        """Everything found, concatenated, ordered by flight, first time, rule."""
        if not self.runs:
            e = np.empty(0, np.int64)
            return {
                "flight": e, "rule": np.empty(0, object), "object_id": np.empty(0, object),
                "state": np.empty(0, object), "i0": e, "i1": e, "t0": np.empty(0),
                "t1": np.empty(0), "certain": np.empty(0, bool), "excess": np.empty(0),
            }  # fmt: skip
        cols = {
            "flight": np.concatenate(self.flight),
            "rule": np.concatenate(self.rule),
            "object_id": np.concatenate(self.obj),
            "state": np.concatenate(self.state),
        }
        for k in ("i0", "i1", "t0", "t1", "certain", "excess"):
            cols[k] = np.concatenate([getattr(r, k) for r in self.runs])
        order = np.lexsort((cols["rule"].astype(str), cols["t0"], cols["flight"]))
        return {k: v[order] for k, v in cols.items()}


__all__ = ["CERTAIN", "POSSIBLE", "Found", "Runs"]
