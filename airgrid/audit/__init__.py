"""Audits of what actually flew: flight logs against geofences, tiers and accepted intents.

Modules: ``tracks`` (the columnar form of every log, altitudes normalised to AMSL
intervals), ``tables`` (CSV and Parquet tracks), ``formats`` (GeoJSON, PX4 ULog, ASTM
F3411 Remote ID), ``readers`` (one entry point per file), ``runs`` (consecutive offending
fixes into violations), ``fence_rule`` (geofences entered while active), ``rules`` (true
height, light-UAV limit, terrain clearance, conformance, missing intents), ``audit`` (the
whole audit), ``cluster`` (the rules over whole-flight chunks on a Dask cluster) and
``report`` (Parquet, GeoJSON, Markdown and HTML results).

Depends on ``geo``, ``terrain`` and ``airspace`` (tiers, the geofence index, intent records);
the CLI reads intents and geofences from the store and hands them in.
"""
