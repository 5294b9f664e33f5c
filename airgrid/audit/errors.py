"""The audit's errors: one root, bad logs as ``ValueError``."""

from __future__ import annotations


class AuditError(Exception):
    """Root of the audit's errors."""


class LogError(AuditError, ValueError):
    """A flight log cannot be read at all (unknown format, missing columns, no usable rows).

    Row-level faults are not raised: they are collected as
    :class:`~airgrid.audit.tracks.Rejected` rows and counted.
    """


class RejectedRowsError(LogError):
    """Rows were rejected while the audit was asked to be strict."""


__all__ = ["AuditError", "LogError", "RejectedRowsError"]
