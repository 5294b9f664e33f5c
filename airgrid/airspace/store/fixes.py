"""Fixes for refused intents and terrain notices: the earliest free departure delay and the
nearest free altitude offset (each searched with the exact test among the holding intents
of one snapshot of the store and checked against its geofences and grid claims), and the
volumes whose floor or ceiling may leave the tier's band over the ground.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from airgrid.airspace.geofences.ground import bins_ground
from airgrid.airspace.geofences.index import GeofenceIndex
from airgrid.airspace.store.answers import Decision, HighVolume, LowVolume
from airgrid.airspace.store.deciding import _DecidingPart
from airgrid.airspace.store.geofencing import _FENCE_REV_SQL
from airgrid.airspace.store.index_sync import _REV_SQL, _sync_index
from airgrid.airspace.traffic.fixes import free_altitude_offset, free_departure_shift
from airgrid.airspace.traffic.holders import HolderVolumes, volume_limits
from airgrid.airspace.traffic.models import FixProposal, IntentRequest


class _FixesPart(_DecidingPart):
    """Fix proposals and the low/high volume notices."""

    def _answered(
        self, decision: Decision, *, propose: bool, max_shift_s: float | None = None
    ) -> Decision:
        """The decision with its fix proposals (when refused and ``propose``; departure
        shifts up to ``max_shift_s`` as well as the settings' limit) and its
        :attr:`~airgrid.airspace.store.answers.Decision.low_volumes` and
        :attr:`~airgrid.airspace.store.answers.Decision.high_volumes` notices, from one look
        at the ground under the request."""
        bounds = self._band_limits(decision.request)
        if not decision.accepted and propose:
            most = self.proposal_settings.max_shift_s
            if max_shift_s is not None:
                most = min(most, max_shift_s)
            decision = replace(
                decision, proposals=tuple(self._proposals(decision.request, bounds, most))
            )
        return self._with_low_volumes(decision, bounds)

    def _proposals(
        self, req: IntentRequest, bounds: tuple[np.ndarray, np.ndarray] | None, max_shift_s: float
    ) -> list[FixProposal]:
        """Earliest free departure delay (at most ``max_shift_s``) and nearest free altitude
        offset; ``bounds`` are ``req``'s :meth:`_band_limits`.

        Both searches run the exact conflict test over the holding intents of one
        snapshot (:meth:`_fix_holders`), so a value they propose is free of every intent
        of that snapshot; :meth:`_free` then checks it against the snapshot's prohibited
        geofences and the grid claims, and a value refused there is skipped."""
        ps = self.proposal_settings
        table = self.policy.separation
        tier = self.policy.tiers[self.policy.tiers.index(req.tier)]
        if bounds is None:
            floor_dz, top_dz = -math.inf, math.inf
            terrain = "no DEM was given to the store, so terrain clearance and the tier's band are not checked"
        else:
            floors, ceilings = bounds
            lim = volume_limits(req.volumes)[1]
            floor_dz = float(np.max(floors - lim[:, 4]))
            top_dz = float(np.min(ceilings - lim[:, 5]))
            need = max(tier.lower_m, self.policy.tiers.clearance_m)
            terrain = (
                f"every floor stays at least {need:.0f} m above the highest plausible ground under it and "
                f"every ceiling at most {tier.upper_m:.0f} m above the lowest (DEM uncertainty included)"
            )
        holders, fences = self._fix_holders(
            req, max(floor_dz, -ps.max_offset_m), min(top_dz, ps.max_offset_m), max_shift_s
        )
        out = []
        d = self._first_free_now(
            lambda tried: free_departure_shift(
                req,
                holders,
                table,
                step_s=ps.shift_step_s,
                max_shift_s=max_shift_s,
                exclude=tried,
            ),
            lambda x: self._free(req.shifted(x), fences),
        )
        if d is not None:
            out.append(
                FixProposal(
                    "departure_shift",
                    d,
                    0.0,
                    f"depart {d:.0f} s later: free of every intent and geofence now",
                )
            )
        dz = self._first_free_now(
            lambda tried: free_altitude_offset(
                req,
                holders,
                table,
                step_m=tier.thickness_m,
                max_offset_m=ps.max_offset_m,
                min_offset_m=floor_dz,
                top_offset_m=top_dz,
                exclude=tried,
            ),
            lambda x: self._free(req.raised(x), fences),
        )
        if dz is not None:
            out.append(
                FixProposal(
                    "altitude_offset",
                    0.0,
                    dz,
                    f"fly {abs(dz):.0f} m {'higher' if dz > 0 else 'lower'}: free now; {terrain}",
                )
            )
        return out

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

    def _fix_holders(
        self, req: IntentRequest, low_dz: float, high_dz: float, max_shift_s: float
    ) -> tuple[HolderVolumes, GeofenceIndex | None]:
        """Holding volumes that a departure delay up to ``max_shift_s``, or an altitude
        offset of ``req`` between ``low_dz`` and ``high_dz`` metres, could meet, and the
        index of the prohibited geofences, both as of one store revision (from the
        in-process copies, in a transaction that holds the intents lock).

        The query box is each volume's, its band stretched down by ``-low_dz`` and up by
        ``high_dz`` (neither below zero: the delay search needs the band itself) and its
        window by ``max_shift_s``; the index grows it by the separation minima. A volume
        beyond it meets no request either search may propose, so it forbids none of them.
        """
        minima = self._minima(req.tier)
        limits = volume_limits(req.volumes)[1]
        limits[:, 4] += min(low_dz, 0.0)
        limits[:, 5] += max(high_dz, 0.0)
        limits[:, 7] += max_shift_s

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
