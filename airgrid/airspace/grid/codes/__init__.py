"""Standard grid codes of points and voxels: China's Beidou grid location code
(GB/T 39409-2020, :mod:`.beidou`) and Japan's 4D spatial ID (ZFXY, :mod:`.zfxy`), both
ways, and the airgrid voxels overlapping a code's box (:mod:`.overlap`).

Beidou heights are metres above the WGS84 ellipsoid, ZFXY heights metres above mean
sea level (each as its specification says; :func:`.overlap.box_heights` gives a box's
range in both).
"""
