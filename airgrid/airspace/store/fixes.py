"""Fixes for refused intents and terrain notices: the earliest free departure delay and the
nearest free altitude offset (each searched with the exact test among the holding intents
of one snapshot of the store and checked against its geofences and grid claims), and the
volumes whose floor or ceiling may leave the tier's band over the ground.

A submission may let the store take a fix itself (``take_fix`` of
:meth:`~airgrid.airspace.store.service.Store.submit`): the searches then run inside the
deciding transaction, on the snapshot it decided on, and the request moved by the first
fix found is decided again there, with every check an acceptance has, before it is
written (:meth:`_FixesPart._taken_fix`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from airgrid.airspace.errors import IntentError
from airgrid.airspace.geofences.ground import bins_ground
from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.store.answers import Decision, HighVolume, LowVolume
from airgrid.airspace.store.deciding import _DecidingPart, _Prepared
from airgrid.airspace.store.geofencing import _FENCE_REV_SQL
from airgrid.airspace.store.index_sync import _REV_SQL, _sync_index
from airgrid.airspace.traffic.conflicts import find_conflicts
from airgrid.airspace.traffic.fixes import free_altitude_offset, free_departure_shift
from airgrid.airspace.traffic.holders import HolderVolumes, volume_limits
from airgrid.airspace.traffic.models import FixProposal, IntentRequest

#: The fixes a store searches, and the values ``take_fix`` may name.
FIX_KINDS = ("departure_shift", "altitude_offset")


def fix_kinds(take_fix: Sequence[str]) -> tuple[str, ...]:
    """``take_fix`` checked: kinds of :data:`FIX_KINDS`, each at most once.

    Raises
    ------
    IntentError
        An unknown or repeated kind.
    """
    kinds = tuple(take_fix)
    unknown = [k for k in kinds if k not in FIX_KINDS]
    if unknown:
        raise IntentError(f"take_fix: unknown fix kind {unknown[0]!r}; kinds are {list(FIX_KINDS)}")
    if len(set(kinds)) != len(kinds):
        raise IntentError(f"take_fix names a kind twice: {list(kinds)}")
    return kinds


@dataclass(frozen=True)
class _Reach:
    """How far the fix searches for one request may move it.

    Attributes
    ----------
    floor_dz, top_dz
        The lowest and highest altitude offset (m) that keep every volume in its tier's
        band over the ground (infinite without a DEM).
    max_offset_m
        The store's limit on offsets either way (m).
    max_shift_s
        The longest departure delay searched (s).
    terrain
        What an offset keeps to, for the proposal's description.
    """

    floor_dz: float
    top_dz: float
    max_offset_m: float
    max_shift_s: float
    terrain: str

    @property
    def low_dz(self) -> float:
        """The lowest offset searched (m)."""
        return max(self.floor_dz, -self.max_offset_m)

    @property
    def high_dz(self) -> float:
        """The highest offset searched (m)."""
        return min(self.top_dz, self.max_offset_m)


class _FixesPart(_DecidingPart):
    """Fix proposals, fixes taken in the deciding transaction, and the low/high volume notices."""

    def _answered(
        self,
        decision: Decision,
        *,
        propose: bool,
        max_shift_s: float | None = None,
        searched: Sequence[str] = (),
        bounds: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Decision:
        """The decision with its fix proposals (when refused and ``propose``; departure
        shifts up to ``max_shift_s`` as well as the settings' limit; the kinds in
        ``searched`` were searched in the deciding transaction already, on the snapshot it
        decided on, and found nothing free) and its
        :attr:`~airgrid.airspace.store.answers.Decision.low_volumes` and
        :attr:`~airgrid.airspace.store.answers.Decision.high_volumes` notices, from one look
        at the ground under the request (``bounds``, its :meth:`_band_limits`, when the
        caller has them)."""
        if bounds is None:
            bounds = self._band_limits(decision.request)
        kinds = [k for k in FIX_KINDS if k not in searched]
        if not decision.accepted and propose and kinds:
            reach = self._reach(decision.request, bounds, self._shift_limit(max_shift_s))
            holders, fences = self._fix_holders(decision.request, reach)

            def free(moved: IntentRequest) -> bool:
                return self._free(moved, fences)

            found = [self._search(k, decision.request, holders, reach, free) for k in kinds]
            proposals = tuple(p for p in found if p is not None)
            decision = replace(decision, proposals=proposals)
        return self._with_low_volumes(decision, bounds)

    def _shift_limit(self, max_shift_s: float | None) -> float:
        """The longest delay a search may propose: the settings' limit, and the caller's."""
        most = self.proposal_settings.max_shift_s
        return most if max_shift_s is None else min(most, max_shift_s)

    def _reach(
        self, req: IntentRequest, bounds: tuple[np.ndarray, np.ndarray] | None, max_shift_s: float
    ) -> _Reach:
        """How far the searches may move ``req``; ``bounds`` are its :meth:`_band_limits`."""
        ps = self.proposal_settings
        tier = self.policy.tiers[self.policy.tiers.index(req.tier)]
        if bounds is None:
            terrain = "no DEM was given to the store, so terrain clearance and the tier's band are not checked"
            return _Reach(-math.inf, math.inf, ps.max_offset_m, max_shift_s, terrain)
        floors, ceilings = bounds
        lim = volume_limits(req.volumes)[1]
        need = max(tier.lower_m, self.policy.tiers.clearance_m)
        terrain = (
            f"every floor stays at least {need:.0f} m above the highest plausible ground under it and "
            f"every ceiling at most {tier.upper_m:.0f} m above the lowest (DEM uncertainty included)"
        )
        return _Reach(
            float(np.max(floors - lim[:, 4])),
            float(np.min(ceilings - lim[:, 5])),
            ps.max_offset_m,
            max_shift_s,
            terrain,
        )

    def _search(
        self,
        kind: str,
        req: IntentRequest,
        holders: HolderVolumes,
        reach: _Reach,
        free: Callable[[IntentRequest], bool],
    ) -> FixProposal | None:
        """The fix of ``kind`` for ``req``: the first value the exact test over ``holders``
        finds free that ``free`` confirms for the request so moved, or None.

        A departure shift is the earliest free delay up to ``reach.max_shift_s``; an
        altitude offset, the nearest free one (up first on ties) that keeps every volume
        in its tier's band over the ground."""
        table = self.policy.separation
        if kind == "departure_shift":
            d = self._first_free_now(
                lambda tried: free_departure_shift(
                    req,
                    holders,
                    table,
                    step_s=self.proposal_settings.shift_step_s,
                    max_shift_s=reach.max_shift_s,
                    exclude=tried,
                ),
                lambda x: free(req.shifted(x)),
            )
            if d is None:
                return None
            desc = f"depart {d:.0f} s later: free of every intent and geofence now"
            return FixProposal("departure_shift", d, 0.0, desc)
        tier = self.policy.tiers[self.policy.tiers.index(req.tier)]
        dz = self._first_free_now(
            lambda tried: free_altitude_offset(
                req,
                holders,
                table,
                step_m=tier.thickness_m,
                max_offset_m=reach.max_offset_m,
                min_offset_m=reach.floor_dz,
                top_offset_m=reach.top_dz,
                exclude=tried,
            ),
            lambda x: free(req.raised(x)),
        )
        if dz is None:
            return None
        way = "higher" if dz > 0 else "lower"
        return FixProposal(
            "altitude_offset", 0.0, dz, f"fly {abs(dz):.0f} m {way}: free now; {reach.terrain}"
        )

    def _taken_fix(
        self,
        prep: _Prepared,
        fence_rev: int,
        *,
        kinds: Sequence[str],
        max_shift_s: float | None,
        bounds: tuple[np.ndarray, np.ndarray] | None,
    ) -> tuple[_Prepared, FixProposal] | None:
        """The first fix of ``kinds`` (in that order) that makes the refused ``prep``
        acceptable, with the request so moved, prepared; None when none does.

        Runs in the deciding transaction, which holds the intents lock and has brought
        the in-process copy to the revision it decides on (``fence_rev`` is that
        transaction's geofence revision). Each value a search finds free is decided again
        before it is taken, as a submission is: the exact test against the holding
        intents the moved volumes may meet, the grid claims, the prohibited geofences; a
        value refused there is skipped. The moved request keeps the id and everything
        but its volumes."""
        req = prep.request
        reach = self._reach(req, bounds, self._shift_limit(max_shift_s))
        minima = self._minima(req.tier)
        with self._index.lock:
            holders = self._index.candidates(self._reach_limits(req, reach), minima)
        clean: list[_Prepared] = []  # the last request confirmed free, prepared

        def free(moved: IntentRequest) -> bool:
            mprep = self._prepare(moved)
            with self._index.lock:
                near = self._index.candidates(mprep.index_limits, minima)
            sep = self.policy.separation
            if (
                find_conflicts(moved.volumes, moved.tier, moved.priority, near, sep)
                or self._grid_conflicts(mprep)
                or self._geofence_conflicts(moved.volumes, fence_rev)
            ):
                return False
            clean.append(mprep)
            return True

        for kind in kinds:
            fix = self._search(kind, req, holders, reach, free)
            if fix is not None:  # found by the value ``free`` confirmed last
                return clean[-1], fix
        return None

    def _band_limits(self, req: IntentRequest) -> tuple[np.ndarray, np.ndarray] | None:
        """Per volume, the lowest floor and the highest ceiling (m AMSL) that keep it in
        its tier's band over the ground under the footprint's bounding box: the floor at
        least the tier's lower limit (or the table's clearance, if larger) above the
        highest plausible ground, the ceiling at most the tier's upper limit above the
        lowest (see :func:`~airgrid.airspace.geofences.ground.bins_ground`; Earth's
        extremes off the DEM). None without a DEM."""
        if self._dem is None:
            return None
        tier = self.policy.tiers[self.policy.tiers.index(req.tier)]
        limits = volume_limits(req.volumes)[1]
        bottom, top = bins_ground(self._dem, *limits[:, :4].T)
        return top + max(tier.lower_m, self.policy.tiers.clearance_m), bottom + tier.upper_m

    def _with_low_volumes(
        self, decision: Decision, bounds: tuple[np.ndarray, np.ndarray] | None
    ) -> Decision:
        """The decision with its :attr:`~airgrid.airspace.store.answers.Decision.low_volumes` and
        :attr:`~airgrid.airspace.store.answers.Decision.high_volumes` notices; ``bounds``
        are its request's :meth:`_band_limits`."""
        req = decision.request
        if bounds is None:
            return decision
        floors, ceilings = bounds
        low = tuple(
            LowVolume(i, v.floor_m, float(m))
            for i, (v, m) in enumerate(zip(req.volumes, floors.tolist()))
            if v.floor_m < m
        )
        high = tuple(
            HighVolume(i, v.ceiling_m, float(m))
            for i, (v, m) in enumerate(zip(req.volumes, ceilings.tolist()))
            if v.ceiling_m > m
        )
        return replace(decision, low_volumes=low, high_volumes=high) if low or high else decision

    def _first_free_now(
        self,
        candidate: Callable[[list[float]], float | None],
        free: Callable[[float], bool],
        tries: int = 20,
    ) -> float | None:
        """The first value ``candidate`` proposes (given the values already refused) that
        ``free`` confirms, within ``tries`` proposals."""
        tried: list[float] = []
        for _ in range(tries):
            x = candidate(tried)
            if x is None:
                return None
            if free(x):
                return x
            tried.append(x)
        return None

    def _reach_limits(self, req: IntentRequest, reach: _Reach) -> np.ndarray:
        """The query box of the holding volumes a fix search within ``reach`` may meet:
        each volume's, its band stretched down by ``-reach.low_dz`` and up by
        ``reach.high_dz`` (neither below zero: the delay search needs the band itself) and
        its window by ``reach.max_shift_s``. The index grows it by the separation minima;
        a volume beyond it meets no request either search may propose, so it forbids
        none of them."""
        limits = volume_limits(req.volumes)[1]
        limits[:, 4] += min(reach.low_dz, 0.0)
        limits[:, 5] += max(reach.high_dz, 0.0)
        limits[:, 7] += reach.max_shift_s
        return limits

    def _fix_holders(
        self, req: IntentRequest, reach: _Reach
    ) -> tuple[HolderVolumes, GeofenceIndex | None]:
        """Holding volumes that a fix of ``req`` within ``reach`` could meet
        (:meth:`_reach_limits`), and the index of the prohibited geofences, both as of one
        store revision (from the in-process copies, in a transaction that holds the
        intents lock)."""
        minima = self._minima(req.tier)
        limits = self._reach_limits(req, reach)

        def body() -> tuple[HolderVolumes, GeofenceIndex | None]:
            rev, fence_rev = self._db.execute(f"SELECT ({_REV_SQL}), ({_FENCE_REV_SQL})").fetchone()
            fences = self._fence_index(int(fence_rev))
            with self._index.lock:
                _sync_index(self._db, self._index, int(rev))
                return self._index.candidates(limits, minima), fences

        return self._db.run(body, intents=True)

    def _free(self, req: IntentRequest, fences: GeofenceIndex | None) -> bool:
        """Whether ``req``, a value proposed by a search over :meth:`_fix_holders`, meets
        no prohibited geofence of ``fences`` (the index of the same snapshot) and no grid
        voxel-slot another intent has claimed (read now)."""
        if fences is not None and fences.check_volumes(req.volumes):
            return False
        prep = self._prepare(req.with_id(), decide=False)
        if prep.claims is None or not len(prep.claims):
            return True
        return not self._db.run(lambda: self._grid_conflicts(prep), intents=True)
