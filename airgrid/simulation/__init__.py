"""A day of traffic: demand from real Hunan data, a flight mix, departures over a daily
curve, each flight routed, turned into an intent and submitted, and a report.

Modules, one per idea: :mod:`.errors`, :mod:`.demand` (where flights start and end),
:mod:`.mix` (what kinds of flights and how long), :mod:`.departures` (when they leave),
:mod:`.flights` (one planned flight: its route, waypoint times and intent),
:mod:`.runner` (in-process: route, submit, resolve conflicts), :mod:`.http_runner`
(the same through the public HTTP API with client threads) and :mod:`.report` (the
figures, with a brute-force check of the accepted intents).
"""
