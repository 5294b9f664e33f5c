"""InterUSS automated-testing interfaces: ``/flight_planning/v1`` and ``/geospatial_map/v1``.

The models follow the YAML of interuss/automated_testing_interfaces (vendored in
``tests/data/interuss``); the routes check RS256 JWT scopes (:mod:`.security`), plan flights
as airgrid intents (:mod:`.planning`) and load ED-269 sources into the geofences
(:mod:`.sources`).
"""
