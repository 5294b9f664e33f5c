"""Airspace: the voxel grid, geofences, traffic (flight intents and their conflicts) and
the durable store that decides and keeps them.

Each subpackage is one room; the arrows point one way::

    grid  <-  geofences  <-  traffic  <-  store

``errors`` holds the one error family the rooms share.
"""
