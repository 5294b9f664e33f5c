"""Fixtures of the traffic-day tests."""

from __future__ import annotations

import pytest

from airgrid.routing import RouteGraph, build_graph


@pytest.fixture(scope="module")
def graph(small_grid) -> RouteGraph:
    """The routing graph of the shared small test grid (built once per module)."""
    return build_graph(small_grid)
