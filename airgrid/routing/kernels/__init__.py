"""Numba kernels of the router: arrays and scalars in, arrays and scalars out.

Nothing here knows H3, shapely or the Grid class; :mod:`airgrid.routing.graph` and
:mod:`airgrid.routing.search` convert at the edge.

Search state (per thread) is one full-size array reused across queries: per node, the
cost so far, a tag holding the generation in which it was last written (and whether
it is closed) and its parent, and the node's own coordinates and zone, in one 32-byte
row, so a new query only bumps the generation instead of clearing ``O(n)`` memory and
touching a node costs one cache line.
"""
