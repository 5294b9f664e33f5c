"""The geo error family."""


class GeoError(Exception):
    """Root of every error raised by :mod:`airgrid.geo`."""
