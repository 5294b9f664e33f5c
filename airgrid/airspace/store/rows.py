"""Conversion between database rows and domain objects: volume rows to write, holders and
stored intents read back (footprints travel as WKB).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from airgrid.airspace.store.backends import _Postgres, _Sqlite
from airgrid.airspace.traffic.holders import Holder
from airgrid.airspace.traffic.models import FlightIntent, IntentState
from airgrid.geo.volumes import Volume4D

#: SQL list of the states that hold airspace.
_HOLDING_SQL = "('accepted', 'activated', 'nonconforming', 'contingent')"


def _volume_rows(seq: int, volumes: Sequence[Volume4D]) -> list[tuple]:
    """Rows ``intent_seq, idx, footprint (WKB), floor_m, ceiling_m, t_start, t_end, west,
    south, east, north`` of the ``volumes`` of intent ``seq``."""
    fps = np.array([v.footprint for v in volumes], dtype=object)
    return [
        (seq, i, wkb, v.floor_m, v.ceiling_m, v.t_start, v.t_end, *box)
        for i, (v, wkb, box) in enumerate(
            zip(volumes, shapely.to_wkb(fps).tolist(), shapely.bounds(fps).tolist())
        )
    ]


def _group_holders(rows: list) -> list[Holder]:
    """Holders from rows ``seq, id, operator, priority, tier, state, footprint, floor_m,
    ceiling_m, t_start, t_end`` ordered by seq and volume."""
    holders: list[Holder] = []
    if not rows:
        return holders
    geoms = shapely.from_wkb([bytes(r[6]) for r in rows])
    vols: list[Volume4D] = []
    for n, r in enumerate(rows):
        vols.append(Volume4D(geoms[n], r[7], r[8], r[9], r[10]))
        if n + 1 == len(rows) or rows[n + 1][0] != r[0]:
            holders.append(Holder(r[1], r[2], int(r[3]), r[4], IntentState(r[5]), tuple(vols)))
            vols = []
    return holders


def _read_intents(
    db: _Sqlite | _Postgres, where: str, params: tuple, limit: int = 1_000_000
) -> list[FlightIntent]:
    """Stored intents with their volumes, oldest first: the first ``limit`` rows of
    ``intents i`` that match the SQL clause ``where`` (with ``params``)."""
    rows = db.execute(
        "SELECT i.seq, i.id, i.operator, i.priority, i.tier, i.state, i.preempted_by, i.reason, "
        "i.created_at, i.updated_at, v.footprint, v.floor_m, v.ceiling_m, v.t_start, v.t_end "
        f"FROM (SELECT * FROM intents i {where} ORDER BY i.seq LIMIT {int(limit)}) i "
        "JOIN volumes v ON v.intent_seq = i.seq ORDER BY i.seq, v.idx",
        params,
    ).fetchall()
    out: list[FlightIntent] = []
    vols: list[Volume4D] = []
    geoms = shapely.from_wkb([bytes(r[10]) for r in rows]) if rows else []
    for n, r in enumerate(rows):
        vols.append(Volume4D(geoms[n], r[11], r[12], r[13], r[14]))
        if n + 1 == len(rows) or rows[n + 1][0] != r[0]:
            out.append(
                FlightIntent(
                    r[1],
                    r[2],
                    int(r[3]),
                    r[4],
                    tuple(vols),
                    IntentState(r[5]),
                    r[6],
                    r[7],
                    float(r[8]),
                    float(r[9]),
                )
            )
            vols = []
    return out
