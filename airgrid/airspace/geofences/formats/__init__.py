"""Geofence exchange formats: GeoJSON (RFC 7946), EUROCAE ED-269 JSON and EUROCAE ED-318 GeoJSON.

One module per format (:mod:`.geojson`, :mod:`.ed269`, :mod:`.ed318`), each with a
writer ``to_x(fences)`` and a reader ``from_x(doc)``. Every direction is exact:
``from_x(to_x(fences)) == fences`` for every valid geofence list (times are written
as ISO 8601 UTC with microseconds when needed). :mod:`.registry` names the formats
and tells them apart by content; :mod:`.files` reads and writes documents;
:mod:`.fields` holds the field and unit helpers the formats share.

Malformed documents raise :class:`~airgrid.airspace.errors.GeofenceFormatError`
(a :class:`~airgrid.airspace.errors.GeofenceError`) naming the zone and field;
invalid geofences raise their specific :class:`~airgrid.airspace.errors.GeofenceError`
subclass. A document is read whole before anything is returned: a fault anywhere
imports nothing.
"""
