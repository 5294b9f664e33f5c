"""Logistics nodes: hubs, depots and drop points that corridor networks connect.

A node is a named ground position with a kind and a demand weight. Nodes come from

* :func:`default_nodes`: the real Hunan node set built from ``airgrid/data/``:

  - **hubs**: the 14 prefecture-level seats (GeoNames rows, matched by geonameid;
    GeoNames calls Yiyang's seat district *Heshan*, the node is named ``Yiyang``)
    and the open civil airports of :func:`~airgrid.airspace.geofences.airports.load_airports`
    (air bases are left out: they serve no civil logistics);
  - **depots**: other GeoNames places of at least :data:`DEPOT_MIN_POPULATION`;
  - **drop points**: the remaining places with a population above zero (GeoNames
    rows with population 0 carry no demand and are left out).

  The weight is the GeoNames population (the demand weight); airports have weight 0
  (no demand figure: they are transfer points).
* :func:`load_nodes`: a user file, GeoJSON (Point features with properties ``name``,
  ``kind``, ``weight`` and optional ``id``) or CSV (header ``name,lat,lon,kind,weight``
  and optional ``id``).

Every invalid input raises :class:`~airgrid.routing.errors.NodeFileError`.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import shapely

from airgrid.airspace.geofences.airports import load_airports
from airgrid.airspace.grid import Area
from airgrid.data import DATA_DIR
from airgrid.routing.errors import NodeFileError

#: GeoNames ids of the 14 prefecture-level seats of Hunan, with the node name used.
PREFECTURE_SEATS: dict[int, str] = {
    1815577: "Changsha",
    1783763: "Zhuzhou",
    1790492: "Xiangtan",
    1808370: "Hengyang",
    1816920: "Shaoyang",
    1927639: "Yueyang",
    1791121: "Changde",
    1813171: "Zhangjiajie",
    1808316: "Yiyang",
    1815059: "Chenzhou",
    1786217: "Yongzhou",
    1807689: "Huaihua",
    1802238: "Loudi",
    1805270: "Jishou",
}
#: Places (not seats) with at least this population are depots, the rest drop points.
DEPOT_MIN_POPULATION = 100_000
PLACES_FILE = "hunan_places_geonames.csv"


class NodeKind(str, Enum):
    """Role of a logistics node."""

    HUB = "hub"  #: a prefecture seat or airport: corridor network junction
    DEPOT = "depot"  #: a town warehouse feeding drop points
    DROP = "drop"  #: a delivery point


@dataclass(frozen=True)
class Node:
    """A logistics node.

    Attributes
    ----------
    id
        Unique identifier (``geonames:<id>``, ``airport:<ICAO>``, or the file's own).
    name
        Human-readable name.
    lat, lon
        WGS84 degrees.
    kind
        :class:`NodeKind`.
    weight
        Demand weight (population for the default set), finite and >= 0.
    """

    id: str
    name: str
    lat: float
    lon: float
    kind: NodeKind
    weight: float

    def to_geojson(self) -> dict:
        """RFC 7946 Point Feature with the node's fields as properties."""
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [self.lon, self.lat]},
            "properties": {
                "id": self.id,
                "name": self.name,
                "kind": self.kind.value,
                "weight": self.weight,
            },
        }


def make_node(
    id: str,
    name: str,
    lat: object,
    lon: object,
    kind: object,
    weight: object = 0.0,
    where: str = "node",
) -> Node:
    """A validated :class:`Node` from loosely typed values.

    Parameters
    ----------
    id, name
        Identifier and name (non-empty after stripping).
    lat, lon
        Degrees, finite, in range.
    kind
        ``hub``, ``depot`` or ``drop`` (a :class:`NodeKind` or its value, any case).
    weight
        Finite number >= 0 (empty or None: 0).
    where
        Where the values came from, for error messages.

    Raises
    ------
    NodeFileError
        Any value is missing or invalid.
    """
    name = str(name or "").strip()
    nid = str(id or "").strip() or name
    if not name:
        raise NodeFileError(f"{where}: a node needs a non-empty name")
    try:
        la, lo = float(lat), float(lon)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise NodeFileError(
            f"{where} ({name}): lat/lon must be numbers, got {lat!r}, {lon!r}"
        ) from None
    if not (math.isfinite(la) and math.isfinite(lo) and -90 <= la <= 90 and -180 <= lo <= 180):
        raise NodeFileError(f"{where} ({name}): lat {la} / lon {lo} out of range")
    try:
        k = NodeKind(str(kind.value if isinstance(kind, NodeKind) else kind).strip().lower())
    except ValueError:
        raise NodeFileError(
            f"{where} ({name}): kind must be one of {[x.value for x in NodeKind]}, got {kind!r}"
        ) from None
    if weight is None or (isinstance(weight, str) and not weight.strip()):
        weight = 0.0
    try:
        w = float(weight)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise NodeFileError(f"{where} ({name}): weight must be a number, got {weight!r}") from None
    if not (math.isfinite(w) and w >= 0):
        raise NodeFileError(f"{where} ({name}): weight must be finite and >= 0, got {w}")
    return Node(nid, name, la, lo, k, w)


