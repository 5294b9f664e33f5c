"""Request and response models of the HTTP API, one module per resource, each model with an example.

Naming follows the ``XCreate`` (request body) / ``XPublic`` (answer) habit. GeoJSON in
and out follows RFC 7946: positions are ``[lon, lat]`` or ``[lon, lat, alt_m]`` with
the altitude in metres above mean sea level; polygon rings are closed, and rings the
API writes follow the right-hand rule (exterior counter-clockwise). Rings read in
either orientation are accepted and reoriented.
"""
