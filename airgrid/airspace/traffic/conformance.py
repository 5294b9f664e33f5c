"""Conformance monitoring of airborne intents: judged telemetry, the state steps it causes,
and the records of an intent's history.

A flight's positions are judged against its intent's volumes elsewhere (the audit's
conformance test); :func:`conformance_steps` turns the judged positions, in time order,
into the ASTM F3548 state changes they cause:

* ``activated`` and a position outside every volume: ``nonconforming`` (the run outside
  starts at that position);
* ``nonconforming`` and a position outside, more than ``contingent_after_s`` after the
  run outside started: ``contingent``;
* ``nonconforming`` and a position inside: ``activated`` again (the run ends);
* ``contingent``: stays contingent whatever follows, until the intent is ended or
  cancelled.

Time is the positions' own time, so a late batch is judged as it flew. Everything here is
plain data and pure computation; the store applies the steps in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from airgrid.airspace.traffic.models import IntentState


@dataclass(frozen=True)
class JudgedFixes:
    """Telemetry positions of one flight, judged against its intent's volumes.

    Attributes
    ----------
    t
        POSIX seconds, non-decreasing.
    lon, lat
        Degrees (WGS84).
    alt_m
        Altitude as reported, in ``alt_ref``.
    alt_ref
        ``"AMSL"``, ``"AGL"`` or ``"W84"``.
    amsl_lo, amsl_hi
        The altitude as an interval of metres AMSL (an AGL altitude is known only within
        the ground's bounds).
    outside
        The position may lie outside every volume (not certainly inside one): it counts
        as nonconforming, as the audit's conformance rule counts it.
    certain
        It certainly lies outside every volume (no altitude of its interval fits one).
    index
        Each position's place in the batch as sent.
    """

    t: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    alt_m: np.ndarray
    alt_ref: str
    amsl_lo: np.ndarray
    amsl_hi: np.ndarray
    outside: np.ndarray
    certain: np.ndarray
    index: np.ndarray

    def __len__(self) -> int:
        return len(self.t)


@dataclass(frozen=True)
class Step:
    """One state change caused by telemetry.

    Attributes
    ----------
    fix
        Index (into the :class:`JudgedFixes`) of the position that caused it.
    old, new
        The states before and after.
    detail
        Why, in words.
    """

    fix: int
    old: IntentState
    new: IntentState
    detail: str


def conformance_steps(
    state: IntentState,
    out_since: float | None,
    fixes: JudgedFixes,
    contingent_after_s: float,
) -> tuple[list[Step], IntentState, float | None]:
    """The state changes ``fixes`` cause (see the module docstring).

    Parameters
    ----------
    state
        The intent's state before the first fix (one of
        :data:`~airgrid.airspace.traffic.models.AIRBORNE`).
    out_since
        Time of the first position of the current run outside, None when the last
        position judged was inside.
    fixes
        Positions not judged before, in time order.
    contingent_after_s
        A run outside lasting longer than this makes the intent contingent.

    Returns
    -------
    steps : list of Step
    state : IntentState
        The state after the last fix.
    out_since : float or None
        The run outside after the last fix.
    """
    steps: list[Step] = []
    for k in range(len(fixes)):
        t = float(fixes.t[k])
        if state is IntentState.CONTINGENT:
            break
        if not fixes.outside[k]:
            if state is IntentState.NONCONFORMING:
                steps.append(Step(k, state, IntentState.ACTIVATED, "back inside its volumes"))
                state = IntentState.ACTIVATED
            out_since = None
            continue
        sure = "certainly" if fixes.certain[k] else "possibly"
        if out_since is None:
            out_since = t
        if state is IntentState.ACTIVATED:
            steps.append(Step(k, state, IntentState.NONCONFORMING, f"{sure} outside its volumes"))
            state = IntentState.NONCONFORMING
        if state is IntentState.NONCONFORMING and t - out_since > contingent_after_s:
            steps.append(
                Step(
                    k,
                    state,
                    IntentState.CONTINGENT,
                    f"{sure} outside its volumes, {t - out_since:.1f} s after it left them "
                    f"(more than {contingent_after_s:g} s)",
                )
            )
            state = IntentState.CONTINGENT
    return steps, state, out_since


@dataclass(frozen=True)
class IntentEvent:
    """One entry of an intent's history: a state change, what caused it and, for
    telemetry, the position that did.

    Attributes
    ----------
    id
        Increasing number of the entry in the store (a paging cursor).
    intent_id, operator
        The intent and its owner.
    old, new
        The states before and after.
    cause
        ``"telemetry"`` (a conformance change), ``"request"`` (activate, end, cancel)
        or ``"preemption"``.
    at
        When the store recorded it, POSIX seconds.
    detail
        Why, in words.
    fix
        For telemetry: ``t, lon, lat, alt_m, alt_ref, amsl_lo, amsl_hi, certain`` of the
        position; else None.
    """

    id: int
    intent_id: str
    operator: str
    old: IntentState
    new: IntentState
    cause: str
    at: float
    detail: str
    fix: tuple[float, float, float, float, str, float, float, bool] | None = None


@dataclass(frozen=True)
class TelemetryOutcome:
    """What a batch of telemetry did to its intent.

    Attributes
    ----------
    state
        The intent's state after the batch.
    judged
        Positions judged (newer than every position judged before).
    stale
        Positions not judged: no newer than the latest one judged before (a resent or
        late batch cannot move the state backwards in time).
    outside
        Judged positions that may lie outside every volume.
    events
        The state changes, as stored in the intent's history.
    """

    state: IntentState
    judged: int
    stale: int
    outside: int
    events: tuple[IntentEvent, ...]


__all__ = ["IntentEvent", "JudgedFixes", "Step", "TelemetryOutcome", "conformance_steps"]
