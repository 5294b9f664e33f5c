"""Corridor networks: logistics nodes, tier corridors between them, the network that
joins them and its report.

Depends on the rest of ``routing``, ``airspace.grid``, ``airspace.geofences`` and ``geo``.
"""
