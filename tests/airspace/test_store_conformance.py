"""Store: telemetry steps, history in the same transaction, and nonconforming/contingent
intents keep holding their airspace (SQLite and PostgreSQL)."""

from __future__ import annotations

import numpy as np
import pytest

from airgrid.airspace.errors import IntentNotAirborneError
from airgrid.airspace.traffic.conformance import JudgedFixes
from airgrid.airspace.traffic.models import IntentState
from tests.airspace.conftest import LAT0, LON0, T0, StoreMaker, circle


def _fixes(times, outside) -> JudgedFixes:
    n = len(times)
    out = np.array(outside, bool)
    return JudgedFixes(
        np.array(times, float) + T0,
        np.full(n, LON0),
        np.full(n, LAT0),
        np.full(n, 215.0),
        "AMSL",
        np.full(n, 215.0),
        np.full(n, 215.0),
        out,
        out,
        np.arange(n),
    )


def test_steps_history_and_holding(maker: StoreMaker) -> None:
    st = maker.open()
    assert st.submit(circle("a", intent_id="a", priority=10)).accepted
    with pytest.raises(IntentNotAirborneError):
        st.record_telemetry("a", _fixes([0], [False]), 30.0)
    st.activate("a")
    done = st.record_telemetry("a", _fixes([0, 1], [False, True]), 30.0)
    assert done.state is IntentState.NONCONFORMING and done.judged == 2
    assert st.get("a").state is IntentState.NONCONFORMING
    # another intent in the same airspace is refused, and cannot pre-empt it
    late = st.submit(circle("b", intent_id="b", priority=40), propose=False)
    assert not late.accepted and late.conflicts[0].other_state is IntentState.NONCONFORMING
    assert not late.conflicts[0].preemptable
    done = st.record_telemetry("a", _fixes([20, 31, 32, 33], [True, True, True, False]), 30.0)
    assert done.state is IntentState.CONTINGENT
    assert [e.new for e in done.events] == [IntentState.CONTINGENT]
    assert done.events[0].fix is not None and done.events[0].fix[0] == T0 + 32
    assert not st.submit(circle("c", intent_id="c"), propose=False).accepted
    assert st.record_telemetry("a", _fixes([5], [False]), 30.0).stale == 1
    hist = [(e.old, e.new, e.cause) for e in st.history("a")]
    assert hist == [
        (IntentState.ACCEPTED, IntentState.ACTIVATED, "request"),
        (IntentState.ACTIVATED, IntentState.NONCONFORMING, "telemetry"),
        (IntentState.NONCONFORMING, IntentState.CONTINGENT, "telemetry"),
    ]
    assert [e.new for e in st.alerts(state="contingent")] == [IntentState.CONTINGENT]
    assert st.alerts(operator="zzz") == []
    st.end("a")
    assert st.submit(circle("d", intent_id="d"), propose=False).accepted
