"""The durable store: schema and migrations, the SQLite and PostgreSQL backends, and the
service that decides geofence changes and intent submissions.

Depends on the other airspace rooms, ``terrain`` and ``geo``.
"""
