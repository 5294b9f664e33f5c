"""Traffic: flight intents, separation minima, the conflict test, fix searches, the key
lattice and the index of held volumes.

Depends on ``airspace.grid``, ``airspace.geofences`` and ``geo``.
"""
