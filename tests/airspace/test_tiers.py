"""Tier table validation and the vertical placement rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from airgrid.airspace.errors import TierTableError
from airgrid.airspace.grid import DEFAULT_TIERS, Tier, TierTable, tier_layers
from tests.conftest import DATA


def test_default_table_matches_data_file() -> None:
    table = TierTable.from_toml(DATA / "tiers.toml")
    assert table == TierTable()
    assert [t.resolution for t in table] == [10, 9, 8, 7]
    assert (table[0].lower_m, table[0].upper_m) == (0, 120)
    assert table.clearance_m == 30


@pytest.mark.parametrize(
    "tiers, msg",
    [
        ((Tier("A", 9, 0, 150, 20), Tier("B", 8, 120, 300, 20)), "overlap"),
        ((Tier("A", 9, 0, 120, 20), Tier("B", 9, 120, 300, 20)), "own H3 resolution"),
        ((Tier("A", 8, 0, 120, 20), Tier("B", 9, 120, 300, 20)), "finer resolutions"),
        ((Tier("A", 16, 0, 120, 20),), "outside 0-15"),
        ((Tier("A", 9, 100, 50, 20),), "must exceed"),
        ((Tier("A", 9, 0, 100, 0),), "positive"),
        ((Tier("A", 9, 0, 100, 200),), "exceeds the band"),
        ((Tier("A", 9, -10, 100, 20),), ">= 0"),
        ((Tier("A", 9, 0, 100, 20), Tier("A", 8, 100, 200, 20)), "repeat"),
        ((), "at least one"),
    ],
)
def test_bad_tables(tiers, msg) -> None:
    with pytest.raises(TierTableError, match=msg) as e:
        TierTable(tiers)
    assert isinstance(e.value, ValueError)


def test_bad_files(tmp_path) -> None:
    with pytest.raises(TierTableError, match="not found"):
        TierTable.from_toml(tmp_path / "none.toml")
    (tmp_path / "t.toml").write_text("[[tier]]\nname='T'\n")
    with pytest.raises(TierTableError, match="malformed"):
        TierTable.from_toml(tmp_path / "t.toml")
    with pytest.raises(TierTableError, match="no tier named"):
        TierTable().select(["T9"])


@given(
    st.floats(-400, 9000, allow_nan=False),
    st.floats(0, 3000, allow_nan=False),
    st.sampled_from(DEFAULT_TIERS),
)
def test_layers_lie_inside_the_band_on_both_sides(g_hi: float, span: float, tier: Tier) -> None:
    g_lo = g_hi - span
    first, count = tier_layers(tier, np.array([g_hi]), np.array([g_lo]))
    t = tier.thickness_m
    floor = first[0] * t
    top = (first[0] + count[0]) * t
    assert count[0] >= 0
    if count[0]:
        assert (
            floor >= g_hi + tier.lower_m - 1e-6
        )  # certain: at least lower_m over the highest ground
        assert top <= g_lo + tier.upper_m + 1e-6  # certain: at most upper_m over the lowest ground
        # maximal: one more layer either side would leave the band
        assert (first[0] - 1) * t < g_hi + tier.lower_m
        assert top + t > g_lo + tier.upper_m
    # absent exactly when no whole layer fits between the two limits
    room = (g_lo + tier.upper_m) - (g_hi + tier.lower_m)
    if room < 0:
        assert count[0] == 0
    if room >= 2 * t:
        assert count[0] >= 1
