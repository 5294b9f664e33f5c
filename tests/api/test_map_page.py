"""The map page in a real browser: Debian's chromium driven by Playwright, against uvicorn.

One uvicorn (in a thread of this process, on 127.0.0.1) and one headless chromium serve
the whole module. Each test opens its own browser context with the API key of its role
in ``sessionStorage`` (as the page keeps a key once entered), and fails on any error the
page logs to its console. Screenshots go to ``<var dir>/screenshots/`` (see
:data:`SHOTS`). The browser is ``/usr/bin/chromium`` (``scripts/ensure-chromium.sh``
installs it); without it the module is skipped.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import h3
import httpx
import numpy as np
import pytest
import rasterio
import uvicorn
from rasterio.errors import NotGeoreferencedWarning

from airgrid.airspace.grid import Status
from airgrid.airspace.grid.voxels import Grid
from airgrid.api.http.app import create_app, load_services
from airgrid.api.http.auth import Role
from airgrid.settings import Settings
from tests.api.conftest import DEST, ORIGIN, square, volume
from tests.servers import free_port

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
#: Flags for a quiet headless chromium in a container. WebGL runs on SwiftShader (software).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Where the screenshots go: the settings' var dir.
SHOTS = Settings().var_dir / "screenshots"
VIEWPORT = {"width": 1200, "height": 800}
#: A prohibited geofence shown by the layer test, west of the routes.
FENCE_AT = (112.915, 28.215, 0.015)
#: An accepted intent whose density cells the planner sees, north-east of the routes.
DENSITY_AT = (113.035, 28.235, 0.005)
#: A prohibited geofence crossed by an audited log, north of the routes.
AUDIT_FENCE_AT = (112.99, 28.245, 0.005)
#: The corner of the square the regulator draws, south-east of the routes.
DRAWN_AT = (113.02, 28.12, 0.012)

#: A promise that the map has drawn everything it has: idle now, or at its next idle event.
SETTLED = """new Promise(r => {
  const m = window.airgrid.map;
  const drawn = () => requestAnimationFrame(() => requestAnimationFrame(r));
  if (m.loaded() && m.areTilesLoaded() && !m.isMoving()) drawn(); else m.once('idle', drawn);
})"""

#: Skipped on a machine without chromium, never in CI (`.ci/run` installs it).
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("CI"), reason="no /usr/bin/chromium"
)


def _mark_corridor(grid_dir: Path, out: Path) -> list[str]:
    """Copy the grid with the T2 voxels of the cells between ORIGIN and DEST marked as a corridor."""
    grid = Grid.load(grid_dir, mmap=False)
    t2 = grid.tiers.index("T2")
    res = grid.tiers[t2].resolution
    a = h3.latlng_to_cell(ORIGIN[1], ORIGIN[0], res)
    b = h3.latlng_to_cell(DEST[1], DEST[0], res)
    cells = np.array([h3.str_to_int(c) for c in h3.grid_path_cells(a, b)], np.int64)
    ci = grid.find_cells(cells, t2)
    ci = ci[ci >= 0]
    marked = []
    for c in ci:
        for v in range(int(grid.cell_start[c]), int(grid.cell_start[c] + grid.cell_nlayers[c])):
            grid.status[v] |= np.uint8(Status.CORRIDOR)
            marked.append(grid.voxel_id(v))
    grid.save(out)
    return marked


@pytest.fixture(scope="module")
def server(grid_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """uvicorn on a copy of the test grid with a corridor; yields base URL, tokens, corridor ids."""
    tmp = tmp_path_factory.mktemp("map-page")
    corridor = _mark_corridor(grid_dir, tmp / "grid")
    settings = Settings(
        grid_path=tmp / "grid",
        var_dir=tmp,
        db_url=f"sqlite:///{tmp / 'airgrid.sqlite'}",
        max_query_voxels=20_000,
    )
    services = load_services(settings)
    tokens = {r.value: services.keys.create(f"{r.value}-map", r)[0] for r in Role}
    tokens["operator2"] = services.keys.create("operator-map-2", Role.OPERATOR)[0]
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, services=services), host="127.0.0.1", port=port, log_level="warning"
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield {"base": f"http://127.0.0.1:{port}", "tokens": tokens, "corridor": corridor}
    finally:
        srv.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless chromium for the module."""
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class MapPage:
    """A page of the map in a fresh browser context, with the console's errors collected."""

    def __init__(self, browser: Any, base: str, token: str | None) -> None:
        self.base = base
        self.context = browser.new_context(viewport=VIEWPORT)
        if token:
            self.context.add_init_script(f"sessionStorage.setItem('airgrid.apiKey', '{token}')")
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, lon: float, lat: float, zoom: float = 12.5) -> MapPage:
        """Load the page at a view and wait until its layers are loaded and drawn."""
        self.page.goto(f"{self.base}/map#{zoom}/{lat}/{lon}")
        self.settle()
        return self

    def settle(self) -> None:
        """Wait for the page's API calls to end and the map to finish drawing."""
        self.page.wait_for_function(
            "window.airgrid && window.airgrid.loaded && window.airgrid.busy === 0", timeout=30_000
        )
        self.page.evaluate(SETTLED)

    def click_lonlat(self, lon: float, lat: float) -> None:
        """Click the map at a position."""
        xy = self.page.evaluate(
            "([lon, lat]) => { const m = window.airgrid.map; const p = m.project([lon, lat]);"
            " const r = m.getContainer().getBoundingClientRect();"
            " return [r.left + p.x, r.top + p.y]; }",
            [lon, lat],
        )
        self.page.mouse.click(*xy)

    def pixel_box(self, lon0: float, lat0: float, lon1: float, lat1: float) -> tuple[int, ...]:
        """The screen box (x0, y0, x1, y1) of a lon/lat box, in page pixels."""
        return tuple(
            round(v)
            for v in self.page.evaluate(
                "([a, b, c, d]) => { const m = window.airgrid.map;"
                " const r = m.getContainer().getBoundingClientRect();"
                " const p = m.project([a, d]); const q = m.project([c, b]);"
                " return [r.left + p.x, r.top + p.y, r.left + q.x, r.top + q.y]; }",
                [lon0, lat0, lon1, lat1],
            )
        )

    def rendered(self, layer: str) -> int:
        """Features of a layer drawn on screen now."""
        return self.page.evaluate(
            "(id) => window.airgrid.map.queryRenderedFeatures({layers: [id]}).length", layer
        )

    def notes(self) -> str:
        return self.page.inner_text("#notes")

    def shot(self, name: str) -> np.ndarray:
        """Save a screenshot under :data:`SHOTS` and return its pixels (RGB)."""
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / name
        self.page.screenshot(path=str(path))
        return _rgb(path)

    def close(self) -> None:
        self.context.close()


