"""Standard grid codes of points and voxels: China's Beidou grid location code
(GB/T 39409-2020, :mod:`.beidou`) and Japan's 4D spatial ID (ZFXY, :mod:`.zfxy`), both
ways, and the airgrid voxels overlapping a code's box (:mod:`.overlap`).

Heights in both codes are metres above the WGS84 ellipsoid.
"""
