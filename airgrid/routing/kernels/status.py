"""Outcome codes the search kernels return (int32 scalars, shared with their callers)."""

from __future__ import annotations

#: Search outcomes.
FOUND, NO_ROUTE, BUDGET, HEAP_FULL = 0, 1, 2, 3