def _rgb(path: Path) -> np.ndarray:
    with warnings.catch_warnings():  # a screenshot has no georeference
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path) as src:
            return np.moveaxis(src.read([1, 2, 3]), 0, -1).astype(np.int16)


@pytest.fixture()
def open_page(browser, server) -> Iterator[Any]:
    """Factory of map pages by role; every page must end without console errors."""
    pages: list[MapPage] = []

    def make(role: str | None) -> MapPage:
        page = MapPage(browser, server["base"], server["tokens"][role] if role else None)
        pages.append(page)
        return page

    yield make
    for page in pages:
        errors = list(page.errors)
        page.close()
        assert errors == [], f"console errors: {errors}"


def _api(server: dict[str, Any], role: str) -> httpx.Client:
    return httpx.Client(
        base_url=server["base"],
        headers={"Authorization": f"Bearer {server['tokens'][role]}"},
        timeout=60,
    )


def test_page_loads_with_the_key_entered_once_and_no_console_errors(open_page, server):
    m = open_page(None)
    m.page.goto(f"{server['base']}/map#12/28.18/112.98")
    m.page.wait_for_function("window.airgrid && window.airgrid.loaded", timeout=30_000)
    m.page.fill("#key", server["tokens"]["planner"])
    with m.page.expect_navigation():
        m.page.click("#key-save")  # reloads with the key kept in sessionStorage
    m.settle()
    assert "(planner)" in m.page.inner_text("#whoami")
    assert (
        m.page.evaluate("sessionStorage.getItem('airgrid.apiKey')") == server["tokens"]["planner"]
    )
    assert m.page.input_value("#tier") == "T2"
    assert m.rendered("voxels") > 0
    assert m.rendered("corridors") > 0
    assert m.rendered("prefectures") > 0
    assert "density: not offered" not in m.notes()  # the planner reads the density analytics
    assert m.page.evaluate("window.airgrid.map.getSource('hillshade').loaded()")
    m.shot("map-loaded.png")


