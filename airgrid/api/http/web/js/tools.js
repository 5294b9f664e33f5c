// The map's click tools: the voxel at a point, a route from two clicks (with its profile),
// a geofence polygon drawn by a regulator, and the drawn route submitted as an intent.

import { api, ApiError } from "./api.js";
import { loadGeofences, loadIntents, showConflicts } from "./layers.js";
import { note, showInfo } from "./notes.js";
import { drawProfile } from "./profile.js";
import { EMPTY } from "./style.js";

const fmt = (v, d = 1) => (v === null || v === undefined ? "–" : Number(v).toFixed(d));

/** The altitude (m AMSL or AGL) a click asks about: the chosen layer's middle, else the tier band's. */
function clickAltitude(state) {
  const tier = state.tiers[state.tier];
  const layer = document.getElementById("layer").value;
  if (layer !== "") return { alt_m: (Number(layer) + 0.5) * tier.thickness_m, alt_ref: "AMSL" };
  return { alt_m: (tier.lower_m + tier.upper_m) / 2, alt_ref: "AGL" };
}

/** Show the voxel (tier, floor, ceiling, ground bounds, status) at a clicked point. */
export async function voxelInfo(state, lngLat) {
  const { alt_m, alt_ref } = clickAltitude(state);
  const loc = await api("/v1/grid/voxel", {
    query: { lon: lngLat.lng.toFixed(6), lat: lngLat.lat.toFixed(6), alt_m, alt_ref },
  });
  const v = loc.voxel;
  state.lastVoxel = loc;
  showInfo(v ? `Voxel ${v.id}` : "No voxel here", [
    ["point", `${lngLat.lng.toFixed(5)}, ${lngLat.lat.toFixed(5)} at ${fmt(loc.alt_amsl_m)} m AMSL`],
    ["tier", loc.tier],
    ["floor – ceiling", v ? `${fmt(v.floor_m)} – ${fmt(v.ceiling_m)} m AMSL` : "–"],
    ["ground g_lo – g_hi", v ? `${fmt(v.g_lo_m)} – ${fmt(v.g_hi_m)} m AMSL` : "–"],
    ["true height", v ? `${fmt(v.true_height_range_m[0])} – ${fmt(v.true_height_range_m[1])} m` : "–"],
    ["status", v ? (v.status.length ? v.status.join(", ") : "clear") : "–"],
    ["usable", loc.usable ? "yes" : `no: ${loc.reason || ""}`],
  ]);
  return loc;
}

function ringCentre(ring) {
  const pts = ring.slice(0, -1);
  return [pts.reduce((s, p) => s + p[0], 0) / pts.length, pts.reduce((s, p) => s + p[1], 0) / pts.length];
}

/** The usable voxel of the chosen tier nearest a click: [lon, lat, alt_m AMSL] of its centre. */
async function routeEndpoint(state, lngLat) {
  const d = 0.006;
  const bbox = [lngLat.lng - d, lngLat.lat - d, lngLat.lng + d, lngLat.lat + d]
    .map((v) => v.toFixed(5)).join(",");
  const fc = await api("/v1/grid/voxels", { query: { bbox, tier: state.tier, usable: true } });
  let best = null;
  for (const f of fc.features) {
    const [lon, lat] = ringCentre(f.geometry.coordinates[0]);
    const dist = (lon - lngLat.lng) ** 2 + (lat - lngLat.lat) ** 2;
    const p = f.properties;
    if (!best || dist < best.dist - 1e-12 || (Math.abs(dist - best.dist) <= 1e-12 && p.floor_m < best.floor)) {
      best = { dist, floor: p.floor_m, at: [lon, lat, (p.floor_m + p.ceiling_m) / 2] };
    }
  }
  if (!best) throw new Error(`no usable ${state.tier} voxel within about 600 m of the click`);
  return best.at;
}

function pointsSource(points, line = null) {
  const features = points.map((c) => ({ type: "Feature", geometry: { type: "Point", coordinates: c }, properties: {} }));
  if (line) features.unshift(line);
  return { type: "FeatureCollection", features };
}

/** Route tool: the first click sets the origin, the second the destination and plans. */
export async function routeClick(state, lngLat) {
  const map = state.map;
  if (state.routeEnds.length >= 2) state.routeEnds = [];
  state.routeEnds.push(await routeEndpoint(state, lngLat));
  map.getSource("route").setData(pointsSource(state.routeEnds));
  if (state.routeEnds.length < 2) {
    note(`origin set; click the destination`, "quiet");
    return null;
  }
  const [origin, destination] = state.routeEnds;
  const route = await api("/v1/routes", {
    method: "POST",
    body: {
      origin: { type: "Point", coordinates: origin },
      destination: { type: "Point", coordinates: destination },
      tiers: [state.tier],
    },
  });
  state.route = route;
  map.getSource("route").setData(pointsSource(state.routeEnds, route));
  const box = document.getElementById("profile-box");
  box.hidden = false;
  map.resize();
  state.profile = drawProfile(document.getElementById("profile"), route, state.tiers[state.tier]);
  const p = route.properties;
  note(`route: ${(p.length_m / 1000).toFixed(2)} km, ${Math.round(p.time_s)} s, `
    + `least clearance ${fmt(p.min_clearance_m)} m`, "ok");
  document.getElementById("intent-submit").disabled = false;
  return route;
}

