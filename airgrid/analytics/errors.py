"""Analytics error family: every analytics failure is an :class:`AnalyticsError`."""

from __future__ import annotations


class AnalyticsError(Exception):
    """Root of every analytics error."""


class AnalyticsInputError(AnalyticsError, ValueError):
    """A window, bin length, tier or capacity table is invalid."""


class AnalyticsLimitError(AnalyticsError, ValueError):
    """A request would compute more bins or cells than allowed."""


__all__ = ["AnalyticsError", "AnalyticsInputError", "AnalyticsLimitError"]
