"""Density and capacity analytics for planners: traffic per H3 cell and time bin.

:mod:`~airgrid.analytics.apportion` spreads 4D volumes over the cells of a tier,
:mod:`~airgrid.analytics.density` counts traffic, occupancy, conflicts and refusals per
cell and bin, :mod:`~airgrid.analytics.capacity` gives each cell a capacity by area class,
:mod:`~airgrid.analytics.hotspots` flags cells over capacity and suggests one-way or
layered operation, :mod:`~airgrid.analytics.outputs` writes Parquet and GeoJSON, and
:mod:`~airgrid.analytics.source` runs it all on a store's traffic within limits.
"""
