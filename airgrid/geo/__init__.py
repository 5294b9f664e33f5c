"""Geodesy and 4D volumes shared by every layer: Earth constants, the local metric plane,
circles as polygons, :class:`~airgrid.geo.volumes.Volume4D` and the common input rules.

Depends on no other airgrid package.
"""
