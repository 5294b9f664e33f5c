// The route's altitude profile, drawn by hand on a <canvas>: the route's altitude, the DEM
// ground under it, and the tier band's certain limits (the band's lower limit over the
// highest plausible ground, its upper limit over the lowest), all in metres AMSL against
// the horizontal distance flown.

const EARTH_RADIUS_M = 6371008.8;

function haversine([lon1, lat1], [lon2, lat2]) {
  const r = Math.PI / 180;
  const a = Math.sin(((lat2 - lat1) * r) / 2) ** 2
    + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(((lon2 - lon1) * r) / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

/**
 * The profile's series from a route Feature of POST /v1/routes.
 * @param {object} route  the Feature (LineString with [lon, lat, alt_m])
 * @param {{lower_m: number, upper_m: number}|null} tier  the band flown
 * @returns {{distance: number[], altitude: number[], ground: number[], bandLow: number[], bandHigh: number[]}}
 */
export function profileSeries(route, tier) {
  const coords = route.geometry.coordinates;
  const p = route.properties;
  const distance = [0];
  for (let i = 1; i < coords.length; i++) {
    distance.push(distance[i - 1] + haversine(coords[i - 1], coords[i]));
  }
  const altitude = coords.map((c) => c[2]);
  const ground = altitude.map((a, i) => a - (p.height_above_dem_m[i] ?? NaN));
  // true_height_range_m = [alt - g_hi, alt - g_lo]
  const gHi = altitude.map((a, i) => a - (p.true_height_range_m[i]?.[0] ?? NaN));
  const gLo = altitude.map((a, i) => a - (p.true_height_range_m[i]?.[1] ?? NaN));
  const bandLow = tier ? gHi.map((g) => g + tier.lower_m) : [];
  const bandHigh = tier ? gLo.map((g) => g + tier.upper_m) : [];
  return { distance, altitude, ground, bandLow, bandHigh };
}

function line(ctx, xs, ys, colour, width, dash = []) {
  ctx.beginPath();
  ctx.setLineDash(dash);
  ctx.strokeStyle = colour;
  ctx.lineWidth = width;
  let started = false;
  xs.forEach((x, i) => {
    if (!Number.isFinite(ys[i])) return;
    if (started) ctx.lineTo(x, ys[i]);
    else ctx.moveTo(x, ys[i]);
    started = true;
  });
  ctx.stroke();
  ctx.setLineDash([]);
}

function axes(ctx, box, dmax, lo, hi) {
  ctx.strokeStyle = "#9aa6b2";
  ctx.lineWidth = 1;
  ctx.strokeRect(box.x, box.y, box.w, box.h);
  ctx.fillStyle = "#4b5a69";
  ctx.font = "11px system-ui, sans-serif";
  const step = niceStep(hi - lo);
  for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
    const y = box.y + box.h - ((v - lo) / (hi - lo)) * box.h;
    ctx.fillText(`${v} m`, 4, y + 4);
    ctx.beginPath();
    ctx.strokeStyle = "#e4e8ec";
    ctx.moveTo(box.x, y);
    ctx.lineTo(box.x + box.w, y);
    ctx.stroke();
  }
  ctx.fillText(`${(dmax / 1000).toFixed(2)} km`, box.x + box.w - 52, box.y + box.h + 14);
  ctx.fillText("0", box.x, box.y + box.h + 14);
}

function niceStep(span) {
  const raw = span / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
}

/**
 * Draw the profile of a route on the canvas (resized to its box first).
 * @returns {object} the series drawn
 */
export function drawProfile(canvas, route, tier) {
  const s = profileSeries(route, tier);
  const rect = canvas.getBoundingClientRect();
  canvas.width = Math.max(200, Math.round(rect.width));
  canvas.height = Math.max(100, Math.round(rect.height));
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const box = { x: 56, y: 18, w: canvas.width - 70, h: canvas.height - 40 };
  const all = [...s.altitude, ...s.ground, ...s.bandLow, ...s.bandHigh].filter(Number.isFinite);
  const lo = Math.floor((Math.min(...all) - 20) / 10) * 10;
  const hi = Math.ceil((Math.max(...all) + 20) / 10) * 10;
  const dmax = Math.max(1, s.distance[s.distance.length - 1]);
  const X = s.distance.map((d) => box.x + (d / dmax) * box.w);
  const Y = (arr) => arr.map((v) => box.y + box.h - ((v - lo) / (hi - lo)) * box.h);
  axes(ctx, box, dmax, lo, hi);
  if (s.bandLow.length) {
    ctx.beginPath();
    ctx.fillStyle = "rgba(45, 164, 78, 0.15)";
    const yl = Y(s.bandLow);
    const yh = Y(s.bandHigh);
    X.forEach((x, i) => (i ? ctx.lineTo(x, yh[i]) : ctx.moveTo(x, yh[i])));
    for (let i = X.length - 1; i >= 0; i--) ctx.lineTo(X[i], yl[i]);
    ctx.closePath();
    ctx.fill();
    line(ctx, X, yl, "#2da44e", 1, [4, 3]);
    line(ctx, X, yh, "#2da44e", 1, [4, 3]);
  }
  line(ctx, X, Y(s.ground), "#8c6d46", 2);
  line(ctx, X, Y(s.altitude), "#111111", 2);
  ctx.fillStyle = "#1d2733";
  ctx.fillText("altitude", box.x + 6, 12);
  ctx.fillStyle = "#8c6d46";
  ctx.fillText("DEM ground", box.x + 66, 12);
  ctx.fillStyle = "#2da44e";
  ctx.fillText("tier band (certain)", box.x + 146, 12);
  return s;
}
