"""Simulation error family: a bad traffic-day request is a :class:`TrafficError`."""

from __future__ import annotations


class TrafficError(ValueError):
    """Root of the simulation errors: an invalid traffic-day input (count, seed, grid)."""


class NoDemandError(TrafficError):
    """The grid holds no usable voxel near any demand point for the flights asked for."""


class CorridorFileError(TrafficError):
    """A corridor network file is unreadable or malformed (not the GeoJSON that
    ``airgrid corridors --out`` writes)."""
