// Loading the API's layers into the map's GeoJSON sources. Each loader fetches through the
// public /v1 API, turns the answer into features with the properties the style reads, and
// reports what it drew (or why not) in the notes.

import { api, ApiError } from "./api.js";
import { note } from "./notes.js";
import { EMPTY } from "./style.js";

/** Side of the largest box voxel and corridor layers ask for (km): 144 km², under the
 * API's default area limit (400 km²), whatever the screen size. */
export const DETAIL_BOX_KM = 12;

/** The view's box as "west,south,east,north", cut to DETAIL_BOX_KM around its centre. */
export function viewBbox(map) {
  const b = map.getBounds();
  const c = map.getCenter();
  const halfLat = DETAIL_BOX_KM / 2 / 110.574;
  const halfLon = DETAIL_BOX_KM / 2 / (111.32 * Math.cos((c.lat * Math.PI) / 180));
  return [
    Math.max(b.getWest(), c.lng - halfLon), Math.max(b.getSouth(), c.lat - halfLat),
    Math.min(b.getEast(), c.lng + halfLon), Math.min(b.getNorth(), c.lat + halfLat),
  ].map((v) => v.toFixed(5)).join(",");
}

function setData(map, id, data) {
  map.getSource(id).setData(data);
}

/** A voxel's kind from its status names: what colours it. */
export function voxelKind(status) {
  if (status.includes("CORRIDOR")) return "corridor";
  if (status.includes("GEOFENCE")) return "geofenced";
  if (status.includes("TERRAIN")) return "terrain";
  return "usable";
}

function centroid(ring) {
  let x = 0;
  let y = 0;
  const pts = ring.slice(0, -1);
  for (const [a, b] of pts) {
    x += a;
    y += b;
  }
  return [x / pts.length, y / pts.length];
}

const groundCache = new Map();

// The DEM's best estimate at a footprint's centroid (0 outside the DEM): the ground an AGL
// limit is drawn over.
async function groundAt(ring) {
  const [lon, lat] = centroid(ring);
  const key = `${lon.toFixed(4)},${lat.toFixed(4)}`;
  if (!groundCache.has(key)) {
    groundCache.set(key, api("/v1/grid/elevation", { query: { lon, lat } })
      .then((e) => e.elevation_m)
      .catch(() => 0));
  }
  return groundCache.get(key);
}

/**
 * Geofences (active at `at` when given) as extrusions: base_m/top_m are metres AMSL; an AGL
 * limit is drawn over the DEM's best estimate at the footprint's centroid.
 */
export async function loadGeofences(map, at) {
  const fc = await api("/v1/geofences", { query: { active_at: at ? at.toISOString() : null } });
  for (const f of fc.features) {
    const p = f.properties;
    const ground = p.lower_reference === "AGL" || p.upper_reference === "AGL"
      ? await groundAt(f.geometry.coordinates[0]) : 0;
    p.base_m = p.lower_m + (p.lower_reference === "AGL" ? ground : 0);
    p.top_m = p.upper_m + (p.upper_reference === "AGL" ? ground : 0);
  }
  setData(map, "geofences", fc);
  return fc;
}

/** Voxels of one tier (and layer) in the view, coloured by status. */
export async function loadVoxels(map, tier, layer) {
  const fc = await api("/v1/grid/voxels", {
    query: { bbox: viewBbox(map), tier, layer: layer === "" ? null : layer },
  });
  // only what the style and the info need travels to the map's worker
  const features = fc.features.map((f) => ({
    type: "Feature",
    geometry: f.geometry,
    properties: {
      id: f.id, floor_m: f.properties.floor_m, ceiling_m: f.properties.ceiling_m,
      kind: voxelKind(f.properties.status),
    },
  }));
  setData(map, "voxels", { type: "FeatureCollection", features });
  return fc;
}

/** Corridor voxels of one tier in the view. */
export async function loadCorridors(map, tier) {
  const fc = await api("/v1/grid/corridors", { query: { bbox: viewBbox(map), tier } });
  setData(map, "corridors", fc);
  return fc;
}