def test_the_page_and_its_vendored_renderer_are_served_without_a_key(server):
    base = server["base"]
    page = httpx.get(f"{base}/map")
    assert page.status_code == 200 and "maplibre-gl.js" in page.text
    lib = httpx.get(f"{base}/map/static/vendor/maplibre-gl/maplibre-gl.js")
    assert lib.status_code == 200 and len(lib.content) > 500_000
    assert "BSD" in httpx.get(f"{base}/map/static/vendor/maplibre-gl/LICENSE.txt").text
    assert httpx.get(f"{base}/v1/map/hillshade.png").status_code == 401  # the data needs a key


def test_geofences_are_drawn_where_they_are(open_page, server):
    lon, lat, d = FENCE_AT
    fence = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": square(lon, lat, d)},
        "properties": {"identifier": "MAP-SHOWN-1", "lower_m": 0, "upper_m": 600},
    }
    with _api(server, "regulator") as http:
        assert http.post("/v1/geofences", json=fence).status_code == 201
    m = open_page("regulator").open(lon + d / 2, lat + d / 2, 13)
    assert m.rendered("geofences") > 0
    x0, y0, x1, y1 = m.pixel_box(lon, lat, lon + d, lat + d)
    shown = m.shot("map-geofence.png")
    m.page.uncheck("#toggles input[data-group=geofences]")
    m.settle()
    hidden = m.shot("map-geofence-hidden.png")
    inside = (slice(y0 + 3, y1 - 3), slice(x0 + 3, x1 - 3))
    red = shown[inside][..., 0] - shown[inside][..., 1:].max(axis=-1)
    changed = np.abs(shown[inside] - hidden[inside]).sum(axis=-1) > 30
    assert changed.mean() > 0.9, "the geofence's pixels do not differ from the background"
    assert (red > 40).mean() > 0.9, "the prohibited geofence is not drawn red"
    outside = (slice(y1 + 40, y1 + 80), slice(x0, x1))  # south of it: unchanged
    assert (np.abs(shown[outside] - hidden[outside]).sum(axis=-1) > 30).mean() < 0.05


def test_a_click_shows_the_voxel_there(open_page, server):
    with _api(server, "operator") as http:
        there = http.get(
            "/v1/grid/voxel", params={"lon": ORIGIN[0], "lat": ORIGIN[1], "alt_m": ORIGIN[2]}
        ).json()["voxel"]
    m = open_page("operator").open(ORIGIN[0], ORIGIN[1], 13)
    m.page.fill("#layer", str(there["layer"]))  # a click asks for the middle of this layer
    m.click_lonlat(ORIGIN[0], ORIGIN[1])
    m.page.wait_for_function("window.airgrid.lastVoxel && window.airgrid.busy === 0")
    loc = m.page.evaluate("window.airgrid.lastVoxel")
    assert loc["voxel"]["id"] == there["id"] and loc["tier"] == "T2"
    assert loc["usable"] is True
    text = m.page.inner_text("#info")
    assert "floor – ceiling" in text and "ground g_lo – g_hi" in text
    assert f"{loc['voxel']['floor_m']:.1f}" in text and f"{loc['voxel']['g_hi_m']:.1f}" in text


