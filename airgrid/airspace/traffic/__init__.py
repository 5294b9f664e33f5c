"""Traffic: flight intents, separation minima, the conflict test, fix searches, the key
lattice and the index of held volumes.

Modules: ``models`` (states, requests, stored intents, conflicts, fixes as records),
``limits`` (size and compute limits), ``planes`` (metric planes, outward round shapes),
``route_volumes`` (routes into 4D volumes), ``holders`` (held volumes as arrays),
``separation`` (minima per tier), ``conflicts`` (the exact 4D test), ``plane_distance``
and ``overlap`` (its Numba kernels: footprint distances in the local planes, closest
points, overlap centroids), ``fixes`` (departure shift and altitude offset searches),
``keys`` (the voxel x time-slot key lattice) and ``holding_index`` (the in-process index
of held volumes).

Depends on ``airspace.grid``, ``airspace.geofences`` and ``geo``.
"""