def check_nodes(nodes: Iterable[Node]) -> list[Node]:
    """The nodes as a list, after checking that ids are unique and the list is not empty.

    Raises
    ------
    NodeFileError
        No nodes, or a repeated id.
    """
    out = list(nodes)
    if not out:
        raise NodeFileError("no logistics nodes")
    seen: set[str] = set()
    for n in out:
        if n.id in seen:
            raise NodeFileError(f"node id {n.id!r} is used twice")
        seen.add(n.id)
    return out


def default_nodes(
    data_dir: Path = DATA_DIR,
    *,
    kinds: Sequence[NodeKind | str] | None = None,
    area: Area | None = None,
) -> list[Node]:
    """The default Hunan node set from ``airgrid/data/`` (see the module docstring).

    Parameters
    ----------
    data_dir
        Folder holding ``hunan_places_geonames.csv`` and the airport CSVs.
    kinds
        Keep only these kinds (default: all).
    area
        Keep only nodes inside (or on the boundary of) this area.

    Returns
    -------
    list of Node
        Seats first (in :data:`PREFECTURE_SEATS` order), then airports, then the other
        places by decreasing population.

    Raises
    ------
    NodeFileError
        A data file is missing or a seat is not in the places file.
    """
    path = Path(data_dir) / PLACES_FILE
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise NodeFileError(f"cannot read places file {path}: {exc}") from exc
    by_id = {int(r["geonameid"]): r for r in rows}
    missing = [n for g, n in PREFECTURE_SEATS.items() if g not in by_id]
    if missing:
        raise NodeFileError(f"prefecture seats missing from {path}: {missing}")
    out = _seat_nodes(by_id) + _airport_nodes(Path(data_dir)) + _place_nodes(by_id)
    if kinds is not None:
        want = {NodeKind(k) for k in kinds}
        out = [n for n in out if n.kind in want]
    if area is not None:
        out = nodes_in_area(out, area)
    return check_nodes(out)


def _seat_nodes(by_id: dict[int, dict[str, str]]) -> list[Node]:
    """The prefecture seats as hubs, in :data:`PREFECTURE_SEATS` order."""
    return [
        make_node(
            f"geonames:{g}",
            name,
            by_id[g]["latitude"],
            by_id[g]["longitude"],
            NodeKind.HUB,
            by_id[g]["population"],
            where=PLACES_FILE,
        )
        for g, name in PREFECTURE_SEATS.items()
    ]


def _airport_nodes(data_dir: Path) -> list[Node]:
    """The civil airports as hubs (air bases left out)."""
    return [
        make_node(f"airport:{a.code}", a.name, a.lat, a.lon, NodeKind.HUB, 0.0, where=a.source)
        for a in load_airports(data_dir)
        if "air base" not in a.name.lower()
    ]


def _place_nodes(by_id: dict[int, dict[str, str]]) -> list[Node]:
    """The other populated places, by decreasing population: depots from
    :data:`DEPOT_MIN_POPULATION` up, drop points below.
    """
    others = sorted(
        (
            r
            for g, r in by_id.items()
            if g not in PREFECTURE_SEATS and int(r["population"] or 0) > 0
        ),
        key=lambda r: (-int(r["population"]), int(r["geonameid"])),
    )
    out = []
    for r in others:
        pop = int(r["population"])
        kind = NodeKind.DEPOT if pop >= DEPOT_MIN_POPULATION else NodeKind.DROP
        out.append(
            make_node(
                f"geonames:{r['geonameid']}",
                r["name"],
                r["latitude"],
                r["longitude"],
                kind,
                pop,
                where=PLACES_FILE,
            )
        )
    return out


