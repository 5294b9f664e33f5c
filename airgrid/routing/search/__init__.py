"""Route search: route requests (:mod:`.plan`) over a graph's reusable search state
(:mod:`.router`) with a strategy (:mod:`.strategy`), their endpoints (:mod:`.points`) and
constraints (:mod:`.constraints`), and the smoothing of a voxel path into flyable
waypoints (:mod:`.smooth`, :mod:`.sightline`).

Public entry point: :func:`airgrid.routing.search.plan.plan_route`. A
:class:`~airgrid.routing.search.router.Router` holds the reusable search state of one
graph; ``plan_route`` keeps one per graph, or takes one leased from a
:class:`~airgrid.routing.search.router.RouterPool` so that several searches run at once.
Line of sight runs in Numba (:mod:`airgrid.routing.kernels.sightline`) over the cell
hulls :mod:`.sightline` keeps per graph.
"""
