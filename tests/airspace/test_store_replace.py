"""Atomic replacement of an intent (a modification): one transaction, no gap, no self-conflict."""

from __future__ import annotations

import pytest

from airgrid.airspace.errors import StateTransitionError
from airgrid.airspace.traffic.models import IntentState
from tests.airspace.conftest import StoreMaker, circle


def test_replace_moves_the_airspace_in_one_step(maker: StoreMaker) -> None:
    st = maker.open()
    assert st.submit(circle("a", intent_id="fp.1")).accepted
    # the new version overlaps the old one: the old one is not in its way
    d = st.replace_intent("fp.1", circle("a", east=10, intent_id="fp.2"))
    assert d.accepted and d.intent is not None and d.intent.state is IntentState.ACCEPTED
    old = st.get("fp.1")
    assert old.state is IntentState.CANCELLED and old.reason == "replaced by intent fp.2"
    last = st.history("fp.1")[-1]
    assert (last.cause, last.detail) == ("request", "replaced by intent fp.2")
    assert [i.id for i in st.holding()] == ["fp.2"]
    # the released airspace of the old version is free; the new one is held
    assert st.submit(circle("b", east=3_000, intent_id="far")).accepted
    assert not st.submit(circle("b", east=10)).accepted
    assert [i.id for i in st.list_intents(id_prefix="fp.")] == ["fp.1", "fp.2"]


def test_refused_replacement_keeps_the_old_intent(maker: StoreMaker) -> None:
    st = maker.open()
    st.submit(circle("a", intent_id="fp.1"))
    st.submit(circle("b", north=2_000, intent_id="other"))
    d = st.replace_intent("fp.1", circle("a", north=2_000, intent_id="fp.2"))
    assert not d.accepted and {c.other_id for c in d.conflicts} == {"other"}
    assert st.get("fp.1").state is IntentState.ACCEPTED
    assert st.check(circle("a", east=10), replacing="fp.1").accepted
    assert not st.check(circle("a", east=10)).accepted
    with pytest.raises(StateTransitionError):
        st.replace_intent("nope", circle("a", east=5_000, intent_id="fp.3"))


def test_replace_an_airborne_intent_stays_airborne(maker: StoreMaker) -> None:
    st = maker.open()
    st.submit(circle("a", intent_id="fp.1"))
    st.activate("fp.1")
    d = st.replace_intent("fp.1", circle("a", east=10, intent_id="fp.2"), activate=True)
    assert d.accepted and st.get("fp.2").state is IntentState.ACTIVATED
    assert st.get("fp.1").state is IntentState.CANCELLED
    # an airborne intent is never pre-empted: a higher priority is refused
    assert not st.submit(circle("c", east=10, priority=40)).accepted
    # another connection to the same database (sharing the in-process copy) sees the same
    other = maker.open()
    assert [i.id for i in other.holding()] == ["fp.2"]
    assert not other.submit(circle("c", east=10, priority=40)).accepted
