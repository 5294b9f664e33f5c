"""Geofence sets are written whole: crash, concurrent replaces and racing intents.

Two sets share one protected zone under different identifiers (as when a regulator
re-imports the airport zones from another source), and each has many other zones. A
replace of one set by the other must leave exactly one of them, whatever happens
during it, and no intent inside the shared zone may be accepted while it runs.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable

import pytest

from airgrid.airspace.geofences.model import Geofence, Limit
from airgrid.airspace.store.service import open_store
from tests.airspace.conftest import BACKENDS, LAT0, LON0, circle, offset

#: Zones per set (enough that a replace takes a measurable time).
ZONES = 1_500


def zone_set(tag: str, n: int = ZONES) -> list[Geofence]:
    """The shared zone (a 2 km square around the test origin, id ``<tag>-airport``) and
    ``n - 1`` small squares far to the east, ids ``<tag>-<k>``."""

    def square(ident: str, lat: float, lon: float, d: float) -> Geofence:
        return Geofence(
            ident,
            Limit(0.0, "AMSL"),
            Limit(3_000.0, "AMSL"),
            polygon=[(lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d)],
        )

    s, w = offset(LAT0, LON0, -1_000.0, -1_000.0)
    out = [square(f"{tag}-airport", s, w, 0.02)]
    for k in range(n - 1):
        out.append(square(f"{tag}-{k}", 20.0 + (k // 100) * 0.01, 100.0 + (k % 100) * 0.01, 0.005))
    return out


def ids(fences: list[Geofence]) -> set[str]:
    return {g.identifier for g in fences}


_CHILD = textwrap.dedent("""
    import sys, time
    from airgrid.airspace.store.service import open_store
    from tests.airspace.test_geofence_atomic import zone_set
    fences = zone_set("new")
    with open_store(sys.argv[1]) as st:
        print("go", flush=True)
        t0 = time.perf_counter()
        st.write_geofences(fences, replace_all=True)
        print(time.perf_counter() - t0, flush=True)
""")


def _replace_in_child(location: str, delay_s: float | None) -> float | None:
    """Run a replace by the 'new' set in a child process and kill -9 it ``delay_s`` after it
    starts writing (None: let it finish). The seconds the write took if it finished."""
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    with subprocess.Popen(
        [sys.executable, "-c", _CHILD, location],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=os.getcwd(),
    ) as proc:
        assert proc.stdout.readline().strip() == "go"
        if delay_s is None:
            took = float(proc.stdout.readline())
            assert proc.wait(timeout=120) == 0
            return took
        time.sleep(delay_s)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    return None


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_kill_9_during_a_replace_leaves_the_old_or_the_new_set_whole(
    backend: str, new_location: Callable[[str], str]
) -> None:
    location = new_location(backend)
    old, new = ids(zone_set("old")), ids(zone_set("new"))
    with open_store(location) as st:
        st.write_geofences(zone_set("old"))
    # the shortest of two full writes: a kill timed from a slow first write can land
    # after every later, faster write has committed
    full = min(_replace_in_child(location, None) for _ in range(2))
    outcomes = []
    for fraction in (0.1, 0.3, 0.5, 0.7, 0.9):
        with open_store(location) as st:
            st.write_geofences(zone_set("old"), replace_all=True)
        _replace_in_child(location, full * fraction * random.uniform(0.9, 1.0))
        with open_store(location) as st:  # a fresh connection after the crash
            found = ids(st.list_geofences())
        assert found in (old, new), (
            f"mixed set after kill -9: {len(found & old)} old, {len(found & new)} new"
        )
        outcomes.append("new" if found == new else "old")
    assert "old" in outcomes, f"no kill landed inside the write: {outcomes}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_replaces_serialise_and_readers_never_see_a_mixed_set(
    backend: str, new_location: Callable[[str], str]
) -> None:
    location = new_location(backend)
    sets = {tag: zone_set(tag, 300) for tag in ("a", "b")}
    with open_store(location) as st:
        st.write_geofences(sets["a"])
    seen: list[set[str]] = []
    errors: list[BaseException] = []
    reading = threading.Event()
    stop = threading.Event()

    def writer(tag: str) -> None:
        try:
            with open_store(location) as st:
                for _ in range(6):
                    done = st.write_geofences(sets[tag], replace_all=True)
                    assert set(done.created) | set(done.replaced) == ids(sets[tag])
        except BaseException as exc:
            errors.append(exc)

    def reader() -> None:
        try:
            with open_store(location) as st:
                while not stop.is_set():
                    seen.append(ids(st.list_geofences()))
                    reading.set()
        except BaseException as exc:
            errors.append(exc)
        finally:
            reading.set()

    threads = [threading.Thread(target=writer, args=(t,)) for t in ("a", "b")]
    watcher = threading.Thread(target=reader)
    watcher.start()
    # the writers start once the reader reads, so its reads overlap theirs
    assert reading.wait(timeout=120)
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    stop.set()
    watcher.join(timeout=60)
    assert not errors, errors
    whole = (ids(sets["a"]), ids(sets["b"]))
    assert len(seen) > 1 and all(s in whole for s in seen), "a reader saw a mixed set"
    with open_store(location) as st:
        assert ids(st.list_geofences()) in whole


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_intent_is_accepted_inside_a_zone_of_both_sets_while_they_are_replaced(
    backend: str, new_location: Callable[[str], str]
) -> None:
    location = new_location(backend)
    sets = {tag: zone_set(tag, 300) for tag in ("a", "b")}
    with open_store(location) as st:
        st.write_geofences(sets["a"])
    accepted: list[str] = []
    submitted = [0]
    errors: list[BaseException] = []
    flying = [threading.Event() for _ in range(3)]
    stop = threading.Event()

    def importer() -> None:
        try:
            # the replaces start once every flyer has submitted, so they overlap
            assert all(f.wait(timeout=120) for f in flying)
            with open_store(location) as st:
                for k in range(10):
                    st.write_geofences(sets["ab"[k % 2 == 0]], replace_all=True)
        except BaseException as exc:
            errors.append(exc)
        finally:
            stop.set()

    def flyer(w: int) -> None:
        try:
            with open_store(location) as st:
                n = 0
                while not stop.is_set():
                    d = st.submit(
                        circle(
                            f"op{w}",
                            east=37.0 * (n % 20),
                            north=41.0 * w,
                            r=30.0,
                            t=n * 500.0,
                            intent_id=f"w{w}-{n}",
                        ),
                        preempt=False,
                        propose=False,
                    )
                    submitted[0] += 1
                    if d.accepted:
                        accepted.append(d.intent.id)
                    n += 1
                    flying[w].set()
        except BaseException as exc:
            errors.append(exc)
        finally:
            flying[w].set()

    threads = [threading.Thread(target=importer)] + [
        threading.Thread(target=flyer, args=(w,)) for w in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert submitted[0] > 10
    assert accepted == [], (
        f"{len(accepted)} of {submitted[0]} intents accepted inside the shared zone"
    )
