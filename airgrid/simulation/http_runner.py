"""The day flown against a running server through the public HTTP API, with client threads.

Each flight is ``POST /v1/routes`` between the centres of its end voxels (its class's
tiers), then ``POST /v1/intents`` with the route's waypoints timed as in-process
(:func:`~airgrid.simulation.planning.timed_waypoints`), letting the server take the fixes
of :data:`~airgrid.simulation.runner.TAKE_FIX` (``take_fix``). A 409 is resolved as
in-process (:mod:`~airgrid.simulation.runner`): a new route whose ``no_go`` areas are
hexagons around every conflict so far (all altitudes: the public route request has no
banded no-go areas), for at most :data:`~airgrid.simulation.runner.MAX_ATTEMPTS`
submissions.

Flights go to ``clients`` threads (at most :data:`MAX_CLIENTS`), each with its own
keep-alive connection and API key, taking flights in departure order from one queue.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import h3
import httpx
import numpy as np

from airgrid.airspace.grid import Grid
from airgrid.simulation.demand import great_circle_m
from airgrid.simulation.errors import TrafficError
from airgrid.simulation.planning import CLIMB_MPS, DESCENT_MPS, TUBE, timed_waypoints
from airgrid.simulation.runner import MAX_ATTEMPTS, MAX_DELAY_S, TAKE_FIX, FlightOutcome
from airgrid.simulation.schedule import Flight

#: Most client threads one run may start.
MAX_CLIENTS = 64
#: Seconds a request may take before the flight is abandoned with an error.
REQUEST_TIMEOUT_S = 120.0
#: Most no-go areas a re-route sends (the API's limit).
MAX_NO_GO = 50


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _end(grid: Grid, v: int) -> list[float]:
    """``[lon, lat, alt]`` of the centre of voxel ``v``."""
    lat, lon = h3.cell_to_latlng(h3.int_to_str(int(grid.cell[v])))
    return [lon, lat, float(grid.floor[v] + grid.ceiling[v]) / 2]


def hexagon(lat: float, lon: float, radius_m: float) -> dict:
    """A GeoJSON hexagon of circumradius ``radius_m`` around (lat, lon)."""
    k = np.arange(7) * (np.pi / 3)
    dlat = np.degrees(radius_m * np.cos(k) / 6_371_008.8)
    dlon = np.degrees(radius_m * np.sin(k) / (6_371_008.8 * np.cos(np.radians(lat))))
    return {"type": "Polygon", "coordinates": [[[lon + b, lat + a] for a, b in zip(dlat, dlon)]]}


class ApiClient:
    """One client's keep-alive connection and API key, and how it flies a flight.

    Parameters
    ----------
    base_url
        The server, ``http://host:port``.
    token
        An API key of the operator role or above.
    grid
        The grid the server serves (the flights' end voxels index it).
    """

    def __init__(self, base_url: str, token: str, grid: Grid) -> None:
        self.http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=REQUEST_TIMEOUT_S,
        )
        self.grid = grid
        self.tier_of_res = {t.resolution: t.name for t in grid.tiers}

    def route(self, f: Flight, no_go: list[dict]) -> httpx.Response:
        """``POST /v1/routes`` between the centres of the flight's end voxels."""
        return self.http.post(
            "/v1/routes",
            json={
                "origin": {"type": "Point", "coordinates": _end(self.grid, f.origin)},
                "destination": {"type": "Point", "coordinates": _end(self.grid, f.destination)},
                "tiers": list(f.cls.tiers),
                "cruise_mps": f.cls.cruise_mps,
                "climb_mps": CLIMB_MPS,
                "descent_mps": DESCENT_MPS,
                "no_go": no_go,
            },
        )

    def intent(
        self, f: Flight, feature: dict, intent_id: str, delay: float, offset: float, room_s: float
    ) -> httpx.Response:
        """``POST /v1/intents`` of a route Feature leaving ``delay`` seconds late, flown
        ``offset`` metres higher (negative: lower), letting the server take the fixes of
        :data:`~airgrid.simulation.runner.TAKE_FIX` with a further delay of at most
        ``room_s`` seconds (``max_shift_s``)."""
        c = np.array(feature["geometry"]["coordinates"], np.float64)
        wps = timed_waypoints(
            c[:, 1], c[:, 0], c[:, 2] + offset, f.departure + delay, f.cls.cruise_mps
        )
        res = max(h3.get_resolution(v.split(":")[0]) for v in feature["properties"]["voxels"])
        return self.http.post(
            "/v1/intents",
            json={
                "intent_id": intent_id,
                "tier": self.tier_of_res[res],
                "priority": f.cls.priority,
                "preempt": False,
                "max_shift_s": room_s,
                "take_fix": list(TAKE_FIX),
                "route": {
                    "waypoints": [
                        {"lat": a, "lon": b, "alt_m": z, "time": _iso(t)} for a, b, z, t in wps
                    ],
                    "half_width_m": TUBE.half_width_m,
                    "half_height_m": TUBE.half_height_m,
                    "max_piece_m": TUBE.max_piece_m,
                    "time_margin_s": TUBE.time_margin_s,
                },
            },
        )

    def fly(self, f: Flight, id_prefix: str, max_delay_s: float) -> FlightOutcome:
        """One flight through the API (see the module docstring).

        One piece: the attempts loop shares the route, delay and no-go state of the
        flight, as :func:`~airgrid.simulation.runner.fly` does in-process.
        """
        t0 = time.perf_counter()
        feature: dict | None = None

        def done(reason: str, n: int = 0, k: int = 0) -> FlightOutcome:
            length = crow = math.nan
            if feature is not None:
                c = feature["geometry"]["coordinates"]
                length = float(feature["properties"]["length_m"])
                crow = float(great_circle_m(c[0][1], c[0][0], c[-1][1], c[-1][0]))
            return FlightOutcome(
                f.index,
                f.cls.name,
                reason == "",
                reason,
                delay if reason == "" else 0.0,
                offset if reason == "" else 0.0,
                k,
                n,
                length,
                crow,
                time.perf_counter() - t0,
                f"{id_prefix}-{f.index}-{n - 1}" if reason == "" else None,
            )

        delay, offset = 0.0, 0.0
        if f.origin < 0 or f.destination < 0:
            return done("no endpoint")
        r = self.route(f, [])
        if r.status_code != 200:
            return done("no endpoint" if r.status_code == 404 else "no route")
        feature = r.json()
        reroutes, tries, no_go = 0, 0, []
        reason = "conflict"
        for attempt in range(MAX_ATTEMPTS):
            a = self.intent(
                f, feature, f"{id_prefix}-{f.index}-{attempt}", delay, offset, max_delay_s - delay
            )
            tries += 1
            if a.status_code == 201:
                fix = a.json().get("fix")
                if fix is not None:
                    delay, offset = delay + fix["shift_s"], offset + fix["offset_m"]
                return done("", tries, reroutes)
            if a.status_code != 409:
                return done("invalid intent", tries, reroutes)
            body = a.json()
            conflicts = body.get("conflicts", [])
            reason = "geofence" if body.get("geofence_conflicts") and not conflicts else "conflict"
            if attempt == MAX_ATTEMPTS - 1:
                break
            no_go += [
                hexagon(c["lat"], c["lon"], 2 * c["minima"]["lateral_m"] + TUBE.half_width_m)
                for c in conflicts
            ]
            r = self.route(f, no_go[-MAX_NO_GO:])
            if r.status_code != 200:
                break
            feature, reroutes = r.json(), reroutes + 1
        return done(reason, tries, reroutes)


def fly_day_http(
    flights: Sequence[Flight],
    grid: Grid,
    base_url: str,
    tokens: Sequence[str],
    *,
    clients: int,
    id_prefix: str,
    max_delay_s: float = MAX_DELAY_S,
) -> list[FlightOutcome]:
    """Every flight through the API at ``base_url`` with ``clients`` threads.

    Parameters
    ----------
    flights
        The day's flights, drawn on ``grid`` (the grid the server serves).
    tokens
        API keys (operator role or above), used round-robin by the threads.
    clients
        Client threads, 1 .. :data:`MAX_CLIENTS`.

    Returns
    -------
    list of FlightOutcome
        In the order of ``flights``.

    Raises
    ------
    TrafficError
        ``clients`` out of range or no token.
    """
    if not 1 <= clients <= MAX_CLIENTS:
        raise TrafficError(f"clients must be 1..{MAX_CLIENTS}, got {clients}")
    if not tokens:
        raise TrafficError("an API key is needed to fly through the HTTP API")
    local = threading.local()
    made: list[ApiClient] = []
    lock = threading.Lock()

    def one(f: Flight) -> FlightOutcome:
        c = getattr(local, "client", None)
        if c is None:
            with lock:
                c = ApiClient(base_url, tokens[len(made) % len(tokens)], grid)
                made.append(c)
            local.client = c
        return c.fly(f, id_prefix, max_delay_s)

    try:
        with ThreadPoolExecutor(max_workers=clients, thread_name_prefix="traffic") as pool:
            return list(pool.map(one, flights))
    finally:
        for c in made:
            c.http.close()


__all__ = ["MAX_CLIENTS", "ApiClient", "fly_day_http", "hexagon"]
