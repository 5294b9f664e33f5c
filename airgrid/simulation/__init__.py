"""A day of traffic: demand from real Hunan data, a flight mix, departures over a daily
curve, each flight routed, turned into an intent and submitted, and a report.

Modules, one per idea: :mod:`.errors`, :mod:`.demand` (where flights start and end, and
the usable voxel nearest a point), :mod:`.mix` (what kinds of flights, how long, in which
tiers), :mod:`.corridors` (flights between a corridor network's nodes, corridor by
corridor), :mod:`.departures` (when they leave), :mod:`.schedule` (the day's flights),
:mod:`.planning` (one flight's route, timing, intent and the voxels to avoid on a
re-route), :mod:`.runner` (in-process: submit and resolve conflicts), :mod:`.http_runner`
(the same through the public HTTP API with client threads), :mod:`.report` (the figures,
with a brute-force check of the accepted intents) and :mod:`.day` (a day end to end).
"""
