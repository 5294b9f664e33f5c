"""The real Hunan inputs shipped with airgrid (provenance in ``SOURCES.md`` beside them).

The files are package data: they are installed with the package (a wheel, an editable
install or a plain checkout on ``PYTHONPATH``) and found through
:mod:`importlib.resources`, never relative to the working directory. Nothing here reads
the environment; a different folder of inputs is chosen with ``AIRGRID_DATA_DIR``
through :class:`airgrid.settings.Settings`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _package_dir() -> Path:
    root = resources.files(__name__)
    if not isinstance(root, Path):
        raise FileNotFoundError(
            f"airgrid's data files are not on the file system ({root!r}); install airgrid "
            "from a wheel or a source tree, not from a zip archive"
        )
    return root


#: Folder of the shipped inputs.
DATA_DIR: Path = _package_dir()
#: The 30-arc-second Hunan DEM, the default terrain.
DEFAULT_DEM: Path = DATA_DIR / "hunan_dem_30arcsec.tif"
#: The EGM96 15' geoid clip over Hunan (lon 95..125 E, lat 15..50 N).
DEFAULT_GEOID_GRID: Path = DATA_DIR / "egm96_15_hunan.tif"
#: The editable tier table.
DEFAULT_TIER_FILE: Path = DATA_DIR / "tiers.toml"


__all__ = ["DATA_DIR", "DEFAULT_DEM", "DEFAULT_GEOID_GRID", "DEFAULT_TIER_FILE"]