def _draw_route(m: MapPage) -> dict[str, Any]:
    m.page.click("#tool-route")
    m.click_lonlat(ORIGIN[0], ORIGIN[1])
    m.page.wait_for_function("window.airgrid.routeEnds.length === 1 && window.airgrid.busy === 0")
    m.click_lonlat(DEST[0], DEST[1])
    m.page.wait_for_function("window.airgrid.route && window.airgrid.busy === 0", timeout=30_000)
    m.settle()
    return m.page.evaluate("window.airgrid.route")


def test_a_route_from_two_clicks_is_drawn_with_its_profile(open_page):
    m = open_page("operator").open((ORIGIN[0] + DEST[0]) / 2, (ORIGIN[1] + DEST[1]) / 2, 12.5)
    route = _draw_route(m)
    coords = route["geometry"]["coordinates"]
    assert len(coords) >= 2 and route["properties"]["status"] == "found"
    assert abs(coords[0][0] - ORIGIN[0]) < 0.01 and abs(coords[-1][1] - DEST[1]) < 0.01
    assert m.rendered("route") > 0
    profile = m.page.evaluate("window.airgrid.profile")
    assert len(profile["altitude"]) == len(coords) == len(profile["bandLow"])
    # the route flies inside the tier band's certain limits, over the ground
    for alt, ground, low, high in zip(
        profile["altitude"], profile["ground"], profile["bandLow"], profile["bandHigh"]
    ):
        assert ground < low - 1 < alt < high + 1
    inked = m.page.evaluate(
        "(() => { const c = document.getElementById('profile');"
        " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })()"
    )
    assert inked > 2_000, "the profile canvas is blank"
    m.shot("map-route.png")
    m.page.click("#pitch")
    m.settle()
    assert m.page.evaluate("window.airgrid.map.getPitch()") > 45
    m.shot("map-route-3d.png")


def test_a_regulator_draws_a_geofence_and_the_api_has_it(open_page, server):
    lon, lat, d = DRAWN_AT
    m = open_page("regulator").open(lon + d / 2, lat + d / 2, 13)
    m.page.click("#tool-fence")
    corners = [(lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d)]
    for x, y in corners:
        m.click_lonlat(x, y)
    m.page.fill("#fence-form [name=identifier]", "MAP-DRAWN-1")
    m.page.select_option("#fence-form [name=category]", "authorisation_required")
    m.page.fill("#fence-form [name=upper_m]", "450")
    m.page.fill("#fence-form [name=valid_from]", "2026-01-01T00:00")
    m.page.fill("#fence-form [name=valid_to]", "2099-01-01T00:00")
    m.page.click("#fence-submit")
    m.page.wait_for_function("document.getElementById('notes').innerText.includes('MAP-DRAWN-1')")
    m.settle()
    assert "geofence MAP-DRAWN-1 created" in m.notes()
    m.shot("map-drawn-geofence.png")
    with _api(server, "planner") as http:
        fences = {f["id"]: f for f in http.get("/v1/geofences").json()["features"]}
    got = fences["MAP-DRAWN-1"]
    assert got["properties"]["category"] == "authorisation_required"
    assert got["properties"]["upper_m"] == 450 and got["properties"]["upper_reference"] == "AMSL"
    assert got["properties"]["valid_to"].startswith("2099")
    ring = np.array(got["geometry"]["coordinates"][0])[:-1]
    # the vertices are where the clicks were (to a pixel: ~10 m at zoom 13)
    for x, y in corners:
        assert np.hypot(ring[:, 0] - x, ring[:, 1] - y).min() < 2e-4


