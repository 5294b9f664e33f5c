"""Corridor traffic: flights between the nodes of a corridor network, corridor by corridor.

A corridor network is read from the GeoJSON that ``airgrid corridors --out`` writes
(:func:`~airgrid.routing.corridors.report.network_geojson`): its ``node`` Point features
(``id``, ``name``, ``weight``) and, per corridor, its ``centreline`` feature (``a_id``,
``b_id``, ``tier``). The store and the served ``var`` folder hold no corridor network
(a grid saved with ``--save-grid`` carries corridor voxel marks, not which nodes a
corridor joins), so the file is the one source.

A corridor flight flies one corridor, from one of its end nodes to the other, in the
corridor's tier (:func:`corridor_class`). Its ends are where the corridor meets its
nodes: the first and last points of the centreline, the centres of the nodes' access
cells (a node without a usable voxel of the tier nearby, such as an airport inside its
prohibited zone, is reached at the nearest usable cell, ``access_offset_m`` away on the
node feature), each spread over :data:`CORRIDOR_SPREAD_M` by the schedule. Its route is
searched in the tier like any flight's: it follows the corridor where the corridor is
the tier's cheapest way between them (the network was designed so), and is not held
inside the corridor's voxels.

Which corridor, in which direction (:meth:`CorridorDemand.draw`): the origin node by its
weight (population for the default nodes), then one of its corridors evenly, flown away
from it. Each node thus sends traffic in proportion to its weight, shared alike by its
corridors; a gravity model (the product of the two weights) would leave the corridors of
small towns next to no traffic at Hunan's population spread. A node of weight 0
(airports, nodes of user files without a weight) counts with the mean weight of the
network's weighted nodes, as :func:`~airgrid.simulation.demand.grid_demand` weighs
airports; a network without any weight weighs its nodes alike. Only corridors with both
ends in the grid's area are flown (:meth:`CorridorDemand.in_area`).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import shapely

from airgrid.airspace.grid import Grid
from airgrid.simulation.demand import great_circle_m
from airgrid.simulation.errors import CorridorFileError, NoDemandError, TrafficError
from airgrid.simulation.mix import FlightClass

#: Name of the corridor flight class in reports.
CORRIDOR_CLASS = "corridor"
#: Share of the day's flights drawn as corridor traffic when a network is given.
DEFAULT_CORRIDOR_SHARE = 0.2
#: Radius (m) over which corridor flights spread their ends around a corridor's end.
CORRIDOR_SPREAD_M = 1_000.0
#: Cruise speed (m/s) and intent priority of corridor flights: logistics drones, as the
#: last-mile class of :data:`~airgrid.simulation.mix.DEFAULT_MIX`.
CORRIDOR_CRUISE_MPS, CORRIDOR_PRIORITY = 15.0, 20


@dataclass(frozen=True)
class CorridorDemand:
    """The corridors of a network as flight legs: each corridor twice, once from each end.

    Attributes
    ----------
    source
        Where the network came from (the file), for messages.
    tier
        The tier every corridor lies in.
    o_name, d_name
        Per leg, the names of its origin and destination nodes (object arrays of str).
    o_lat, o_lon, d_lat, d_lon
        Per leg, the ends of the corridor's centreline at its origin and at its
        destination node (WGS84 degrees, float64).
    weight
        Per leg, its drawing weight (> 0): its origin's weight over the origin's
        corridor count (see the module docstring).
    """

    source: str
    tier: str
    o_name: np.ndarray
    d_name: np.ndarray
    o_lat: np.ndarray
    o_lon: np.ndarray
    d_lat: np.ndarray
    d_lon: np.ndarray
    weight: np.ndarray

    def __len__(self) -> int:
        return len(self.weight)

    def length_m(self) -> np.ndarray:
        """Per leg, the great-circle distance between its ends (m)."""
        return great_circle_m(self.o_lat, self.o_lon, self.d_lat, self.d_lon)

    def in_area(self, grid: Grid) -> CorridorDemand:
        """The legs (corridors) whose two ends lie in ``grid``'s area.

        Raises
        ------
        NoDemandError
            No corridor has both ends there.
        """
        keep = np.ones(len(self), bool)
        area = grid.meta.get("area_wkt")
        if area:
            geom = shapely.from_wkt(area)
            keep = shapely.covers(geom, shapely.points(self.o_lon, self.o_lat)) & shapely.covers(
                geom, shapely.points(self.d_lon, self.d_lat)
            )
        if not keep.any():
            raise NoDemandError(
                f"no corridor of {self.source} has both ends in the grid's area "
                f"({grid.meta.get('area')}); design the network over that area"
            )
        return replace(
            self,
            **{
                f.name: getattr(self, f.name)[keep]
                for f in fields(self)
                if f.name not in ("source", "tier")
            },
        )

    def draw(self, rng: np.random.Generator) -> tuple[tuple[float, float], tuple[float, float]]:
        """Origin and destination (lat, lon) of one corridor flight: a leg by weight."""
        k = int(rng.choice(len(self), p=self.weight / self.weight.sum()))
        return (float(self.o_lat[k]), float(self.o_lon[k])), (
            float(self.d_lat[k]),
            float(self.d_lon[k]),
        )


def corridor_class(corridors: CorridorDemand, share: float) -> FlightClass:
    """The flight class of the network's corridor traffic: ``share`` of the day, in the
    corridors' tier, over the range of their end-to-end distances.

    Raises
    ------
    TrafficError
        ``share`` not in (0, 1].
    """
    if not (math.isfinite(share) and 0 < share <= 1):
        raise TrafficError(f"the corridor share must be in (0, 1], got {share}")
    d = corridors.length_m()
    return FlightClass(
        CORRIDOR_CLASS,
        share,
        max(float(d.min()), 1.0),
        max(float(d.max()), 1.0),
        (corridors.tier,),
        corridors.tier,
        cruise_mps=CORRIDOR_CRUISE_MPS,
        priority=CORRIDOR_PRIORITY,
        corridor=True,
    )


def with_corridors(mix: tuple[FlightClass, ...], cls: FlightClass) -> tuple[FlightClass, ...]:
    """``mix`` with the corridor class ``cls`` added at its share, the other classes
    scaled to fill the rest of the day (``1 - cls.share``; none at a share of 1)."""
    total = sum(c.share for c in mix)
    rest = 1.0 - cls.share
    scaled = [
        FlightClass(**{**c.__dict__, "share": c.share / total * rest}) for c in mix if rest > 0
    ]
    return (*scaled, cls)


def _read(path: Path) -> list:
    """The features of the FeatureCollection at ``path``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CorridorFileError(f"cannot read corridor file {path}: {reason}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorridorFileError(
            f"corridor file {path}: not valid JSON ({exc.msg}, line {exc.lineno})"
        ) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise CorridorFileError(
            f"corridor file {path}: expected a GeoJSON FeatureCollection "
            "(as 'airgrid corridors --out' writes)"
        )
    feats = doc.get("features")
    if not isinstance(feats, list):
        raise CorridorFileError(f"corridor file {path}: 'features' must be a list")
    return feats