/** Geofence tool: each click adds a vertex of the polygon being drawn. */
export function fenceClick(state, lngLat) {
  state.drawing.push([lngLat.lng, lngLat.lat]);
  const ring = state.drawing.length > 2 ? [...state.drawing, state.drawing[0]] : state.drawing;
  const line = state.drawing.length > 1
    ? { type: "Feature", geometry: { type: "LineString", coordinates: ring }, properties: {} } : null;
  state.map.getSource("drawing").setData(pointsSource(state.drawing, line));
  document.getElementById("fence-form").hidden = false;
}

/** Clear the polygon being drawn. */
export function clearDrawing(state) {
  state.drawing = [];
  state.map.getSource("drawing").setData(EMPTY);
}

function isoOrNull(local) {
  return local ? new Date(local).toISOString() : null;
}

/** POST the drawn polygon with the form's limits and times as a geofence. */
export async function submitFence(state, form) {
  if (state.drawing.length < 3) throw new Error("draw at least three vertices first");
  const f = new FormData(form);
  const ring = [...state.drawing, state.drawing[0]];
  const feature = {
    type: "Feature",
    geometry: { type: "Polygon", coordinates: [ring] },
    properties: {
      identifier: f.get("identifier"),
      name: f.get("name") || "",
      category: f.get("category"),
      lower_m: Number(f.get("lower_m")),
      lower_reference: f.get("lower_reference"),
      upper_m: Number(f.get("upper_m")),
      upper_reference: f.get("upper_reference"),
      valid_from: isoOrNull(f.get("valid_from")),
      valid_to: isoOrNull(f.get("valid_to")),
    },
  };
  const out = await api("/v1/geofences", { method: "POST", body: feature });
  note(`geofence ${out.geofence.properties.identifier} created`, "ok");
  if (out.conflicting_intents.length) {
    note(`it meets intents ${out.conflicting_intents.join(", ")}`, "error");
  }
  clearDrawing(state);
  await loadGeofences(state.map, state.timeFilter ? state.moment : null);
  return out;
}

/** Waypoints of the drawn route timed from `departure` along its length at its mean speed. */
export function timedWaypoints(route, departure) {
  const coords = route.geometry.coordinates;
  const d = [0];
  for (let i = 1; i < coords.length; i++) {
    const [a, b] = [coords[i - 1], coords[i]];
    const dx = (b[0] - a[0]) * 111320 * Math.cos((a[1] * Math.PI) / 180);
    const dy = (b[1] - a[1]) * 110540;
    d.push(d[i - 1] + Math.hypot(dx, dy, b[2] - a[2]));
  }
  const total = Math.max(d[d.length - 1], 1);
  const duration = Math.max(route.properties.time_s, coords.length);
  return coords.map((c, i) => ({
    lon: c[0], lat: c[1], alt_m: c[2],
    // strictly increasing times: at least a second apart
    time: new Date(departure.getTime() + Math.max((d[i] / total) * duration, i) * 1000).toISOString(),
  }));
}

/** Submit the drawn route as an intent: 201 accepted, or 409 with conflicts and fixes shown. */
export async function submitIntent(state) {
  if (!state.route) throw new Error("draw a route first (Route tool, two clicks)");
  const soon = new Date(Date.now() + 10 * 60e3);
  const departure = state.moment > soon ? state.moment : soon;
  const body = { tier: state.tier, route: { waypoints: timedWaypoints(state.route, departure) } };
  try {
    const accepted = await api("/v1/intents", { method: "POST", body });
    state.lastIntent = { status: 201, body: accepted };
    showConflicts(state.map, {});
    note(`intent ${accepted.id} accepted (201), departing ${departure.toISOString()}`, "ok");
    await loadIntents(state.map, state.timeFilter ? state.moment : null);
    return state.lastIntent;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 409) throw err;
    const problem = err.problem;
    state.lastIntent = { status: 409, body: problem };
    const points = showConflicts(state.map, problem);
    const others = new Set((problem.conflicts || []).map((c) => c.other_id));
    await loadIntents(state.map, state.timeFilter ? state.moment : null, others);
    note(`intent refused (409): ${problem.detail}`, "error");
    for (const c of points) note(`conflict with ${c.properties.kind} ${c.properties.other}`, "error");
    for (const fix of problem.fixes || []) note(`fix: ${fix.description}`, "info");
    return state.lastIntent;
  }
}