def nodes_in_area(nodes: Iterable[Node], area: Area) -> list[Node]:
    """The nodes inside (or on the boundary of) an area."""
    nodes = list(nodes)
    pts = shapely.points([(n.lon, n.lat) for n in nodes]) if nodes else []
    keep = shapely.covers(area.geometry, pts) if nodes else []
    return [n for n, k in zip(nodes, keep) if k]


def _nodes_from_geojson(text: str, where: str) -> list[Node]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NodeFileError(f"{where}: not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("type") not in ("FeatureCollection", "Feature"):
        raise NodeFileError(f"{where}: expected a GeoJSON FeatureCollection or Feature")
    feats = doc.get("features") if doc["type"] == "FeatureCollection" else [doc]
    if not isinstance(feats, list):
        raise NodeFileError(f"{where}: 'features' must be a list")
    out = []
    for i, f in enumerate(feats):
        at = f"{where} feature {i}"
        geom = f.get("geometry") if isinstance(f, dict) else None
        if not isinstance(geom, dict) or geom.get("type") != "Point":
            raise NodeFileError(f"{at}: nodes must be Point features")
        coords = geom.get("coordinates")
        if not isinstance(coords, list) or len(coords) not in (2, 3):
            raise NodeFileError(f"{at}: a Point needs [lon, lat] coordinates")
        props = f.get("properties") or {}
        if not isinstance(props, dict):
            raise NodeFileError(f"{at}: properties must be an object")
        out.append(
            make_node(
                props.get("id", ""),
                props.get("name", ""),
                coords[1],
                coords[0],
                props.get("kind", NodeKind.DROP.value),
                props.get("weight"),
                where=at,
            )
        )
    return out


def _nodes_from_csv(text: str, where: str) -> list[Node]:
    reader = csv.DictReader(io.StringIO(text))
    fields = [c.strip().lower() for c in (reader.fieldnames or [])]
    need = ["name", "lat", "lon", "kind", "weight"]
    lacking = [c for c in need if c not in fields]
    if lacking:
        raise NodeFileError(f"{where}: CSV header must have {','.join(need)} (missing {lacking})")
    out = []
    for line, row in enumerate(reader, start=2):
        r = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        if None in row:
            raise NodeFileError(f"{where} line {line}: more values than header columns")
        out.append(
            make_node(
                r.get("id") or "",
                r["name"],
                r["lat"],
                r["lon"],
                r["kind"],
                r["weight"],
                where=f"{where} line {line}",
            )
        )
    return out


def load_nodes(path: str | Path) -> list[Node]:
    """Read user logistics nodes from a GeoJSON or CSV file.

    Parameters
    ----------
    path
        ``.geojson`` / ``.json``: Point features with properties ``name``, ``kind``
        (default ``drop``), ``weight`` (default 0), optional ``id`` (default: the name).
        ``.csv``: header ``name,lat,lon,kind,weight`` (optional ``id`` column).

    Returns
    -------
    list of Node

    Raises
    ------
    NodeFileError
        Unreadable file, unknown extension, malformed content, invalid values, an
        empty node list or a repeated id.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise NodeFileError(f"cannot read node file {p}: {exc}") from exc
    suffix = p.suffix.lower()
    if suffix in (".geojson", ".json"):
        nodes = _nodes_from_geojson(text, p.name)
    elif suffix == ".csv":
        nodes = _nodes_from_csv(text, p.name)
    else:
        raise NodeFileError(f"node file {p.name}: use a .geojson, .json or .csv file")
    return check_nodes(nodes)


def nodes_to_geojson(nodes: Iterable[Node]) -> dict:
    """RFC 7946 FeatureCollection of nodes (reads back with :func:`load_nodes`)."""
    return {"type": "FeatureCollection", "features": [n.to_geojson() for n in nodes]}


__all__ = [
    "DEPOT_MIN_POPULATION",
    "PREFECTURE_SEATS",
    "Node",
    "NodeKind",
    "check_nodes",
    "default_nodes",
    "load_nodes",
    "make_node",
    "nodes_in_area",
    "nodes_to_geojson",
]
