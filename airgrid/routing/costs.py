"""The routing cost model, in one place: edge costs and the lower bounds A* relies on.

Costs are in *equivalent metres*: flying one metre horizontally through open,
non-corridor airspace of a neutral tier, well above the terrain, costs 1. Every other
term is a multiplier or an addition on that scale, so costs stay comparable with
distances and the A* heuristic (a distance times a minimum rate) is easy to keep
admissible.

Edge kinds (see :mod:`airgrid.routing.graph`):

* **horizontal** (same tier, same absolute layer, H3 neighbour cells):
  ``d * tier_w * (f(u) + f(v)) / 2`` with ``d`` the great-circle distance between the
  cell centres and ``f`` the per-voxel factor below;
* **vertical** (same cell column, adjacent layers): ``dz * climb`` up, ``dz * descent`` down;
* **tier transition** (fine tier's top voxel <-> coarse parent cell's bottom voxel):
  ``d * max(tier_w) * (f(u) + f(v)) / 2 + dz * (climb | descent) + transition``.

The per-voxel factor is ``f(v) = (1 + terrain * max(0, 1 - h(v) / terrain_ref_m)) * c(v)``
with ``h(v)`` the voxel floor's height above the cell's highest plausible ground and
``c(v) = corridor`` for voxels marked :attr:`~airgrid.airspace.Status.CORRIDOR`, else 1.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import numpy as np
from numba import njit

from airgrid.geo.constants import EARTH_RADIUS_M
from airgrid.routing.errors import RouteConstraintError

#: Edge kinds stored beside the CSR.
HORIZONTAL, VERTICAL, TRANSITION = 0, 1, 2


@dataclass(frozen=True)
class CostWeights:
    """Weights of the cost model.

    Attributes
    ----------
    climb
        Cost per metre climbed. Default 2.0: a multirotor spends roughly twice the
        energy per metre climbing as per metre cruising, and vertical moves eat the
        separation budget of the layers above.
    descent
        Cost per metre descended. Default 1.2: cheaper than climbing, but not free,
        so routes do not bob up and down without reason.
    tier_preference
        Multiplier per tier name on horizontal and transition distance (missing names
        count 1.0). Default: empty (all tiers equal). Values below 1 attract traffic to
        a tier, above 1 push it away.
    terrain
        Terrain-proximity weight: a voxel right at the clearance floor costs
        ``1 + terrain`` per metre. Default 0.25: a detour of up to 25 % is worth
        staying away from the ground, where DEM errors and obstacles bite.
    terrain_ref_m
        Certain true height (floor above the highest plausible ground) from which the terrain term
        vanishes. Default 300 m, the top of the T2 band.
    corridor
        Multiplier for voxels marked as corridor (0 < corridor <= 1). Default 0.8:
        planned corridors are preferred by up to 20 % of detour.
    transition
        Fixed cost of a tier change, equivalent metres. Default 100: a change of tier
        is a procedure (clearance, speed change), not only a climb.
    """

    climb: float = 2.0
    descent: float = 1.2
    tier_preference: dict[str, float] = field(default_factory=dict)
    terrain: float = 0.25
    terrain_ref_m: float = 300.0
    corridor: float = 0.8
    transition: float = 100.0

    def __post_init__(self) -> None:
        for name in ("climb", "descent", "terrain", "transition"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise RouteConstraintError(
                    f"cost weight {name} must be a finite number >= 0, got {v!r}"
                )
        if not (math.isfinite(self.terrain_ref_m) and self.terrain_ref_m > 0):
            raise RouteConstraintError("terrain_ref_m must be > 0")
        if not (0 < self.corridor <= 1):
            raise RouteConstraintError(f"corridor must be in (0, 1], got {self.corridor!r}")
        for k, v in self.tier_preference.items():
            if not (math.isfinite(v) and v > 0):
                raise RouteConstraintError(f"tier_preference[{k!r}] must be > 0, got {v!r}")

    def tier_factors(self, tier_names: list[str]) -> np.ndarray:
        """Per tier index, the horizontal multiplier (float64)."""
        return np.array([float(self.tier_preference.get(n, 1.0)) for n in tier_names], np.float64)

    def to_dict(self) -> dict:
        """Plain-data form (for reports and caches)."""
        return asdict(self)


def voxel_factors(
    floor: np.ndarray, ground: np.ndarray, corridor: np.ndarray, weights: CostWeights
) -> np.ndarray:
    """Per-voxel factor ``f(v)`` (float32), at least ``weights.corridor``.

    Parameters
    ----------
    floor, ground
        Voxel floor and its cell's highest plausible ground (m AMSL).
    corridor
        Boolean mask of corridor voxels.
    weights
        The weights.
    """
    h = floor.astype(np.float32) - ground.astype(np.float32)
    near = np.clip(np.float32(1.0) - h / np.float32(weights.terrain_ref_m), 0.0, 1.0)
    f = np.float32(1.0) + np.float32(weights.terrain) * near
    return np.where(corridor, f * np.float32(weights.corridor), f).astype(np.float32)


def vertical_rate(weights: CostWeights) -> float:
    """Lower bound of the cost of one metre of altitude change, ``min(climb, descent)``.

    The horizontal bounds are not derived here from the weights but measured on the
    built edges (:func:`airgrid.routing.kernels.astar.planar_rates`), which keeps them
    admissible for any weights and as tight as the graph allows. A small relative
    margin covers float32 rounding of stored weights.
    """
    return min(weights.climb, weights.descent) * (1 - 1e-6)


@njit(cache=True, inline="always")
def great_circle_m(xyz: np.ndarray, a: int, b: int) -> float:
    """Great-circle distance (m) between rows ``a`` and ``b`` of a unit-vector array."""
    dx = xyz[a, 0] - xyz[b, 0]
    dy = xyz[a, 1] - xyz[b, 1]
    dz = xyz[a, 2] - xyz[b, 2]
    chord = math.sqrt(dx * dx + dy * dy + dz * dz)
    return 2.0 * EARTH_RADIUS_M * math.asin(min(chord * 0.5, 1.0))


class EdgeCosts(NamedTuple):
    """The cost weights as the graph build's kernels read them.

    Attributes
    ----------
    tier_w : float64[n_tiers]
        Distance multiplier per tier (:meth:`CostWeights.tier_factors`).
    climb, descent, transition : float
        As in :class:`CostWeights`.
    """

    tier_w: np.ndarray
    climb: float
    descent: float
    transition: float


@njit(cache=True, inline="always")
def edge_cost(
    kind: int, d: float, dz: float, tw: float, fu: float, fv: float, w: EdgeCosts
) -> float:
    """Cost of one edge (see the module docstring). ``dz`` is signed (up > 0)."""
    vert = dz * w.climb if dz > 0 else -dz * w.descent
    if kind == HORIZONTAL:
        return d * tw * 0.5 * (fu + fv)
    if kind == VERTICAL:
        return vert
    return d * tw * 0.5 * (fu + fv) + vert + w.transition
