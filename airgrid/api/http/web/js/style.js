// The map's style: the offline background (hillshade image, boundaries) and one GeoJSON
// source with its layers per API layer group. No tiles, sprites or glyphs are fetched from
// anywhere: the style has no text layers, so it needs no glyph server.
//
// Heights: every fill-extrusion's base and height are metres above mean sea level (AMSL,
// EGM96), the datum of the API's floor_m/ceiling_m. The map has no terrain mesh: its flat
// ground is sea level, and the hillshade only shades it, so a voxel at 250-290 m AMSL is
// drawn 250-290 m above that plane, wherever the real ground is.

export const EMPTY = { type: "FeatureCollection", features: [] };

/** Colours of voxel kinds (from their status flags) and geofence categories. */
export const COLOURS = {
  usable: "#2da44e",
  terrain: "#8c6d46",
  geofenced: "#d1242f",
  corridor: "#1f6feb",
  prohibited: "#d1242f",
  authorisation_required: "#e0a100",
  advisory: "#8250df",
  intent: "#0a7ea4",
  conflict: "#ff2d20",
  route: "#111111",
  audit: "#f06a00",
};

/** Layer ids by the toggle group that shows and hides them. */
export const GROUPS = {
  hillshade: ["hillshade"],
  boundaries: ["counties", "prefectures", "province"],
  density: ["density"],
  voxels: ["voxels"],
  corridors: ["corridors"],
  geofences: ["geofences-floor", "geofences", "geofences-outline"],
  intents: ["intents", "conflict-volumes", "conflicts"],
  audits: ["audit-lines", "audit-points"],
  route: ["route", "route-points"],
};

const DATA_SOURCES = [
  "density", "voxels", "corridors", "geofences", "intents", "conflicts",
  "audits", "route", "drawing",
];

function byCategory() {
  return [
    "match", ["get", "category"],
    "prohibited", COLOURS.prohibited,
    "authorisation_required", COLOURS.authorisation_required,
    COLOURS.advisory,
  ];
}

function extrusion(id, source, colour, opacity, base = "floor_m", top = "ceiling_m") {
  return {
    id,
    type: "fill-extrusion",
    source,
    paint: {
      "fill-extrusion-color": colour,
      "fill-extrusion-base": ["to-number", ["get", base], 0],
      "fill-extrusion-height": ["to-number", ["get", top], 0],
      "fill-extrusion-opacity": opacity,
    },
  };
}

function backgroundLayers() {
  return [
    { id: "background", type: "background", paint: { "background-color": "#e9ecef" } },
    { id: "hillshade", type: "raster", source: "hillshade", paint: { "raster-opacity": 0.6 } },
    { id: "counties", type: "line", source: "counties",
      paint: { "line-color": "#8d99a6", "line-width": 0.5 } },
    { id: "prefectures", type: "line", source: "prefectures",
      paint: { "line-color": "#5b6673", "line-width": 1.2 } },
    { id: "province", type: "line", source: "province",
      paint: { "line-color": "#2b3440", "line-width": 2.2 } },
  ];
}

function dataLayers() {
  return [
    { id: "density", type: "fill", source: "density",
      paint: {
        "fill-color": ["interpolate", ["linear"], ["to-number", ["get", "load"], 0],
          0, "#fff5b1", 0.5, "#fb8c00", 1, "#b71c1c"],
        "fill-opacity": 0.55,
      } },
    extrusion("voxels", "voxels", ["match", ["get", "kind"],
      "terrain", COLOURS.terrain, "geofenced", COLOURS.geofenced,
      "corridor", COLOURS.corridor, COLOURS.usable], 0.55),
    extrusion("corridors", "corridors", COLOURS.corridor, 0.7),
    { id: "geofences-floor", type: "fill", source: "geofences",
      paint: { "fill-color": byCategory(), "fill-opacity": 0.3 } },
    extrusion("geofences", "geofences", byCategory(), 0.4, "base_m", "top_m"),
    { id: "geofences-outline", type: "line", source: "geofences",
      paint: { "line-color": byCategory(), "line-width": 2 } },
    extrusion("intents", "intents",
      ["case", ["boolean", ["get", "conflict"], false], COLOURS.conflict, COLOURS.intent], 0.6),
    { ...extrusion("conflict-volumes", "conflicts", COLOURS.conflict, 0.75),
      filter: ["==", ["geometry-type"], "Polygon"] },
    { id: "conflicts", type: "circle", source: "conflicts",
      filter: ["==", ["geometry-type"], "Point"],
      paint: { "circle-radius": 9, "circle-color": COLOURS.conflict, "circle-opacity": 0.85,
        "circle-stroke-color": "#ffffff", "circle-stroke-width": 2 } },
    { id: "audit-lines", type: "line", source: "audits",
      filter: ["!=", ["geometry-type"], "Point"],
      paint: { "line-color": COLOURS.audit, "line-width": 3 } },
    { id: "audit-points", type: "circle", source: "audits",
      filter: ["==", ["geometry-type"], "Point"],
      paint: { "circle-radius": 5, "circle-color": COLOURS.audit } },
    { id: "route", type: "line", source: "route",
      filter: ["==", ["geometry-type"], "LineString"],
      paint: { "line-color": COLOURS.route, "line-width": 3 } },
    { id: "route-points", type: "circle", source: "route",
      filter: ["==", ["geometry-type"], "Point"],
      paint: { "circle-radius": 5, "circle-color": "#ffffff",
        "circle-stroke-color": COLOURS.route, "circle-stroke-width": 2 } },
    { id: "drawing-line", type: "line", source: "drawing",
      paint: { "line-color": COLOURS.prohibited, "line-width": 2, "line-dasharray": [2, 1] } },
    { id: "drawing-points", type: "circle", source: "drawing",
      filter: ["==", ["geometry-type"], "Point"],
      paint: { "circle-radius": 4, "circle-color": COLOURS.prohibited } },
  ];
}

/**
 * The whole style.
 * @param {{image: string, coordinates: number[][]}|null} hillshade  from GET /v1/map/hillshade
 */
export function mapStyle(hillshade) {
  const sources = {};
  if (hillshade) {
    sources.hillshade = { type: "image", url: hillshade.image, coordinates: hillshade.coordinates };
  }
  for (const level of ["province", "prefectures", "counties"]) {
    sources[level] = { type: "geojson", data: hillshade ? `/v1/map/boundaries/${level}` : EMPTY };
  }
  for (const id of DATA_SOURCES) sources[id] = { type: "geojson", data: EMPTY };
  const layers = [...backgroundLayers(), ...dataLayers()].filter(
    (layer) => !layer.source || sources[layer.source],
  );
  return { version: 8, sources, layers };
}