def _node(f: dict, where: str) -> tuple[str, str, float, float, float]:
    """(id, name, lat, lon, weight) of a ``node`` feature."""
    p, geom = f["properties"], f.get("geometry")
    coords = geom.get("coordinates") if isinstance(geom, dict) else None
    if (
        not isinstance(geom, dict)
        or geom.get("type") != "Point"
        or not isinstance(coords, list)
        or len(coords) not in (2, 3)
    ):
        raise CorridorFileError(f"{where}: a node must be a Point with [lon, lat]")
    nid = p.get("id")
    if not isinstance(nid, str) or not nid:
        raise CorridorFileError(f"{where}: a node needs a non-empty string 'id'")
    try:
        lon, lat, w = float(coords[0]), float(coords[1]), float(p.get("weight") or 0.0)
    except (TypeError, ValueError):
        raise CorridorFileError(
            f"{where} (node {nid}): lon, lat and weight must be numbers"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and math.isfinite(w) and w >= 0):
        raise CorridorFileError(
            f"{where} (node {nid}): lat/lon out of range or weight not finite and >= 0"
        )
    return nid, str(p.get("name") or nid), lat, lon, w


def _line_ends(f: dict, where: str) -> tuple[float, float, float, float]:
    """(lat, lon) of the first and of the last point of a ``centreline`` LineString."""
    geom = f.get("geometry")
    coords = geom.get("coordinates") if isinstance(geom, dict) else None
    if not isinstance(geom, dict) or geom.get("type") != "LineString" or not coords:
        raise CorridorFileError(f"{where}: a centreline must be a LineString")
    try:
        (lon0, lat0), (lon1, lat1) = (
            (float(coords[0][0]), float(coords[0][1])),
            (float(coords[-1][0]), float(coords[-1][1])),
        )
    except (TypeError, ValueError, IndexError):
        raise CorridorFileError(f"{where}: centreline points must be [lon, lat, alt]") from None
    if not all(-90 <= la <= 90 for la in (lat0, lat1)) or not all(
        -180 <= lo <= 180 for lo in (lon0, lon1)
    ):
        raise CorridorFileError(f"{where}: centreline end out of range")
    return lat0, lon0, lat1, lon1


