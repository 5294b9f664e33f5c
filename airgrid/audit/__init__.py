"""Audits of what actually flew: flight logs against geofences, tiers and accepted intents.

Modules: ``tracks`` (the columnar form of every log, altitudes normalised to AMSL
intervals), ``tables`` (CSV and Parquet tracks), ``formats`` (GeoJSON, PX4 ULog, ASTM
F3411 Remote ID), ``readers`` (one entry point per file), ``runs`` (consecutive offending
fixes into violations), ``fence_rule`` (geofences entered while active), ``rules`` (true
height, light-UAV limit, terrain clearance, conformance, missing intents), ``audit`` (the
whole audit) and ``report`` (Parquet, GeoJSON and Markdown results).

Depends on ``geo``, ``terrain`` and ``airspace`` (the store only to read intents).
"""
