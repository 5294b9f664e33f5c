"""The height rules' Numba pass against a plain per-fix reference."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from airgrid.audit.kernels import height_runs

LIMIT, CLEARANCE, TERMINAL = 120.0, 30.0, 3.0


def _reference(start, t, h_lo, h_hi, lower, upper, no_tier) -> list[tuple]:
    """(rule, i0, i1, certain, excess) of every run, by rule, flight and first fix."""
    out: dict[int, list[tuple]] = {r: [] for r in range(4)}
    for f in range(len(start) - 1):
        fix = range(start[f], start[f + 1])
        if not fix:
            continue
        up_t = [t[i] for i in fix if h_lo[i] >= CLEARANCE]
        rise = min([*up_t, t[fix[0]] + TERMINAL])
        fall = max([*up_t, t[fix[-1]] - TERMINAL])
        for r in range(4):
            run: list = []
            for i in fix:
                active = rise <= t[i] <= fall
                a, b, lo, up = h_lo[i], h_hi[i], lower[f], upper[f]
                poss, sure, exc = [
                    (b > up, a > up, b - up),
                    (a < lo and active, b < lo and active, lo - a),
                    (no_tier[f] and b > LIMIT, no_tier[f] and a > LIMIT, b - LIMIT),
                    (a < CLEARANCE and active, b < CLEARANCE and active, CLEARANCE - a),
                ][r]
                if poss:
                    run.append((i, sure, exc))
                if run and (not poss or i == fix[-1]):
                    out[r].append(
                        (
                            r,
                            run[0][0],
                            run[-1][0],
                            any(s for _, s, _ in run),
                            max(e for *_, e in run),
                        )
                    )
                    run = []
    return [x for r in range(4) for x in out[r]]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(
                st.sampled_from([0.0, 1.0, 1.0, 2.0, 3.0]),  # time steps (repeats too)
                st.sampled_from([-5.0, 10.0, 30.0, 50.0, 120.0, 150.0, math.nan]),
                st.sampled_from([0.0, 20.0, 40.0]),  # width of the height interval
            ),
            max_size=12,
        ),
        min_size=1,
        max_size=5,
    ),
    st.lists(st.sampled_from([(50.0, 150.0), (30.0, 120.0), (math.nan, math.nan)]), min_size=5),
)
def test_height_runs_equal_the_plain_reference(flights, bands) -> None:
    sizes = [len(f) for f in flights]
    start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    rows = [x for f in flights for x in f]
    steps = np.array([r[0] for r in rows])
    t = np.concatenate(
        [np.cumsum(steps[start[f] : start[f + 1]]) for f in range(len(flights))] + [[]]
    )
    h_lo = np.array([r[1] for r in rows])
    h_hi = h_lo + np.array([r[2] for r in rows])
    lower = np.array([b[0] for b in bands[: len(flights)]])
    upper = np.array([b[1] for b in bands[: len(flights)]])
    no_tier = np.isnan(lower)
    runs, excess = height_runs(
        start, t.astype(np.float64), h_lo, h_hi, lower, upper, no_tier, LIMIT, CLEARANCE, TERMINAL
    )
    got = [
        (int(r), int(a), int(b), bool(c), float(e))
        for (r, a, b, c), e in zip(runs.tolist(), excess.tolist())
    ]
    got.sort(key=lambda x: x[0])  # stable: each rule's runs keep their order
    assert got == _reference(start, t, h_lo, h_hi, lower, upper, no_tier)


def test_height_runs_find_each_rule() -> None:
    start = np.array([0, 8, 14], np.int64)
    t = np.concatenate([np.arange(8.0) * 10, np.arange(6.0) * 10])
    h_lo = np.array([0, 40, 160, 170, 40, 10, 45, 0, 0, 130, 140, 50, 130, 0], float)
    runs, excess = height_runs(
        start, t, h_lo, h_lo + 5, np.array([50.0, np.nan]), np.array([150.0, np.nan]),
        np.array([False, True]), LIMIT, CLEARANCE, TERMINAL,
    )  # fmt: skip
    got = sorted(zip(runs[:, 0].tolist(), runs[:, 1].tolist(), runs[:, 2].tolist(), excess))
    assert got == [
        (0, 2, 3, 25.0),  # above 150 m
        (1, 1, 1, 10.0),  # below 50 m between the terminal phases
        (1, 4, 6, 40.0),
        (2, 9, 10, 25.0),  # no tier, above 120 m
        (2, 12, 12, 15.0),
        (3, 5, 5, 20.0),  # under the clearance, not terminal
    ]


def test_fix_heights_equal_the_interval_rule() -> None:
    from airgrid.audit.kernels import fix_heights

    rng = np.random.default_rng(4)
    n, k = 5000, 40
    g_lo = rng.uniform(0, 500, k)
    g_hi = g_lo + rng.uniform(0, 30, k)
    g_lo[3], g_hi[3] = np.nan, np.nan  # a void pixel
    slot = rng.integers(-1, k, n)
    alt, agl = rng.uniform(-100, 900, n), rng.random(n) < 0.5
    out = [np.empty(n) for _ in range(4)]
    no_ground = np.empty(n, bool)
    fix_heights(alt, agl, slot, g_lo, g_hi, *out, no_ground)
    lo, hi = np.append(g_lo, np.nan)[slot], np.append(g_hi, np.nan)[slot]
    want = [
        np.where(agl, lo + alt, alt),
        np.where(agl, hi + alt, alt),
        np.where(agl, alt, alt - hi),
        np.where(agl, alt, alt - lo),
    ]
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(out, want))
    assert np.array_equal(no_ground, agl & ~np.isfinite(hi)) and no_ground.sum() > 100


def test_true_heights_equal_fix_heights_of_amsl_fixes() -> None:
    from airgrid.audit.kernels import fix_heights, true_heights

    rng = np.random.default_rng(6)
    n, k = 3000, 30
    g_lo = rng.uniform(0, 500, k)
    g_hi = g_lo + rng.uniform(0, 30, k)
    g_lo[2] = np.nan
    slot, alt = rng.integers(-1, k, n), rng.uniform(-100, 900, n)
    want = [np.empty(n) for _ in range(4)]
    fix_heights(alt, np.zeros(n, bool), slot, g_lo, g_hi, *want, np.empty(n, bool))
    got = np.empty(n), np.empty(n)
    true_heights(alt, slot, g_lo, g_hi, *got)
    assert np.array_equal(got[0], want[2], equal_nan=True)
    assert np.array_equal(got[1], want[3], equal_nan=True)
