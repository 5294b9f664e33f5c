"""The bounded cache of held volumes: least recently used first out, and an index whose
cache keeps almost nothing finds exactly what one with the default cache finds."""

from __future__ import annotations

import numpy as np
import shapely

from airgrid.airspace.traffic.holders import volume_limits
from airgrid.airspace.traffic.holding_index import HoldingIndex
from airgrid.airspace.traffic.volume_cache import VolumeCache
from tests.airspace.conftest import circle
from tests.airspace.test_store_index import _holder, _minima, _random_request


def test_the_least_recently_used_intents_go_first() -> None:
    vols = {s: circle("op", east=100.0 * s).volumes * n for s, n in ((1, 3), (2, 2), (3, 2))}
    cache = VolumeCache(5)
    cache.put(1, vols[1])
    cache.put(2, vols[2])
    assert len(cache) == 5
    assert cache.get(1) == vols[1]  # 1 is now the most recently used
    cache.put(3, vols[3])  # over capacity: 2 goes
    assert cache.get(2) is None and cache.get(1) == vols[1] and cache.get(3) == vols[3]
    assert len(cache) == 5
    cache.put(4, vols[1] * 2)  # larger than the whole cache: not kept, nothing evicted
    assert cache.get(4) is None and len(cache) == 5
    cache.drop(1)
    cache.drop(1)  # absent: no-op
    assert cache.get(1) is None and len(cache) == 2


def test_a_tiny_cache_finds_what_the_default_finds() -> None:
    rng = np.random.default_rng(11)
    reqs = [_random_request(rng, n) for n in range(300)]
    small, default = HoldingIndex(cache_volumes=4), HoldingIndex()
    for index in (small, default):
        index.add((n, _holder(r)) for n, r in enumerate(reqs))
    for p in [_random_request(rng, 10_000 + n) for n in range(40)]:
        lim, minima = volume_limits(p.volumes)[1], _minima(p.tier)
        a, b = small.candidates(lim, minima), default.candidates(lim, minima)
        assert [h.id for h in a.holders] == [h.id for h in b.holders]
        assert [h.volumes for h in a.holders] == [h.volumes for h in b.holders]
        assert np.array_equal(a.limits, b.limits)


def test_a_replaced_intent_is_never_served_from_the_cache() -> None:
    index = HoldingIndex()
    near = circle("a", intent_id="a")
    index.add([(1, _holder(near))])
    probe = volume_limits(circle("p", east=10.0).volumes)[1]
    (h,) = index.candidates(probe, _minima("T2")).holders  # now cached
    assert h.volumes == near.volumes
    moved = circle("a", east=40.0, floor=150.0, ceiling=190.0, intent_id="a")
    v = moved.volumes[0]
    # as the store's catch-up brings it: a row with the footprint as WKB
    index.add_rows(
        [
            (
                1,
                "a",
                "op",
                20,
                "T2",
                "accepted",
                shapely.to_wkb(v.footprint),
                v.floor_m,
                v.ceiling_m,
                v.t_start,
                v.t_end,
            )
        ]
    )
    (h,) = index.candidates(probe, _minima("T2")).holders
    assert h.volumes == moved.volumes != near.volumes
