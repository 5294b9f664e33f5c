"""The running estimate of how often a connection finds the process's copy current."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from airgrid.airspace.store.copy_odds import THRESHOLD, WEIGHT, CopyOdds


def test_a_new_connection_tries_the_copy() -> None:
    assert CopyOdds().worth_trying()


def test_tries_stop_after_the_misses_the_weight_implies_and_resume_after_as_many_hits() -> None:
    odds = CopyOdds()
    # (1 - WEIGHT)^n < THRESHOLD from the start at 1.0
    misses = math.floor(math.log(THRESHOLD) / math.log(1 - WEIGHT)) + 1
    for _ in range(misses - 1):
        odds.saw(False)
    assert odds.worth_trying()
    odds.saw(False)
    assert not odds.worth_trying()
    hits = 0
    while not odds.worth_trying():
        odds.saw(True)
        hits += 1
    assert 0 < hits <= misses


@given(st.lists(st.booleans(), max_size=300))
def test_the_estimate_is_a_share_between_zero_and_one(seen: list[bool]) -> None:
    odds = CopyOdds()
    for current in seen:
        before = odds.current
        odds.saw(current)
        assert 0.0 <= odds.current <= 1.0
        assert (odds.current >= before) if current else (odds.current <= before)