/** Intents the key may see, one extrusion per volume; `conflicting` ids are drawn red. */
export async function loadIntents(map, at, conflicting = new Set()) {
  const list = await api("/v1/intents");
  const features = [];
  for (const fi of list.intents) {
    if (["ended", "cancelled"].includes(fi.state)) continue;
    fi.volumes.forEach((v, k) => {
      const start = Date.parse(v.start);
      const end = Date.parse(v.end);
      if (at && !(start <= at.getTime() && at.getTime() < end)) return;
      features.push({
        type: "Feature",
        id: `${fi.id}/${k}`,
        geometry: v.footprint,
        properties: {
          intent: fi.id, operator: fi.operator, state: fi.state, tier: fi.tier,
          floor_m: v.floor_m, ceiling_m: v.ceiling_m, start: v.start, end: v.end,
          conflict: conflicting.has(fi.id),
        },
      });
    });
  }
  setData(map, "intents", { type: "FeatureCollection", features });
  return features.length;
}

/** Radius (m) of the marker volume drawn at each conflict's place. */
const CONFLICT_RADIUS_M = 150;

function disc([lon, lat], radiusM, n = 24) {
  const dLat = radiusM / 110574;
  const dLon = radiusM / (111320 * Math.cos((lat * Math.PI) / 180));
  const ring = [];
  for (let i = 0; i <= n; i++) {
    const a = (2 * Math.PI * (i % n)) / n;
    ring.push([lon + dLon * Math.cos(a), lat + dLat * Math.sin(a)]);
  }
  return { type: "Polygon", coordinates: [ring] };
}

/**
 * The conflicts of a 409 answer (with other intents and with geofences): a point at each
 * place, and a red disc extruded over the conflict's floor to ceiling (m AMSL), since an
 * operator may not see the other operators' intents themselves.
 */
export function showConflicts(map, problem) {
  const points = [];
  const found = [
    ...(problem.conflicts || []).map((c) => ["intent", c.other_id, c]),
    ...(problem.geofence_conflicts || []).map((c) => ["geofence", c.geofence_id, c]),
  ];
  for (const [kind, other, c] of found) {
    const properties = { kind, other, floor_m: c.floor_m, ceiling_m: c.ceiling_m };
    points.push({ type: "Feature", geometry: { type: "Point", coordinates: [c.lon, c.lat] }, properties });
  }
  const discs = points.map((f) => ({ ...f, geometry: disc(f.geometry.coordinates, CONFLICT_RADIUS_M) }));
  setData(map, "conflicts", { type: "FeatureCollection", features: [...discs, ...points] });
  return points;
}

/** Violations of the newest finished audit job (regulators and admins). */
export async function loadAudits(map) {
  const jobs = await api("/v1/audits");
  const done = (jobs.jobs || []).find((j) => j.state === "succeeded");
  if (!done) {
    setData(map, "audits", EMPTY);
    return null;
  }
  const fc = await api(`/v1/audits/${encodeURIComponent(done.id)}/violations`, {
    query: { limit: 1000 },
  });
  setData(map, "audits", { type: "FeatureCollection", features: fc.features });
  return { job: done.id, count: fc.features.length };
}

/** Path of the density analytics (served when the traffic analytics are installed). */
export const DENSITY_PATH = "/v1/analytics/density";

/**
 * Cell density and capacity of a tier around `at` (one hour). `offered` says whether the
 * server's OpenAPI document lists the operation and the key's role may read it (planners,
 * regulators, admins): asking otherwise would answer 404 or 403, which the browser logs as
 * an error.
 */
export async function loadDensity(map, tier, at, offered) {
  if (!offered) {
    setData(map, "density", EMPTY);
    note("density: not offered to this key", "quiet");
    return null;
  }
  const start = new Date(at.getTime() - 30 * 60e3);
  const end = new Date(at.getTime() + 30 * 60e3);
  try {
    const fc = await api(DENSITY_PATH, {
      query: { tier, start: start.toISOString(), end: end.toISOString(), format: "geojson" },
    });
    setData(map, "density", fc);
    return fc.features.length;
  } catch (err) {
    setData(map, "density", EMPTY);
    if (err instanceof ApiError && err.status === 404) {
      note("density: not offered by this server", "quiet");
      return null;
    }
    throw err;
  }
}
