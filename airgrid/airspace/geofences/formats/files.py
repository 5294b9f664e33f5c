"""Reading and writing geofence documents: JSON text, files and FeatureCollections.

Readers accept a parsed document, JSON text or a file path; writers produce a dict
that :func:`dump` writes as UTF-8 JSON without ever leaving a half-written file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from airgrid.airspace.errors import GeofenceFormatError


def load_document(doc: dict | str | Path) -> Any:
    """A parsed document from a dict (returned as is), JSON text or a file path.

    A string that does not start with ``{`` is a path.

    Raises
    ------
    GeofenceFormatError
        The file is missing or unreadable, or the text is not JSON.
    """
    if isinstance(doc, Path) or (isinstance(doc, str) and not doc.lstrip().startswith("{")):
        try:
            return json.loads(Path(doc).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise GeofenceFormatError(f"geofence file not found: {doc}") from None
        except (OSError, ValueError) as exc:
            raise GeofenceFormatError(f"cannot read {doc} as JSON: {exc}") from None
    if isinstance(doc, str):
        try:
            return json.loads(doc)
        except ValueError as exc:
            raise GeofenceFormatError(f"not valid JSON: {exc}") from None
    return doc


def feature_list(doc: dict | str | Path, what: str) -> list:
    """The ``features`` of a FeatureCollection given as a dict, JSON text or file path.

    Raises
    ------
    GeofenceFormatError
        Unreadable JSON, or not a FeatureCollection with a ``features`` list (``what``
        names the expected kind in the message).
    """
    doc = load_document(doc)
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        raise GeofenceFormatError(f"expected {what} FeatureCollection with a 'features' list")
    return doc["features"]


def dump(doc: dict, path: str | Path) -> Path:
    """Write a document as UTF-8 JSON (written to a temporary name, then renamed)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False), encoding="utf-8")
    tmp.replace(path)
    return path


__all__ = ["dump", "feature_list", "load_document"]