def test_an_operators_conflicting_intent_shows_its_conflict_then_is_accepted(open_page, server):
    now = datetime.now(UTC)
    block = {
        "intent_id": "map-holder-1",
        "tier": "T2",
        "volumes": [
            volume(
                112.96,
                28.14,
                0.06,
                0,
                1_000,
                (now + timedelta(minutes=1)).isoformat(),
                (now + timedelta(hours=3)).isoformat(),
            )
        ],
    }
    with _api(server, "operator2") as http:
        assert http.post("/v1/intents", json=block).status_code == 201
    m = open_page("operator").open((ORIGIN[0] + DEST[0]) / 2, (ORIGIN[1] + DEST[1]) / 2, 12.5)
    _draw_route(m)
    m.page.click("#intent-submit")
    m.page.wait_for_function("window.airgrid.lastIntent && window.airgrid.busy === 0")
    m.settle()
    answer = m.page.evaluate("window.airgrid.lastIntent")
    assert answer["status"] == 409
    assert {c["other_id"] for c in answer["body"]["conflicts"]} == {"map-holder-1"}
    assert m.rendered("conflicts") > 0
    notes = m.notes()
    assert "intent refused (409)" in notes and "conflict with intent map-holder-1" in notes
    assert m.rendered("conflict-volumes") > 0, "the conflict's volume is not drawn"
    m.shot("map-intent-conflict.png")
    # the 409 itself is the one error the browser logs
    assert len(m.errors) == 1 and "409" in m.errors[0], m.errors
    m.errors.clear()

    # once the other intent is cancelled, the same submission is accepted
    with _api(server, "operator2") as http:
        assert http.post("/v1/intents/map-holder-1/cancel", json={}).status_code == 200
    m.page.evaluate("window.airgrid.lastIntent = null")
    m.page.click("#intent-submit")
    m.page.wait_for_function("window.airgrid.lastIntent && window.airgrid.busy === 0")
    answer = m.page.evaluate("window.airgrid.lastIntent")
    assert answer["status"] == 201, answer
    assert "accepted (201)" in m.notes()
    m.settle()
    assert m.rendered("conflicts") == 0  # the refused submission's conflicts are gone
    with _api(server, "operator") as http:
        assert http.get(f"/v1/intents/{answer['body']['id']}").json()["state"] == "accepted"


def test_the_time_slider_shows_what_is_active_at_a_moment(open_page, server):
    lon, lat, d = FENCE_AT
    later = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": square(lon, lat - 0.03, d)},
        "properties": {
            "identifier": "MAP-LATER-1",
            "lower_m": 0,
            "upper_m": 600,
            "valid_from": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
        },
    }
    with _api(server, "regulator") as http:
        assert http.post("/v1/geofences", json=later).status_code == 201
    m = open_page("planner").open(lon, lat, 11)

    def shown() -> set[str]:
        return set(
            m.page.evaluate("window.airgrid.geofences.features.map(f => f.properties.identifier)")
        )

    assert "MAP-LATER-1" in shown()
    m.page.check("#time-filter")
    m.settle()
    assert "MAP-LATER-1" not in shown()
    m.page.eval_on_selector(  # four days on
        "#time",
        "(el) => { el.value = String(4 * 24 * 60); el.dispatchEvent(new Event('input'));"
        " el.dispatchEvent(new Event('change')); }",
    )
    m.settle()
    assert "MAP-LATER-1" in shown()