def load_corridor_demand(path: str | Path) -> CorridorDemand:
    """The corridors of the network in the GeoJSON file at ``path`` (see the module
    docstring).

    Raises
    ------
    CorridorFileError
        The file is unreadable, not JSON, not a FeatureCollection, or has a malformed
        node or centreline feature, a corridor whose end is not one of its nodes, no
        corridor, or corridors in several tiers.
    """
    p = Path(path)
    nodes: dict[str, tuple[str, str, float, float, float]] = {}
    links: list[tuple[str, str, str, str, tuple[float, float, float, float]]] = []
    for i, f in enumerate(_read(p)):
        where = f"corridor file {p} feature {i}"
        props = f.get("properties") if isinstance(f, dict) else None
        if not isinstance(props, dict):
            raise CorridorFileError(f"{where}: a Feature with a properties object is expected")
        if props.get("feature") == "node":
            n = _node(f, where)
            if n[0] in nodes:
                raise CorridorFileError(f"{where}: node id {n[0]!r} is used twice")
            nodes[n[0]] = n
        elif props.get("feature") == "centreline":
            a, b, tier = props.get("a_id"), props.get("b_id"), props.get("tier")
            if not all(isinstance(x, str) and x for x in (a, b, tier)):
                raise CorridorFileError(f"{where}: a centreline needs string a_id, b_id and tier")
            links.append((where, str(a), str(b), str(tier), _line_ends(f, where)))
    if not links:
        raise CorridorFileError(
            f"corridor file {p}: no corridor in it (no 'centreline' feature; "
            "make one with 'airgrid corridors --out')"
        )
    for where, a, b, *_ in links:
        for end in (a, b):
            if end not in nodes:
                raise CorridorFileError(f"{where}: corridor end {end!r} is not a node of the file")
        if a == b:
            raise CorridorFileError(f"{where}: a corridor joins node {a!r} to itself")
    tiers = sorted({t for _, _, _, t, _ in links})
    if len(tiers) > 1:
        raise CorridorFileError(f"corridor file {p}: corridors in several tiers {tiers}")
    positive = [n[4] for n in nodes.values() if n[4] > 0]
    fill = float(np.mean(positive)) if positive else 1.0
    degree = Counter(end for _, a, b, _, _ in links for end in (a, b))
    at = np.array([e for *_, e in links], np.float64).reshape(-1, 4)
    o = [a for _, a, _, _, _ in links] + [b for _, _, b, _, _ in links]
    d = [b for _, _, b, _, _ in links] + [a for _, a, _, _, _ in links]
    w = np.array([(nodes[x][4] or fill) / degree[x] for x in o], np.float64)
    return CorridorDemand(
        str(p),
        tiers[0],
        np.array([nodes[x][1] for x in o], object),
        np.array([nodes[x][1] for x in d], object),
        np.concatenate([at[:, 0], at[:, 2]]),
        np.concatenate([at[:, 1], at[:, 3]]),
        np.concatenate([at[:, 2], at[:, 0]]),
        np.concatenate([at[:, 3], at[:, 1]]),
        w / w.max(),
    )


__all__ = [
    "CORRIDOR_CLASS",
    "CORRIDOR_CRUISE_MPS",
    "CORRIDOR_PRIORITY",
    "CORRIDOR_SPREAD_M",
    "DEFAULT_CORRIDOR_SHARE",
    "CorridorDemand",
    "corridor_class",
    "load_corridor_demand",
    "with_corridors",
]
