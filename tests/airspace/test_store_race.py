"""Multi-process race: 8 writers submit mutually conflicting intents at the same moment.

Each of ``GROUPS`` sets holds one intent per writer, all mutually conflicting (same place,
start times a few seconds apart); the sets are far apart. Exactly one intent of each set
must be accepted, every intent a writer was told is accepted must be in the store when
read back through a fresh connection, and nothing refused may be stored.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable

import pytest

from airgrid.airspace.store.service import open_store
from airgrid.airspace.traffic.models import IntentState
from tests.airspace.conftest import circle, intents_conflict

WRITERS = 8
GROUPS = 10


def _request(group: int, writer: int):
    # groups 3 km apart; within a group, writers differ by metres and seconds: all conflict
    return circle(
        f"w{writer}",
        east=3_000.0 * group + writer,
        north=writer * 2.0,
        t=writer * 3.0,
        intent_id=f"g{group}-w{writer}",
    )


def _writer(location: str, writer: int, barrier, out) -> None:
    with open_store(location) as store:
        store.check(circle("warm-up", north=50_000.0))  # lazy set-up done before the race
        accepted = []
        for g in range(GROUPS):
            barrier.wait(timeout=120)  # all writers submit to set g at the same moment
            d = store.submit(_request(g, writer), preempt=False, propose=False)
            if d.accepted:
                accepted.append(d.intent.id)
    out.put((writer, accepted))


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_concurrent_writers_accept_exactly_one_per_conflicting_set(
    backend: str, new_location: Callable[[str], str]
) -> None:
    location = new_location(backend)
    with open_store(location):  # create and migrate once, so the race is about intents
        pass
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(WRITERS)
    out = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(location, w, barrier, out)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=300) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    told = sorted(i for ids in results.values() for i in ids)
    with open_store(location) as fresh:
        stored = sorted(i.id for i in fresh.list_intents())
        assert stored == told  # nothing lost, nothing refused stored
        assert all(i.state is IntentState.ACCEPTED for i in fresh.list_intents())
        per_group = [sum(1 for i in stored if i.startswith(f"g{g}-")) for g in range(GROUPS)]
        assert per_group == [1] * GROUPS
        table = fresh.policy.separation
        reqs = [_request(g, w) for g in range(GROUPS) for w in range(WRITERS)]
        for a in reqs:  # the sets really are mutually conflicting, and far from each other
            for b in reqs:
                if a is not b:
                    same = a.intent_id.split("-")[0] == b.intent_id.split("-")[0]
                    assert intents_conflict(a.volumes, "T2", b.volumes, "T2", table) == same
