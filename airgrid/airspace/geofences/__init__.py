"""Geofences: the model, its conservative voxel cover, the spatial index, airport
protection zones and the exchange formats (GeoJSON, ED-269, ED-318).

Depends on ``airspace.grid``, ``terrain`` and ``geo``.
"""