def test_density_and_audit_layers_draw_what_the_api_holds(open_page, server):
    """A planner sees the density cells of an accepted intent; a regulator sees the
    violations of a finished audit job whose log crosses a prohibited geofence."""
    now = datetime.now(UTC)
    lon, lat, d = DENSITY_AT
    held = {
        "intent_id": "map-density-1",
        "tier": "T2",
        "volumes": [
            volume(
                lon,
                lat,
                d,
                200,
                300,
                (now + timedelta(minutes=1)).isoformat(),
                (now + timedelta(minutes=50)).isoformat(),
            )
        ],
    }
    with _api(server, "operator") as http:
        assert http.post("/v1/intents", json=held).status_code == 201
    m = open_page("planner").open(lon + d / 2, lat + d / 2, 13)
    cells = m.page.evaluate(
        "window.airgrid.map.getSource('density').serialize().data.features"
        ".filter(f => f.properties.count > 0).length"
    )
    assert cells > 0, "no density cell carries the accepted intent"
    assert m.rendered("density") > 0
    m.shot("map-density.png")

    flon, flat, fd = AUDIT_FENCE_AT
    fence = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": square(flon, flat, fd)},
        "properties": {"identifier": "MAP-AUDITED-1", "lower_m": 0, "upper_m": 600},
    }
    track = "\n".join(  # west to east through the fence, 150 m above the ground
        f"MAP-LOG-1,map-operator,{(now - timedelta(minutes=20, seconds=-10 * k)).isoformat()},"
        f"{flat + fd / 2},{flon - fd + k * fd / 6:.6f},150,AGL"
        for k in range(19)
    )
    log = "flight_id,operator,time,lat,lon,alt,alt_ref\n" + track + "\n"
    with _api(server, "regulator") as http:
        assert http.post("/v1/geofences", json=fence).status_code == 201
        r = http.post(
            "/v1/audits",
            params={"format": "csv", "job_id": "map-audit-1"},
            content=log.encode(),
            headers={"Content-Type": "text/csv"},
        )
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 120
        while (job := http.get("/v1/audits/map-audit-1").json())["state"] != "succeeded":
            assert job["state"] != "failed" and time.monotonic() < deadline, job
            time.sleep(0.2)
        found = http.get("/v1/audits/map-audit-1/violations").json()["features"]
    assert any(
        f["properties"]["rule"] == "geofence" and f["properties"]["object_id"] == "MAP-AUDITED-1"
        for f in found
    ), found
    m = open_page("regulator").open(flon + fd / 2, flat + fd / 2, 13)
    assert f"{len(found)} violations of audit map-audit-1" in m.notes()
    assert m.rendered("audit-lines") + m.rendered("audit-points") > 0
    m.shot("map-audit.png")


def test_background_endpoints(server):
    with _api(server, "operator") as http:
        meta = http.get("/v1/map/hillshade").json()
        png = http.get(meta["image"])
        counties = http.get("/v1/map/boundaries/counties")
        bad = http.get("/v1/map/boundaries/villages")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.content[25] == 4  # IHDR colour type: grey + alpha (DEM voids transparent)
    w, s, e, n = meta["bounds"]
    assert meta["coordinates"] == [[w, n], [e, n], [e, s], [w, s]]
    assert w < 112.98 < e and s < 28.2 < n
    assert counties.headers["content-type"].startswith("application/geo+json")
    assert len(counties.json()["features"]) > 100
    assert bad.status_code == 422


def test_voxels_of_a_layer_and_corridor_voxels(server):
    bbox = "112.95,28.14,113.03,28.22"
    with _api(server, "operator") as http:
        every = http.get("/v1/grid/voxels", params={"bbox": bbox, "tier": "T2"}).json()
        layer = every["features"][0]["properties"]["layer"]
        one = http.get("/v1/grid/voxels", params={"bbox": bbox, "tier": "T2", "layer": layer})
        lone = http.get("/v1/grid/voxels", params={"bbox": bbox, "layer": layer})
        corridors = http.get("/v1/grid/corridors", params={"bbox": bbox, "tier": "T2"}).json()
        none = http.get("/v1/grid/corridors", params={"bbox": bbox, "tier": "T3"}).json()
    layers = {f["properties"]["layer"] for f in one.json()["features"]}
    assert layers == {layer}
    assert 0 < len(one.json()["features"]) < len(every["features"])
    assert lone.status_code == 422 and "layer needs tier" in lone.json()["detail"]
    assert {f["id"] for f in corridors["features"]} == set(server["corridor"])
    assert all("CORRIDOR" in f["properties"]["status"] for f in corridors["features"])
    assert none["features"] == []


def test_hillshade_rows_are_evenly_spaced_in_mercator():
    from airgrid.api.http.background import mercator_rows

    south, north, h = 24.5, 30.3, 696
    lat_rows = np.linspace(north, south, h, endpoint=False) - (north - south) / h / 2
    img = np.round(lat_rows * 1000).astype(np.int64)[:, None]  # each row holds its latitude
    out = mercator_rows(img, south, north)[:, 0] / 1000
    y = np.log(np.tan(np.pi / 4 + np.radians(out) / 2))
    step = np.diff(y)
    assert np.abs(step - step.mean()).max() < 2 * (north - south) / h * np.pi / 180
    # the middle row is the Mercator middle, about 0.04° north of the latitude middle
    assert out[h // 2] > (south + north) / 2 + 0.03
