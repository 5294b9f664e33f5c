// The map page: the key, the map and its background, the layer toggles, the time slider,
// and the tools. `window.airgrid` exposes the page's state (the map, the last route, the
// last intent answer) for scripts and tests.

import { api, apiKey, authHeaders, sameOrigin, setApiKey } from "./api.js";
import {
  DENSITY_PATH, DETAIL_BOX_KM, loadAudits, loadCorridors, loadDensity, loadGeofences, loadIntents, loadVoxels,
} from "./layers.js";
import { note } from "./notes.js";
import { GROUPS, mapStyle } from "./style.js";
import {
  clearDrawing, fenceClick, routeClick, submitFence, submitIntent, voxelInfo,
} from "./tools.js";

/** Voxels and corridors are fetched for the view only from this zoom on (smaller views). */
const DETAIL_ZOOM = 11;
const PITCH_3D = 60;
const HELP = {
  info: "Click the map for the voxel there.",
  route: "Click an origin, then a destination: the route of the chosen tier and its profile.",
  fence: "Click the polygon's vertices, then fill in its limits and times and create it.",
};

const state = {
  map: null, role: null, tiers: {}, tier: null, mode: "info",
  moment: new Date(), timeFilter: false,
  routeEnds: [], route: null, profile: null, drawing: [],
  geofences: null, lastIntent: null, lastVoxel: null, loaded: false, busy: 0, offersDensity: false,
};
window.airgrid = state;

const $ = (id) => document.getElementById(id);

async function guarded(what, fn) {
  state.busy += 1;
  try {
    return await fn();
  } catch (err) {
    note(`${what}: ${err.message}`, "error");
    return null;
  } finally {
    state.busy -= 1;
  }
}

function at() {
  return state.timeFilter ? state.moment : null;
}

async function loadDetail() {
  const map = state.map;
  if (map.getZoom() < DETAIL_ZOOM) {
    note(`zoom in (to ${DETAIL_ZOOM}) for voxels and corridors`, "quiet");
    return;
  }
  await guarded("voxels", async () => {
    const fc = await loadVoxels(map, state.tier, $("layer").value);
    note(`${fc.features.length} ${state.tier} voxels in the central ${DETAIL_BOX_KM} km box`, "quiet");
  });
  await guarded("corridors", () => loadCorridors(map, state.tier));
}

async function loadAll() {
  const map = state.map;
  await guarded("geofences", async () => {
    state.geofences = await loadGeofences(map, at());
    const n = state.geofences.features.length;
    note(`${n} geofence${n === 1 ? "" : "s"}`, "quiet");
  });
  await guarded("intents", () => loadIntents(map, at()));
  await loadDetail();
  const seesDensity = state.offersDensity && ["planner", "regulator", "admin"].includes(state.role);
  await guarded("density", () => loadDensity(map, state.tier, state.moment, seesDensity));
  if (["regulator", "admin"].includes(state.role)) {
    await guarded("audits", async () => {
      const got = await loadAudits(map);
      if (got) note(`${got.count} violations of audit ${got.job}`, "quiet");
    });
  }
  state.loaded = true;
}

function setMode(mode) {
  state.mode = mode;
  for (const m of ["info", "route", "fence"]) $(`tool-${m}`).classList.toggle("on", m === mode);
  $("tool-help").textContent = HELP[mode];
  $("fence-form").hidden = mode !== "fence" || state.drawing.length === 0;
  state.map.getCanvas().style.cursor = mode === "info" ? "" : "crosshair";
}

function showMoment() {
  const minutes = Number($("time").value);
  state.moment = new Date(state.startedAt + minutes * 60e3);
  $("time-label").textContent = `${state.moment.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function wireControls() {
  $("reload").addEventListener("click", () => loadAll());
  $("tier").addEventListener("change", (e) => {
    state.tier = e.target.value;
    loadDetail();
  });
  for (const box of document.querySelectorAll("#toggles input")) {
    box.addEventListener("change", () => {
      for (const id of GROUPS[box.dataset.group] || []) {
        if (state.map.getLayer(id)) {
          state.map.setLayoutProperty(id, "visibility", box.checked ? "visible" : "none");
        }
      }
    });
  }
  $("time").addEventListener("input", showMoment);
  $("time").addEventListener("change", () => state.timeFilter && loadAll());
  $("time-filter").addEventListener("change", (e) => {
    state.timeFilter = e.target.checked;
    loadAll();
  });
  $("tool-info").addEventListener("click", () => setMode("info"));
  $("tool-route").addEventListener("click", () => setMode("route"));
  $("tool-fence").addEventListener("click", () => setMode("fence"));
  $("pitch").addEventListener("click", () => {
    const flat = state.map.getPitch() < 1;
    state.map.easeTo({ pitch: flat ? PITCH_3D : 0, duration: 0 });
    $("pitch").textContent = flat ? "2D" : "3D";
  });
  $("fence-form").addEventListener("submit", (e) => {
    e.preventDefault();
    guarded("geofence", () => submitFence(state, e.target));
  });
  $("fence-clear").addEventListener("click", () => clearDrawing(state));
  $("intent-submit").addEventListener("click", () => guarded("intent", () => submitIntent(state)));
}

function onMapClick(e) {
  if (state.mode === "route") guarded("route", () => routeClick(state, e.lngLat));
  else if (state.mode === "fence") fenceClick(state, e.lngLat);
  else guarded("voxel", () => voxelInfo(state, e.lngLat));
}

async function identify() {
  const me = await api("/v1/whoami");
  state.role = me.role;
  $("whoami").textContent = `${me.name} (${me.role})`;
  const tiers = await api("/v1/grid/tiers");
  for (const t of tiers.tiers) {
    state.tiers[t.name] = t;
    const opt = document.createElement("option");
    opt.value = opt.textContent = t.name;
    $("tier").append(opt);
  }
  const doc = await api("/openapi.json");
  state.offersDensity = DENSITY_PATH in (doc.paths || {});
  const usable = tiers.tiers.filter((t) => t.usable > 0);
  state.tier = (usable.find((t) => t.name === "T2") || usable[0] || tiers.tiers[0]).name;
  $("tier").value = state.tier;
  $("tool-fence").disabled = !["regulator", "admin"].includes(me.role);
  $("intent-submit").hidden = !["operator", "planner", "admin"].includes(me.role);
  return api("/v1/map/hillshade");
}

function createMap(hillshade) {
  state.map = new maplibregl.Map({
    container: "map",
    style: mapStyle(hillshade),
    center: [112.98, 28.2],
    zoom: 10,
    maxPitch: 75,
    hash: true,
    attributionControl: false,
    transformRequest: (url) => (sameOrigin(url) ? { url, headers: authHeaders() } : { url }),
  });
  state.map.addControl(new maplibregl.NavigationControl({ visualizePitch: true }));
  state.map.addControl(new maplibregl.ScaleControl({ unit: "metric" }));
  state.map.on("click", onMapClick);
  state.map.on("error", (e) => note(`map: ${e.error?.message || e.error || e}`, "error"));
}

async function start() {
  state.startedAt = Date.now();
  showMoment();
  $("key").value = "";
  $("key-save").addEventListener("click", () => {
    setApiKey($("key").value);
    window.location.reload();
  });
  if (!apiKey()) {
    createMap(null);
    state.loaded = true;
    return;
  }
  const hillshade = await guarded("key", identify);
  createMap(hillshade);
  wireControls();
  setMode("info");
  if (!hillshade) {
    state.loaded = true;
    return;
  }
  state.map.on("moveend", () => state.loaded && loadDetail());
  state.map.once("load", () => loadAll());
}

start();
